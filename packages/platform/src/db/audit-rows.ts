import type { Kysely } from 'kysely';
import type { DB, NewAuditEvent } from './schema.js';
import { unnestInsert } from './unnest-insert.js';

type AuditRow = Omit<NewAuditEvent, 'id' | 'at'>;

const AUDIT_INSERT = {
  name: 'mdl_audit_insert',
  table: 'audit_event',
  columns: [
    ['actor_type', 'text'],
    ['actor_id', 'text'],
    ['org_id', 'text'],
    ['subject_bidx', 'text'],
    ['action', 'text'],
    ['target', 'text'],
    ['outcome', 'text'],
    ['resp_code', 'text'],
    ['request_id', 'text'],
    ['detail', 'text'],
  ],
} as const;

/** Appends audit events in one prepared statement however many a group carries (it runs for every ORG_MDL_002). */
export async function insertAuditRows(db: Kysely<DB>, rows: AuditRow[]): Promise<void> {
  await unnestInsert(db, AUDIT_INSERT, rows);
}
