import { maskIdNo, maskName } from '@mdl/protocol';
import type { Expression, ExpressionBuilder, Kysely, SqlBool } from 'kysely';
import type { DB } from '../../db/schema.js';
import { readResult } from '../batches.js';
import type { Vault } from '../../vault.js';

/**
 * Batches, items and callback attempts as the console shows them. `org` (institution staff) is applied
 * in every query, so a changed id in a URL finds nothing of another institution.
 */
export const PAGE_SIZE = 50;

export interface BatchFilter {
  orgId?: string | undefined;
  callbackStatus?: string | undefined;
  page?: number | undefined;
}

/** The batch list's filter as one condition, shared by the list, its totals and its CSV (domain/console/list-totals.ts). */
export function batchWhere(org: string | undefined, f: BatchFilter) {
  return (eb: ExpressionBuilder<{ b: DB['batch'] }, 'b'>) => {
    const c: Expression<SqlBool>[] = [];
    if (org !== undefined) c.push(eb('b.org_id', '=', org));
    if (f.orgId) c.push(eb('b.org_id', '=', f.orgId));
    if (f.callbackStatus) c.push(eb('b.callback_status', '=', f.callbackStatus as 'failed'));
    return eb.and(c);
  };
}

export async function listBatches(db: Kysely<DB>, org: string | undefined, f: BatchFilter & { limit?: number }) {
  return db
    .selectFrom('batch as b')
    .leftJoin('institution as o', 'o.org_id', 'b.org_id')
    .select([
      'b.id',
      'b.org_id',
      'o.org_name',
      'b.org_request_id',
      'b.kind',
      'b.item_count',
      'b.status',
      'b.accepted_count',
      'b.rejected_count',
      'b.callback_status',
      'b.callback_attempts',
      'b.received_at',
      'b.processed_at',
      'b.delivered_at',
    ])
    .where(batchWhere(org, f))
    .orderBy('b.id', 'desc')
    .limit((f.limit ?? PAGE_SIZE) + 1)
    .offset(((f.page ?? 1) - 1) * (f.limit ?? PAGE_SIZE))
    .execute();
}

export interface ItemView {
  id: number;
  traceId: string;
  orgId: string;
  orgTraceId: string;
  realName: boolean;
  name: string;
  idNo: string;
  itemName: string;
  medType: string;
  amountFen: number;
  actualTime: Date;
  state: '0' | '1' | '2';
  settledAt: Date | null;
  reportBatchId: number;
  lastBatchId: number;
}

/** Personal fields are decrypted only to be masked: the console never shows a full name or ID number. */
export function itemView(vault: Vault, r: ItemRow): ItemView {
  return {
    id: r.id,
    traceId: r.trace_id,
    orgId: r.org_id,
    orgTraceId: r.org_trace_id,
    realName: r.real_name,
    name: r.name_enc ? maskName(vault.decrypt(r.name_enc)) : '',
    idNo: r.id_no_enc ? maskIdNo(vault.decrypt(r.id_no_enc)) : '',
    itemName: r.item_name,
    medType: r.med_type,
    amountFen: Number(r.amount_fen),
    actualTime: r.actual_time,
    state: r.state,
    settledAt: r.settled_at,
    reportBatchId: r.report_batch_id,
    lastBatchId: r.last_batch_id,
  };
}

export const ITEM_COLUMNS = [
  'i.id',
  'i.trace_id',
  'i.org_id',
  'i.org_trace_id',
  'i.real_name',
  'i.name_enc',
  'i.id_no_enc',
  'i.item_name',
  'i.med_type',
  'i.amount_fen',
  'i.actual_time',
  'i.state',
  'i.settled_at',
  'i.report_batch_id',
  'i.last_batch_id',
] as const;
export type ItemRow = {
  id: number;
  trace_id: string;
  org_id: string;
  org_trace_id: string;
  real_name: boolean;
  name_enc: string | null;
  id_no_enc: string | null;
  item_name: string;
  med_type: string;
  amount_fen: number;
  actual_time: Date;
  state: '0' | '1' | '2';
  settled_at: Date | null;
  report_batch_id: number;
  last_batch_id: number;
};

