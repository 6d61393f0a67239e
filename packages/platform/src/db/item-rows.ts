import type { Insertable, Kysely } from 'kysely';
import type { ArrearsItemTable, DB } from './schema.js';
import { unnestInsert } from './unnest-insert.js';

/** A new ledger item; `id`, `created_at` and `updated_at` come from their defaults. */
export type NewItemRow = Omit<Insertable<ArrearsItemTable>, 'id' | 'created_at' | 'updated_at'>;

const ITEM_INSERT = {
  name: 'mdl_item_insert_new',
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
  // An item already on the ledger is skipped, not an error: the caller learns which were new from what comes
  // back, and reads only the others. A concurrent batch inserting the same item makes this one wait for it.
  tail: ' ON CONFLICT (org_id, org_trace_id) DO NOTHING RETURNING org_trace_id',
} as const;

/**
 * A batch's items in one prepared statement (processing, per batch), each inserted only if its
 * (org_id, org_trace_id) is not on the ledger yet. Returns the org trace ids it inserted.
 */
export async function insertNewItemRows(db: Kysely<DB>, rows: NewItemRow[]): Promise<Set<string>> {
  const inserted = await unnestInsert<NewItemRow, { org_trace_id: string }>(db, ITEM_INSERT, rows);
  return new Set(inserted.map((r) => r.org_trace_id));
}
