import { sql, type Kysely } from 'kysely';
import { prepared } from './prepared.js';
import type { DB, NewAuditEvent } from './schema.js';

type AuditRow = Omit<NewAuditEvent, 'id' | 'at'>;

/**
 * Appends audit events in one statement of fixed text: the columns go as arrays and `unnest` turns them back into
 * rows, so however many events a group carries the statement is prepared once per connection (no planning, no
 * query building per group: the audit insert runs for every ORG_MDL_002). Rows keep their order, and so their ids.
 */
export async function insertAuditRows(db: Kysely<DB>, rows: AuditRow[]): Promise<void> {
  if (rows.length === 0) return;
  const col = <K extends keyof AuditRow>(k: K) => rows.map((r) => r[k] ?? null);
  await sql`${prepared('mdl_audit_insert')}INSERT INTO audit_event
    (actor_type, actor_id, org_id, subject_bidx, action, target, outcome, resp_code, request_id, detail)
    SELECT * FROM unnest(${col('actor_type')}::text[], ${col('actor_id')}::text[], ${col('org_id')}::text[],
      ${col('subject_bidx')}::text[], ${col('action')}::text[], ${col('target')}::text[], ${col('outcome')}::text[],
      ${col('resp_code')}::text[], ${col('request_id')}::text[], ${col('detail')}::text[])`.execute(db);
}
