import { maskName } from '@mdl/protocol';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Vault } from '../../vault.js';

/**
 * Console views over tables the citizen app (issue #4) owns: the reminder outbox (`reminder`) and the
 * ORG_001 refresh / reconciliation state of items (`item_refresh`). Raw SQL keeps this reader to the few
 * columns it shows, so the citizen app stays free to evolve the rest of its schema.
 */
export interface ReminderRow {
  id: number;
  createdAt: Date;
  person: string;
  channel: string;
  status: string;
  unpaidCount: number;
  totalFen: number;
  orgs: string[];
  message: string;
  attempts: number;
  lastError: string | null;
  sentAt: Date | null;
}

/** The outbox, newest first. Operators and auditors only: one reminder spans several institutions. */
export async function listReminders(db: Kysely<DB>, vault: Vault, status: string | undefined, limit = 200): Promise<ReminderRow[]> {
  const where = status ? sql`WHERE r.status = ${status}` : sql``;
  const r = await sql<{
    id: number;
    created_at: Date;
    name_enc: string | null;
    channel: string;
    status: string;
    unpaid_count: number;
    total_fen: string | number;
    org_summary: string;
    message: string;
    attempts: number;
    last_error: string | null;
    sent_at: Date | null;
  }>`SELECT r.id, r.created_at, p.name_enc, r.channel, r.status, r.unpaid_count, r.total_fen, r.org_summary, r.message,
            r.attempts, r.last_error, r.sent_at
       FROM reminder r LEFT JOIN person p ON p.id = r.person_id ${where}
      ORDER BY r.id DESC LIMIT ${limit}`.execute(db);
  return r.rows.map((x) => {
    let orgs: string[] = [];
    try {
      orgs = (JSON.parse(x.org_summary) as { orgName?: string; orgId?: string }[]).map((o) => o.orgName ?? o.orgId ?? '');
    } catch {
      orgs = [];
    }
    return {
      id: Number(x.id),
      createdAt: new Date(x.created_at),
      person: x.name_enc ? maskName(vault.decrypt(x.name_enc)) : '',
      channel: x.channel,
      status: x.status,
      unpaidCount: Number(x.unpaid_count),
      totalFen: Number(x.total_fen),
      orgs,
      message: x.message,
      attempts: Number(x.attempts),
      lastError: x.last_error,
      sentAt: x.sent_at ? new Date(x.sent_at) : null,
    };
  });
}

export async function reminderCounts(db: Kysely<DB>): Promise<Record<string, number>> {
  const r = await sql<{ status: string; n: number }>`SELECT status, count(*) AS n FROM reminder GROUP BY status`.execute(db);
  return Object.fromEntries(r.rows.map((x) => [x.status, Number(x.n)]));
}

export interface RefreshRow {
  itemId: number;
  traceId: string;
  orgId: string;
  orgTraceId: string;
  itemState: string;
  status: string;
  attempts: number;
  lastState: string | null;
  lastDetail: string | null;
  lastAttemptAt: Date;
}

/** ORG_001 check results per item; institution staff see their own items only (filtered in SQL). */
export async function listRefreshResults(
  db: Kysely<DB>,
  org: string | undefined,
  status: string | undefined,
  limit = 200,
): Promise<RefreshRow[]> {
  const conds = [sql`1 = 1`];
  if (org !== undefined) conds.push(sql`i.org_id = ${org}`);
  if (status) conds.push(sql`f.status = ${status}`);
  const r = await sql<{
    item_id: number;
    trace_id: string;
    org_id: string;
    org_trace_id: string;
    state: string;
    status: string;
    attempts: number;
    last_state: string | null;
    last_detail: string | null;
    last_attempt_at: Date;
  }>`SELECT f.item_id, i.trace_id, i.org_id, i.org_trace_id, i.state, f.status, f.attempts, f.last_state, f.last_detail, f.last_attempt_at
       FROM item_refresh f JOIN arrears_item i ON i.id = f.item_id
      WHERE ${sql.join(conds, sql` AND `)}
      ORDER BY f.last_attempt_at DESC LIMIT ${limit}`.execute(db);
  return r.rows.map((x) => ({
    itemId: Number(x.item_id),
    traceId: x.trace_id,
    orgId: x.org_id,
    orgTraceId: x.org_trace_id,
    itemState: x.state,
    status: x.status,
    attempts: Number(x.attempts),
    lastState: x.last_state,
    lastDetail: x.last_detail,
    lastAttemptAt: new Date(x.last_attempt_at),
  }));
}
