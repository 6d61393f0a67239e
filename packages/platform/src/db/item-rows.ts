import type { Insertable, Kysely } from 'kysely';
import type { ArrearsItemTable, DB } from './schema.js';
import { unnestInsert } from './unnest-insert.js';

/** A new ledger item; `id`, `created_at` and `updated_at` come from their defaults. */
export type NewItemRow = Omit<Insertable<ArrearsItemTable>, 'id' | 'created_at' | 'updated_at'>;

const ITEM_INSERT = {
  name: 'mdl_item_insert',
  table: 'arrears_item',
  columns: [
    ['trace_id', 'text'],
    ['org_id', 'text'],
    ['org_trace_id', 'text'],
    ['real_name', 'boolean'],
    ['person_id', 'bigint'],
    ['subject_bidx', 'text'],
    ['id_type', 'text'],
    ['id_no_enc', 'text'],
    ['name_enc', 'text'],
    ['phone_enc', 'text'],
    ['ehealth_card_id', 'text'],
    ['user_type', 'text'],
    ['med_type', 'text'],
    ['fee_type', 'text'],
    ['item_name', 'text'],
    ['amount_fen', 'bigint'],
    ['actual_time', 'timestamptz'],
    ['state', 'text'],
    ['report_batch_id', 'bigint'],
    ['last_batch_id', 'bigint'],
    ['settled_at', 'timestamptz'],
  ],
} as const;

/** A batch's new items in one prepared statement (processing, per batch). */
export async function insertItemRows(db: Kysely<DB>, rows: NewItemRow[]): Promise<void> {
  await unnestInsert(db, ITEM_INSERT, rows);
}
