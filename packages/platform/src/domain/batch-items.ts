import { chinaDate, chinaMidnight, identityProblem, isRealName } from '@mdl/protocol';
import type { ResultItem, ResultPerson, UnsettledPerson } from '@mdl/protocol';
import type { Kysely, Transaction } from 'kysely';
import type { CardHolder } from '../db/person-rows.js';
import type { ArrearsItem, Batch, DB } from '../db/schema.js';
import type { Vault } from '../vault.js';
import { auditEvent, type AuditAction, type AuditInput } from './audit.js';
import type { BatchResult } from './batches.js';
import type { CoveragePolicy } from './coverage.js';
import { checkRealName } from './persons.js';
import { publicRandomBytes } from '../random-pool.js';

/**
 * What applying a report (report-items.ts) and an update (update-items.ts) to the ledger share: who an item
 * belongs to, the answer per person, the audit event, the locked read of stored items.
 */

/** The trace ids' date part, kept for the day it was made: formatting a date costs more than the id's randomness. */
let traceDay = { day: NaN, text: '' };

/** Platform trace id: T + China date + 20 hex characters, 29 characters (guide: at most 40). */
export function newTraceId(now: number): string {
  const day = chinaMidnight(now);
  if (day !== traceDay.day) traceDay = { day, text: `T${chinaDate(now).replace(/-/g, '')}` };
  return traceDay.text + publicRandomBytes(10).toString('hex');
}

export interface ProcessDeps {
  db: Kysely<DB>;
  vault: Vault;
  now: () => number;
  /** Enqueues the result callback in the processing transaction, with the id of the request that sent the batch. */
  enqueueCallback(trx: Transaction<DB>, batchId: number, requestId: string | null): Promise<void>;
  /** The coverage policy (§1.2.3) items must be inside to be stored; none: every item is taken. */
  coverage?: () => Promise<CoveragePolicy>;
}

/** The items of an institution named by orgTraceId, locked for the rest of the transaction. */
export async function existingItems(trx: Transaction<DB>, orgId: string, orgTraceIds: string[]): Promise<Map<string, ArrearsItem>> {
  if (orgTraceIds.length === 0) return new Map();
  const rows = await trx
    .selectFrom('arrears_item')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('org_trace_id', 'in', orgTraceIds)
    .forUpdate()
    .execute();
  return new Map(rows.map((r) => [r.org_trace_id, r]));
}

export function event(batch: Batch, action: AuditAction, subject: string | null, outcome: 'ok' | 'refused', detail: unknown): AuditInput {
  return auditEvent('app', batch.app_id, action, {
    orgId: batch.org_id,
    subject,
    target: batch.org_request_id,
    outcome,
    requestId: batch.request_id,
    detail: JSON.stringify(detail),
  });
}

export interface Subject {
  real: boolean;
  personId: number | null;
  key: string;
}

type IdentityFields = Pick<Partial<UnsettledPerson>, 'idNo' | 'idType' | 'userName' | 'ehealthCardId'>;

/**
 * Real-name when all four identity fields are given (then the 强校验 against the master index),
 * non-real-name without a card (local to the institution, and the answer says so); an identity in between
 * is refused for that person (docs/decisions.md "Real name").
 */
export async function resolveSubject(
  deps: ProcessDeps,
  trx: Transaction<DB>,
  orgId: string,
  p: IdentityFields,
  cards?: Map<string, CardHolder>,
): Promise<Subject | { problem: string }> {
  const problem = identityProblem(p);
  if (problem) return { problem };
  if (isRealName(p)) {
    const who = { idType: p.idType!, idNo: p.idNo!, userName: p.userName!, ehealthCardId: p.ehealthCardId! };
    const check = await checkRealName(trx, deps.vault, who, cards);
    if ('problem' in check) return check;
    // The 强校验 matched the card's person to this identity: their blind index is its key.
    return { real: true, personId: check.person.id, key: check.person.id_no_bidx };
  }
  // Without an idNo the patient cannot be told apart from another: each record is a subject of its own
  // (key '' here, vault.recordKey per item), never one pooled subject per institution (issue #13 item 8).
  if (!p.idNo) return { real: false, personId: null, key: '' };
  return { real: false, personId: null, key: deps.vault.localKey(orgId, p.idType ?? '', p.idNo, p.userName ?? '') };
}

/**
 * The blind index of the identity a refused person or call claims, for its audit event: null when it names no
 * idType and idNo. Made only for the refused: an accepted subject's key is already known.
 */
export function claimedKey(vault: Vault, p: IdentityFields): string | null {
  return p.idType && p.idNo ? vault.personKey(p.idType, p.idNo) : null;
}

/** What a batch did: its answer, and the subject keys of the items it wrote, where they were and are now. */
export interface Applied extends BatchResult {
  touched: Set<string>;
  before: string[];
}

/** A person's answer in ORG_002 / ORG_MDL_005: the reasons of refused items in `extData` (docs/error-codes.md). */
export function personResult(
  who: { idNo: string; userName: string },
  items: ResultItem[],
  failures: { orgTraceId: string; msg: string }[],
  note?: string,
): ResultPerson {
  const noted = note ? { note } : {};
  if (failures.length === 0) return { ...who, itemList: items, ...(note ? { extData: noted } : {}) };
  const result = failures.length === items.length ? 'fail' : 'partial';
  const msg = [...new Set(failures.map((f) => f.msg))].join('；');
  return { ...who, itemList: items, extData: { result, msg, failures, ...noted } };
}
