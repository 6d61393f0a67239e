import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';

/**
 * Scheduled reconciliation (issue #4 §5): unpaid items under an open appeal, or whose last ORG_001
 * refresh got no answer, are asked about again. Returns the item ids to re-check; the caller enqueues
 * one refresh job per item (deduplicated by item). Institutions without a registered ORG_001 endpoint are
 * left out: asking cannot succeed until the operator registers one.
 */
export async function itemsToReconcile(db: Kysely<DB>, limit = 1000): Promise<number[]> {
  const underAppeal = await db
    .selectFrom('arrears_item as i')
    .innerJoin('appeal as a', 'a.item_id', 'i.id')
    .innerJoin('institution as o', 'o.org_id', 'i.org_id')
    .select('i.id')
    .where('o.endpoint_url', 'is not', null)
    .where('i.state', '=', '0')
    .where('a.status', 'in', ['open', 'answered'])
    .limit(limit)
    .execute();
  const failed = await db
    .selectFrom('arrears_item as i')
    .innerJoin('item_refresh as r', 'r.item_id', 'i.id')
    .innerJoin('institution as o', 'o.org_id', 'i.org_id')
    .select('i.id')
    .where('o.endpoint_url', 'is not', null)
    .where('i.state', '=', '0')
    .where('r.status', '=', 'failed')
    .orderBy('r.last_attempt_at')
    .limit(limit)
    .execute();
  return [...new Set([...underAppeal, ...failed].map((r) => r.id))];
}
