import { LOCAL_RECORD_NOTE, chinaTimeToEpochMs, yuanToFen } from '@mdl/protocol';
import type { ReportOverdueDataRequest, ResultItem, ResultPerson, UnsettledPerson } from '@mdl/protocol';
import type { Transaction, Updateable } from 'kysely';
import { insertNewItemRows, type NewItemRow } from '../db/item-rows.js';
import { findCardHolders } from '../db/person-rows.js';
import type { ArrearsItem, ArrearsItemTable, Batch, DB } from '../db/schema.js';
import type { AuditInput } from './audit.js';
import {
  type Applied,
  claimedKey,
  event,
  existingItems,
  newTraceId,
  personResult,
  type ProcessDeps,
  resolveSubject,
  type Subject,
} from './batch-items.js';
import { coverageProblem, type CoveragePolicy } from './coverage.js';

/** Why a re-report of an item already on the ledger is refused (docs/decisions.md "Item states"), or undefined. */
function reReportProblem(old: ArrearsItem, subject: Subject): string | undefined {
  if (old.state !== '0') return `该记录已${old.state === '1' ? '缴清' : '撤销'}，不能重新上报（请使用新的机构跟踪号）`;
  if (old.real_name && !subject.real) return '该记录已是实名记录，不能改为非实名';
  if (old.real_name && old.person_id !== subject.personId) return '身份信息与原欠费记录不一致';
  return undefined;
}

/** A person of a report batch once their identity is resolved: the items to store, or why none may be. */
interface PersonPlan {
  /** The person's place in the call. */
  index: number;
  who: { idNo: string; userName: string };
  subject: Subject;
  /** Per item of the person, in order. */
  items: PlannedItem[];
}

/** An item to insert, or why it is refused before the ledger is read. */
type PlannedItem = { orgTraceId: string; row: NewItemRow; problem?: undefined } | { orgTraceId: string; row?: undefined; problem: string };

/** ORG_002: a report batch's items onto the ledger; what it changed, for the read model, and its answer. */
export async function applyReport(
  deps: ProcessDeps,
  trx: Transaction<DB>,
  batch: Batch,
  payload: ReportOverdueDataRequest,
  events: AuditInput[],
  coverage: CoveragePolicy | undefined,
): Promise<Applied> {
  // Each person's answer and audit event, in the order of the call: refused persons are answered at once,
  // the others once the ledger has been written.
  const answers: { person: ResultPerson; event: AuditInput }[] = [];
  let rejected = 0;
  // One read for every card of the batch and one insert for every new item: a batch costs a handful of
  // round trips however many persons it carries.
  const cardIds = [...new Set((payload.unsettleList ?? []).map((p) => p.ehealthCardId).filter((c): c is string => Boolean(c)))];
  const cards = new Map(cardIds.length ? (await findCardHolders(trx, cardIds)).map((p) => [p.ehealth_card_id, p]) : []);
  const now = deps.now();
  const plans: PersonPlan[] = [];
  for (const [index, p] of (payload.unsettleList ?? []).entries()) {
    const who = { idNo: p.idNo ?? '', userName: p.userName ?? '' };
    const subject = await resolveSubject(deps, trx, batch.org_id, p, cards);
    if ('problem' in subject) {
      // A refused item gets a platform trace id of its own (quoted in the audit log) and state 2: the
      // platform holds no unpaid record for it (docs/decisions.md "Refused items").
      const items = p.itemList.map((i) => ({ orgTraceId: i.orgTraceId, traceId: newTraceId(now), state: '2' as const }));
      rejected += items.length;
      answers[index] = {
        person: personResult(
          who,
          items,
          items.map((i) => ({ orgTraceId: i.orgTraceId, msg: subject.problem })),
        ),
        event: event(batch, 'item.report', claimedKey(deps.vault, p), 'refused', {
          reason: subject.problem,
          traceIds: items.map((i) => i.traceId),
        }),
      };
      continue;
    }
    const identity = identityColumns(deps, p, subject);
    plans.push({ index, who, subject, items: p.itemList.map((it) => planItem(deps, batch, identity, subject, it, coverage, now)) });
  }
  // Most reported items are new: insert them all at once, and read (locked) only the ones already on the ledger
  // and the ones refused by coverage, whose answer quotes the stored record when there is one.
  const inserted = await insertNewItemRows(
    trx,
    plans.flatMap((p) => p.items.flatMap((i) => (i.row ? [i.row] : []))),
  );
  const existing = await existingItems(
    trx,
    batch.org_id,
    plans.flatMap((p) => p.items.filter((i) => !inserted.has(i.orgTraceId)).map((i) => i.orgTraceId)),
  );
  const touched = new Set<string>();
  let accepted = 0;
  for (const plan of plans) {
    const items: ResultItem[] = [];
    const failures: { orgTraceId: string; msg: string }[] = [];
    for (const { orgTraceId, row, problem: refusal } of plan.items) {
      if (row && inserted.has(orgTraceId)) {
        items.push({ orgTraceId, traceId: row.trace_id, state: '0' });
        touched.add(row.subject_bidx);
        continue;
      }
      const old = existing.get(orgTraceId);
      // Not inserted means the item is on the ledger (items are never deleted) and locked now.
      if (row && !old) throw new Error(`item ${orgTraceId} neither inserted nor found`);
      const problem = refusal ?? (old && reReportProblem(old, plan.subject));
      if (problem) {
        failures.push({ orgTraceId, msg: problem });
        items.push(old ? { orgTraceId, traceId: old.trace_id, state: old.state } : { orgTraceId, traceId: newTraceId(now), state: '2' });
        continue;
      }
      // Re-reporting an unpaid orgTraceId refreshes it; with a full identity it converts a non-real-name
      // item to real name and keeps its traceId (§3.1.10, docs/decisions.md "Real name").
      await trx.updateTable('arrears_item').set(reReported(row!, now)).where('id', '=', old!.id).execute();
      touched.add(row!.subject_bidx);
      items.push({ orgTraceId, traceId: old!.trace_id, state: old!.state });
    }
    accepted += items.length - failures.length;
    rejected += failures.length;
    const { subject } = plan;
    // Kept local although an identity was given: the answer says so, never silently (issue #13 item 1).
    answers[plan.index] = {
      person: personResult(plan.who, items, failures, !subject.real && subject.key ? LOCAL_RECORD_NOTE : undefined),
      event: event(batch, 'item.report', subject.key || null, failures.length ? 'refused' : 'ok', {
        items: items.length - failures.length,
        failures: failures.length ? failures : undefined,
        realName: subject.real,
      }),
    };
  }
  events.push(...answers.map((a) => a.event));
  const persons = answers.map((a) => a.person);
  const before = [...existing.values()].map((i) => i.subject_bidx);
  return { persons, accepted, rejected, touched, before };
}

