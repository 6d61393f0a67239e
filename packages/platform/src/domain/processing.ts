import { ITEM_STATES, LOCAL_RECORD_NOTE, chinaDate, chinaTimeToEpochMs, identityProblem, isRealName, yuanToFen } from '@mdl/protocol';
import type { ReportOverdueDataRequest, ResultItem, ResultPerson, UnsettledPerson, UpdateOverdueDataRequest } from '@mdl/protocol';
import type { Kysely, Transaction } from 'kysely';
import { insertItemRows, type NewItemRow } from '../db/item-rows.js';
import type { ArrearsItem, ArrearsItemTable, Batch, DB, Person } from '../db/schema.js';
import type { Updateable } from 'kysely';
import type { Vault } from '../vault.js';
import { auditEvent, type AuditAction, auditMany, type AuditInput } from './audit.js';
import type { BatchResult } from './batches.js';
import { coverageProblem, type CoveragePolicy } from './coverage.js';
import { checkRealName } from './persons.js';
import { refreshSubjects } from './subjects.js';
import { publicRandomBytes } from '../random-pool.js';

/** Platform trace id: T + China date + 20 hex characters, 29 characters (guide: at most 40). */
export function newTraceId(now: number): string {
  const d = chinaDate(now).replace(/-/g, '');
  return `T${d}${publicRandomBytes(10).toString('hex')}`;
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

/**
 * Applies a stored batch to the ledger in one transaction, then enqueues its callback in the same
 * transaction. Safe to run again: a batch already done is left alone, and item identity is
 * (orgId, orgTraceId), so a retry after a crash never double-counts.
 */
export async function processBatch(deps: ProcessDeps, batchId: number): Promise<'done' | 'already-done' | 'missing'> {
  // Read before the transaction: the embedded database has one connection, held by the transaction.
  const coverage = deps.coverage ? await deps.coverage() : undefined;
  return deps.db.transaction().execute(async (trx) => {
    const batch = await trx.selectFrom('batch').selectAll().where('id', '=', batchId).forUpdate().executeTakeFirst();
    if (!batch) return 'missing' as const;
    if (batch.status === 'done') return 'already-done' as const;
    const payload = JSON.parse(deps.vault.decrypt(batch.payload_enc)) as ReportOverdueDataRequest | UpdateOverdueDataRequest;
    const events: AuditInput[] = [];
    // The items the batch names, locked: what they are now, and the subjects they belong to before the batch.
    const existing = await existingItems(trx, batch.org_id, itemIdsOf(batch, payload));
    const { touched, ...result } =
      batch.kind === 'REPORT'
        ? await applyReport(deps, trx, batch, payload as ReportOverdueDataRequest, existing, events, coverage)
        : await applyUpdate(deps, trx, batch, payload as UpdateOverdueDataRequest, existing, events);
    await trx
      .updateTable('batch')
      .set({
        status: 'done',
        processed_at: new Date(deps.now()),
        accepted_count: result.accepted,
        rejected_count: result.rejected,
        result_enc: deps.vault.encrypt(JSON.stringify(result)),
      })
      .where('id', '=', batch.id)
      .execute();
    // The read model follows every subject the batch touched: the items' subjects before (read locked above,
    // so a concurrent batch that moved one has committed) and after (the keys the batch wrote).
    if (touched.size > 0) await refreshSubjects(trx, [...[...existing.values()].map((i) => i.subject_bidx), ...touched]);
    await auditMany(trx, events);
    await deps.enqueueCallback(trx, batch.id, batch.request_id);
    return 'done' as const;
  });
}

function itemIdsOf(batch: Batch, payload: ReportOverdueDataRequest | UpdateOverdueDataRequest): string[] {
  if (batch.kind === 'REPORT')
    return ((payload as ReportOverdueDataRequest).unsettleList ?? []).flatMap((p) => p.itemList.map((i) => i.orgTraceId));
  return ((payload as UpdateOverdueDataRequest).itemList ?? []).map((i) => i.orgTraceId);
}

async function existingItems(trx: Transaction<DB>, orgId: string, orgTraceIds: string[]): Promise<Map<string, ArrearsItem>> {
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

function event(batch: Batch, action: AuditAction, subject: string | null, outcome: 'ok' | 'refused', detail: unknown): AuditInput {
  return auditEvent('app', batch.app_id, action, {
    orgId: batch.org_id,
    subject,
    target: batch.org_request_id,
    outcome,
    requestId: batch.request_id,
    detail: JSON.stringify(detail),
  });
}

interface Subject {
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
async function resolveSubject(
  deps: ProcessDeps,
  trx: Transaction<DB>,
  orgId: string,
  p: IdentityFields,
  cards?: Map<string, Person>,
): Promise<Subject | { problem: string }> {
  const problem = identityProblem(p);
  if (problem) return { problem };
  if (isRealName(p)) {
    const who = { idType: p.idType!, idNo: p.idNo!, userName: p.userName!, ehealthCardId: p.ehealthCardId! };
    const check = await checkRealName(trx, deps.vault, who, cards);
    if ('problem' in check) return check;
    return { real: true, personId: check.person.id, key: deps.vault.personKey(who.idType, who.idNo) };
  }
  // Without an idNo the patient cannot be told apart from another: each record is a subject of its own
  // (key '' here, vault.recordKey per item), never one pooled subject per institution (issue #13 item 8).
  if (!p.idNo) return { real: false, personId: null, key: '' };
  return { real: false, personId: null, key: deps.vault.localKey(orgId, p.idType ?? '', p.idNo, p.userName ?? '') };
}

/** What a batch did: its answer, and the subject keys of every item it wrote (where the items are now). */
interface Applied extends BatchResult {
  touched: Set<string>;
}

/** A person's answer in ORG_002 / ORG_MDL_005: the reasons of refused items in `extData` (docs/error-codes.md). */
function personResult(
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

/** Why a re-report of an item already on the ledger is refused (docs/decisions.md "Item states"), or undefined. */
function reReportProblem(old: ArrearsItem, subject: Subject): string | undefined {
  if (old.state !== '0') return `该记录已${old.state === '1' ? '缴清' : '撤销'}，不能重新上报（请使用新的机构跟踪号）`;
  if (old.real_name && !subject.real) return '该记录已是实名记录，不能改为非实名';
  if (old.real_name && old.person_id !== subject.personId) return '身份信息与原欠费记录不一致';
  return undefined;
}

async function applyReport(
  deps: ProcessDeps,
  trx: Transaction<DB>,
  batch: Batch,
  payload: ReportOverdueDataRequest,
  existing: Map<string, ArrearsItem>,
  events: AuditInput[],
  coverage: CoveragePolicy | undefined,
): Promise<Applied> {
  const persons: ResultPerson[] = [];
  const touched = new Set<string>();
  let accepted = 0;
  let rejected = 0;
  // One read for every card of the batch and one insert for every new item: a batch costs a handful of
  // round trips however many persons it carries.
  const cardIds = [...new Set((payload.unsettleList ?? []).map((p) => p.ehealthCardId).filter((c): c is string => Boolean(c)))];
  const cards = new Map(
    cardIds.length
      ? (await trx.selectFrom('person').selectAll().where('ehealth_card_id', 'in', cardIds).execute()).map((p) => [p.ehealth_card_id, p])
      : [],
  );
  const fresh: NewItemRow[] = [];
  const now = deps.now();
  for (const p of payload.unsettleList ?? []) {
    const who = { idNo: p.idNo ?? '', userName: p.userName ?? '' };
    const subject = await resolveSubject(deps, trx, batch.org_id, p, cards);
    if ('problem' in subject) {
      // A refused item gets a platform trace id of its own (quoted in the audit log) and state 2: the
      // platform holds no unpaid record for it (docs/decisions.md "Refused items").
      const items = p.itemList.map((i) => ({ orgTraceId: i.orgTraceId, traceId: newTraceId(now), state: '2' as const }));
      rejected += items.length;
      persons.push(
        personResult(
          who,
          items,
          items.map((i) => ({ orgTraceId: i.orgTraceId, msg: subject.problem })),
        ),
      );
      events.push(
        event(batch, 'item.report', p.idType && p.idNo ? deps.vault.personKey(p.idType, p.idNo) : null, 'refused', {
          reason: subject.problem,
          traceIds: items.map((i) => i.traceId),
        }),
      );
      continue;
    }
    const identity = {
      real_name: subject.real,
      person_id: subject.personId,
      subject_bidx: subject.key,
      id_type: p.idType || null,
      id_no_enc: deps.vault.encryptOpt(p.idNo?.toUpperCase()),
      name_enc: deps.vault.encryptOpt(p.userName),
      phone_enc: deps.vault.encryptOpt(p.mobilePhone),
      ehealth_card_id: p.ehealthCardId || null,
      user_type: p.userType,
    };
    const items: ResultItem[] = [];
    const failures: { orgTraceId: string; msg: string }[] = [];
    for (const it of p.itemList) {
      const old = existing.get(it.orgTraceId);
      const problem = (coverage && coverageProblem(coverage, it, now)) || (old && reReportProblem(old, subject));
      if (problem) {
        failures.push({ orgTraceId: it.orgTraceId, msg: problem });
        items.push(
          old
            ? { orgTraceId: it.orgTraceId, traceId: old.trace_id, state: old.state }
            : { orgTraceId: it.orgTraceId, traceId: newTraceId(now), state: '2' },
        );
        continue;
      }
      const subjectKey = subject.key || deps.vault.recordKey(batch.org_id, it.orgTraceId);
      const details = {
        subject_bidx: subjectKey,
        med_type: it.medType,
        fee_type: it.feeType,
        item_name: it.itemName,
        amount_fen: yuanToFen(it.amount),
        actual_time: new Date(chinaTimeToEpochMs(it.actualTime)!),
      };
      if (!old) {
        const traceId = newTraceId(now);
        items.push({ orgTraceId: it.orgTraceId, traceId, state: '0' });
        fresh.push({
          ...identity,
          ...details,
          trace_id: traceId,
          org_id: batch.org_id,
          org_trace_id: it.orgTraceId,
          state: '0' as const,
          report_batch_id: batch.id,
          last_batch_id: batch.id,
          settled_at: null,
        });
        continue;
      }
      // Re-reporting an unpaid orgTraceId refreshes it; with a full identity it converts a non-real-name
      // item to real name and keeps its traceId (§3.1.10, docs/decisions.md "Real name").
      await trx
        .updateTable('arrears_item')
        .set({ ...identity, ...details, last_batch_id: batch.id, updated_at: new Date(now) })
        .where('id', '=', old.id)
        .execute();
      touched.add(subjectKey);
      items.push({ orgTraceId: it.orgTraceId, traceId: old.trace_id, state: old.state });
    }
    accepted += items.length - failures.length;
    rejected += failures.length;
    // Kept local although an identity was given: the answer says so, never silently (issue #13 item 1).
    persons.push(personResult(who, items, failures, !subject.real && subject.key ? LOCAL_RECORD_NOTE : undefined));
    events.push(
      event(batch, 'item.report', subject.key || null, failures.length ? 'refused' : 'ok', {
        items: items.length - failures.length,
        failures: failures.length ? failures : undefined,
        realName: subject.real,
      }),
    );
  }
  await insertItemRows(trx, fresh);
  for (const f of fresh) touched.add(f.subject_bidx!);
  return { persons, accepted, rejected, touched };
}

/**
 * The item state machine of docs/decisions.md "Item states": 0 → 1 (paid), 0 → 2 (revoked), the same state
 * again is a no-op; anything else is refused with the reason. ORG_MDL_003 and the staff portal
 * (domain/item-state.ts) both ask here, so the two cannot drift apart.
 */
export function stateChangeProblem(from: '0' | '1' | '2', to: '1' | '2'): string | undefined {
  if (from !== '0' && from !== to) return `状态不能从 ${from}（${ITEM_STATES[from]}）改为 ${to}（${ITEM_STATES[to]}）`;
  return undefined;
}

/**
 * ORG_MDL_003 per item, by the state machine of docs/decisions.md "Item states": 0 → 1 (paid) and
 * 0 → 2 (revoked); the same state again is a no-op answered with success; everything else is refused
 * for that item with its current state and the reason. A real-name item needs the full identity,
 * matching its person (强校验), whatever the call carries; an identity on a non-real-name item converts
 * it to real name (§3.1.10).
 */
async function applyUpdate(
  deps: ProcessDeps,
  trx: Transaction<DB>,
  batch: Batch,
  payload: UpdateOverdueDataRequest,
  existing: Map<string, ArrearsItem>,
  events: AuditInput[],
): Promise<Applied> {
  const who = { idNo: payload.idNo ?? '', userName: payload.userName ?? '' };
  const subject = await resolveSubject(deps, trx, batch.org_id, payload);
  const subjectKey = payload.idType && payload.idNo ? deps.vault.personKey(payload.idType, payload.idNo) : null;
  const touched = new Set<string>();
  const now = new Date(deps.now());
  const items: ResultItem[] = [];
  const failures: { orgTraceId: string; msg: string }[] = [];
  for (const it of payload.itemList) {
    const row = existing.get(it.orgTraceId);
    const to = it.state as '1' | '2';
    let problem: string | undefined;
    if (!row || row.trace_id !== it.traceId) problem = '未找到对应的欠费记录（orgTraceId 与 traceId 不匹配）';
    else if ('problem' in subject) problem = subject.problem;
    else if (row.real_name && !subject.real) problem = '实名欠费记录的更新须提供 idNo、idType、userName、ehealthCardId 并通过强校验';
    else if (row.real_name && row.person_id !== subject.personId) problem = '身份信息与原欠费记录不一致';
    else problem = stateChangeProblem(row.state, to);
    if (problem || !row || 'problem' in subject) {
      failures.push({ orgTraceId: it.orgTraceId, msg: problem! });
      items.push({ orgTraceId: it.orgTraceId, traceId: row?.trace_id ?? it.traceId, state: row?.state ?? '2' });
      continue;
    }
    const set: Updateable<ArrearsItemTable> = { last_batch_id: batch.id, updated_at: now };
    if (subject.real && !row.real_name) {
      // §3.1.10: a non-real-name record becomes the person's, province-wide.
      Object.assign(set, {
        real_name: true,
        person_id: subject.personId,
        subject_bidx: subject.key,
        id_type: payload.idType,
        id_no_enc: deps.vault.encrypt(payload.idNo!.toUpperCase()),
        name_enc: deps.vault.encrypt(payload.userName!),
        ehealth_card_id: payload.ehealthCardId,
      });
    }
    if (row.state !== to) Object.assign(set, { state: to, settled_at: now });
    await trx.updateTable('arrears_item').set(set).where('id', '=', row.id).execute();
    touched.add((set.subject_bidx as string | undefined) ?? row.subject_bidx);
    items.push({ orgTraceId: it.orgTraceId, traceId: row.trace_id, state: to });
  }
  const accepted = items.length - failures.length;
  events.push(
    event(batch, 'item.update', 'problem' in subject ? subjectKey : subject.key || null, failures.length ? 'refused' : 'ok', {
      accepted,
      failures: failures.length ? failures : undefined,
    }),
  );
  return { persons: [personResult(who, items, failures)], accepted, rejected: failures.length, touched };
}
