import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { batchWhere, itemWhere, type BatchFilter, type ItemFilter } from './batches.js';

/**
 * Totals over everything a console list's filter matches (not only the page shown), from the same
 * condition the list uses, so the sum under a table is the sum of what paging through it would show.
 */
export interface ItemTotals {
  count: number;
  amountFen: number;
  unpaidCount: number;
  unpaidFen: number;
}

export async function itemTotals(db: Kysely<DB>, org: string | undefined, f: ItemFilter): Promise<ItemTotals> {
  const r = await db
    .selectFrom('arrears_item as i')
    .select([
      sql<string>`count(*)`.as('count'),
      sql<string>`coalesce(sum(i.amount_fen), 0)`.as('amount'),
      sql<string>`count(*) filter (where i.state = '0')`.as('unpaid_count'),
      sql<string>`coalesce(sum(i.amount_fen) filter (where i.state = '0'), 0)`.as('unpaid'),
    ])
    .where(itemWhere(org, f))
    .executeTakeFirstOrThrow();
  return { count: Number(r.count), amountFen: Number(r.amount), unpaidCount: Number(r.unpaid_count), unpaidFen: Number(r.unpaid) };
}

export interface BatchTotals {
  count: number;
  items: number;
  failedCallbacks: number;
}

export async function batchTotals(db: Kysely<DB>, org: string | undefined, f: BatchFilter): Promise<BatchTotals> {
  const r = await db
    .selectFrom('batch as b')
    .select([
      sql<string>`count(*)`.as('count'),
      sql<string>`coalesce(sum(b.item_count), 0)`.as('items'),
      sql<string>`count(*) filter (where b.callback_status = 'failed')`.as('failed'),
    ])
    .where(batchWhere(org, f))
    .executeTakeFirstOrThrow();
  return { count: Number(r.count), items: Number(r.items), failedCallbacks: Number(r.failed) };
}