/** The identity columns every item of a person carries, encrypted once for all of them. */
function identityColumns(deps: ProcessDeps, p: UnsettledPerson, subject: Subject) {
  return {
    real_name: subject.real,
    person_id: subject.personId,
    id_type: p.idType || null,
    id_no_enc: deps.vault.encryptOpt(p.idNo?.toUpperCase()),
    name_enc: deps.vault.encryptOpt(p.userName),
    phone_enc: deps.vault.encryptOpt(p.mobilePhone),
    ehealth_card_id: p.ehealthCardId || null,
    user_type: p.userType,
  };
}

/**
 * One reported item of a person whose identity holds: the ledger row it would be, or the coverage refusal.
 * The row is written out field by field: in Node 20 an object literal that spreads another and then adds
 * properties takes V8's slow path, about 1.5 µs per added property (17 µs per item here, 6 % of an ingest).
 */
function planItem(
  deps: ProcessDeps,
  batch: Batch,
  identity: ReturnType<typeof identityColumns>,
  subject: Subject,
  it: UnsettledPerson['itemList'][number],
  coverage: CoveragePolicy | undefined,
  now: number,
): PlannedItem {
  const problem = coverage && coverageProblem(coverage, it, now);
  if (problem) return { orgTraceId: it.orgTraceId, problem };
  const row: NewItemRow = {
    trace_id: newTraceId(now),
    org_id: batch.org_id,
    org_trace_id: it.orgTraceId,
    real_name: identity.real_name,
    person_id: identity.person_id,
    subject_bidx: subject.key || deps.vault.recordKey(batch.org_id, it.orgTraceId),
    id_type: identity.id_type,
    id_no_enc: identity.id_no_enc,
    name_enc: identity.name_enc,
    phone_enc: identity.phone_enc,
    ehealth_card_id: identity.ehealth_card_id,
    user_type: identity.user_type,
    med_type: it.medType,
    fee_type: it.feeType,
    item_name: it.itemName,
    amount_fen: yuanToFen(it.amount),
    actual_time: new Date(chinaTimeToEpochMs(it.actualTime)!),
    state: '0',
    report_batch_id: batch.id,
    last_batch_id: batch.id,
    settled_at: null,
  };
  return { orgTraceId: it.orgTraceId, row };
}

/** What a re-report of an unpaid item refreshes: everything the call says about it, but not its identity on the ledger. */
function reReported(row: NewItemRow, now: number): Updateable<ArrearsItemTable> {
  const { trace_id: _new, org_id: _org, org_trace_id: _id, state: _unpaid, report_batch_id: _first, settled_at: _none, ...refreshed } = row;
  return Object.assign(refreshed, { updated_at: new Date(now) });
}
