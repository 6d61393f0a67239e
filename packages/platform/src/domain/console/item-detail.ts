import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Vault } from '../../vault.js';
import { ITEM_COLUMNS, itemView, type ItemRow, type ItemView } from './batches.js';

/**
 * One record as the console's detail page shows it: the record (names and ID numbers masked), its
 * institution's name, the batches that reported and last changed it, and its appeals. `org` (institution
 * staff) is part of the query, so another institution's id finds nothing and the page answers 404.
 */
export interface ItemDetail {
  item: ItemView & { feeType: string; userType: string; createdAt: Date; updatedAt: Date };
  orgName: string;
  batches: { id: number; org_request_id: string; kind: 'REPORT' | 'UPDATE'; received_at: Date }[];
  appeals: { id: number; reason: string; status: string; created_at: Date; decided_at: Date | null }[];
}

export async function itemDetail(db: Kysely<DB>, vault: Vault, org: string | undefined, id: number): Promise<ItemDetail | undefined> {
  const row = await db
    .selectFrom('arrears_item as i')
    .leftJoin('institution as o', 'o.org_id', 'i.org_id')
    .select([...ITEM_COLUMNS, 'i.fee_type', 'i.user_type', 'i.created_at', 'i.updated_at', 'o.org_name'])
    .where('i.id', '=', id)
    .$if(org !== undefined, (qb) => qb.where('i.org_id', '=', org!))
    .executeTakeFirst();
  if (!row) return undefined;
  const batches = await db
    .selectFrom('batch')
    .select(['id', 'org_request_id', 'kind', 'received_at'])
    .where('org_id', '=', row.org_id)
    .where('id', 'in', [row.report_batch_id, row.last_batch_id])
    .orderBy('id')
    .execute();
  const appeals = await db
    .selectFrom('appeal')
    .select(['id', 'reason', 'status', 'created_at', 'decided_at'])
    .where('item_id', '=', row.id)
    .orderBy('id')
    .execute();
  return {
    item: {
      ...itemView(vault, row as unknown as ItemRow),
      feeType: row.fee_type,
      userType: row.user_type,
      createdAt: row.created_at as Date,
      updatedAt: row.updated_at as Date,
    },
    orgName: row.org_name ?? row.org_id,
    batches,
    appeals,
  };
}