export async function batchDetail(db: Kysely<DB>, vault: Vault, org: string | undefined, id: number) {
  const batch = await db
    .selectFrom('batch as b')
    .leftJoin('institution as o', 'o.org_id', 'b.org_id')
    .selectAll('b')
    .select('o.org_name')
    .where('b.id', '=', id)
    .$if(org !== undefined, (qb) => qb.where('b.org_id', '=', org!))
    .executeTakeFirst();
  if (!batch) return undefined;
  const items = await db
    .selectFrom('arrears_item as i')
    .select(ITEM_COLUMNS)
    .where('i.org_id', '=', batch.org_id)
    .where((eb) => eb.or([eb('i.report_batch_id', '=', batch.id), eb('i.last_batch_id', '=', batch.id)]))
    .orderBy('i.id')
    .limit(500)
    .execute();
  const attempts = await db.selectFrom('callback_attempt').selectAll().where('batch_id', '=', batch.id).orderBy('attempt').execute();
  const result = readResult(vault, batch);
  // Result lists carry names and ID numbers: masked before they reach a page.
  const persons = (result?.persons ?? []).map((p) => ({
    ...p,
    idNo: p.idNo ? maskIdNo(p.idNo) : '',
    userName: p.userName ? maskName(p.userName) : '',
  }));
  return {
    batch,
    items: items.map((r) => itemView(vault, r as ItemRow)),
    attempts,
    result: result ? { accepted: result.accepted, rejected: result.rejected, persons } : undefined,
  };
}

export interface ItemFilter {
  orgId?: string | undefined;
  state?: string | undefined;
  traceId?: string | undefined;
  page?: number | undefined;
}

/** The record list's filter as one condition, shared by the list, its totals and its CSV. */
export function itemWhere(org: string | undefined, f: ItemFilter) {
  return (eb: ExpressionBuilder<{ i: DB['arrears_item'] }, 'i'>) => {
    const c: Expression<SqlBool>[] = [];
    if (org !== undefined) c.push(eb('i.org_id', '=', org));
    if (f.orgId) c.push(eb('i.org_id', '=', f.orgId));
    if (f.state && ['0', '1', '2'].includes(f.state)) c.push(eb('i.state', '=', f.state as '0'));
    if (f.traceId) c.push(eb.or([eb('i.trace_id', '=', f.traceId), eb('i.org_trace_id', '=', f.traceId)]));
    return eb.and(c);
  };
}

export async function listItems(
  db: Kysely<DB>,
  vault: Vault,
  org: string | undefined,
  f: ItemFilter & { limit?: number },
): Promise<ItemView[]> {
  const rows = await db
    .selectFrom('arrears_item as i')
    .select(ITEM_COLUMNS)
    .where(itemWhere(org, f))
    .orderBy('i.id', 'desc')
    .limit((f.limit ?? PAGE_SIZE) + 1)
    .offset(((f.page ?? 1) - 1) * (f.limit ?? PAGE_SIZE))
    .execute();
  return rows.map((r) => itemView(vault, r as ItemRow));
}

export async function listAttempts(db: Kysely<DB>, org: string | undefined, limit = 100) {
  return db
    .selectFrom('callback_attempt as a')
    .innerJoin('batch as b', 'b.id', 'a.batch_id')
    .select([
      'a.id',
      'a.batch_id',
      'a.attempt',
      'a.url',
      'a.started_at',
      'a.duration_ms',
      'a.http_status',
      'a.outcome',
      'a.detail',
      'b.org_id',
      'b.org_request_id',
    ])
    .$if(org !== undefined, (qb) => qb.where('b.org_id', '=', org!))
    .orderBy('a.id', 'desc')
    .limit(limit)
    .execute();
}

/** The ids of batches whose callback finally failed, oldest first (the console's "resend all"). */
export async function failedCallbackBatches(db: Kysely<DB>, limit: number): Promise<number[]> {
  const rows = await db.selectFrom('batch').select('id').where('callback_status', '=', 'failed').orderBy('id').limit(limit).execute();
  return rows.map((r) => r.id);
}
