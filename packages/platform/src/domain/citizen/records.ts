import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { decide, type Decision, type EligibilityPolicy } from '../eligibility.js';

/** One record as the citizen app shows it, with its open or latest appeal and last ORG_001 check. */
export interface CitizenRecord {
  id: number;
  orgId: string;
  orgName: string;
  itemName: string;
  amountFen: number;
  actualTime: Date;
  state: '0' | '1' | '2';
  settledAt: Date | null;
  appeal: {
    id: number;
    reason: string;
    status: string;
    description: string;
    decisionReason: string | null;
    orgReply: string | null;
  } | null;
  refresh: { status: 'ok' | 'failed'; lastAttemptAt: Date } | null;
}

export interface PaymentChannel {
  kind: string;
  label: string;
  value: string;
}

export interface CitizenOverview {
  unpaid: CitizenRecord[];
  history: CitizenRecord[];
  decision: Decision;
  /** Payment channels of each institution that holds an unpaid record of this person. */
  payment: { orgId: string; orgName: string; channels: PaymentChannel[] }[];
}

export function parseChannels(json: string): PaymentChannel[] {
  try {
    const v = JSON.parse(json) as unknown;
    if (!Array.isArray(v)) return [];
    return v
      .filter((c): c is Record<string, unknown> => c !== null && typeof c === 'object')
      .map((c) => ({ kind: String(c.kind ?? ''), label: String(c.label ?? ''), value: String(c.value ?? '') }))
      .filter((c) => c.value !== '');
  } catch {
    return [];
  }
}

/**
 * Everything about the session's person across institutions. The same subjects and the same policy
 * as ORG_MDL_002 decide eligibility, so the app never says something the hospital will not.
 */
export async function citizenOverview(
  db: Kysely<DB>,
  subjects: string[],
  policy: EligibilityPolicy,
  now: number,
): Promise<CitizenOverview> {
  const rows = await db
    .selectFrom('arrears_item as i')
    .innerJoin('institution as o', 'o.org_id', 'i.org_id')
    .leftJoin('item_refresh as r', 'r.item_id', 'i.id')
    .select([
      'i.id',
      'i.org_id',
      'o.org_name',
      'o.payment_channels',
      'i.item_name',
      'i.amount_fen',
      'i.actual_time',
      'i.state',
      'i.settled_at',
      'r.status as refresh_status',
      'r.last_attempt_at',
    ])
    .where('i.subject_bidx', 'in', subjects)
    .orderBy('i.actual_time', 'desc')
    .execute();
  const ids = rows.map((r) => r.id);
  const appeals = ids.length
    ? await db
        .selectFrom('appeal')
        .select(['id', 'item_id', 'reason', 'status', 'description', 'decision_reason', 'org_reply'])
        .where('item_id', 'in', ids)
        .where('subject_bidx', 'in', subjects)
        .orderBy('created_at', 'asc')
        .execute()
    : [];
  // The newest appeal of each record wins (an open one is always the newest: one open at a time).
  const appealOf = new Map<number, (typeof appeals)[number]>();
  for (const a of appeals) appealOf.set(a.item_id, a);
  const records: CitizenRecord[] = rows.map((r) => {
    const a = appealOf.get(r.id);
    return {
      id: r.id,
      orgId: r.org_id,
      orgName: r.org_name,
      itemName: r.item_name,
      amountFen: r.amount_fen,
      actualTime: r.actual_time,
      state: r.state,
      settledAt: r.settled_at,
      appeal: a
        ? {
            id: a.id,
            reason: a.reason,
            status: a.status,
            description: a.description,
            decisionReason: a.decision_reason,
            orgReply: a.org_reply,
          }
        : null,
      refresh: r.refresh_status && r.last_attempt_at ? { status: r.refresh_status, lastAttemptAt: r.last_attempt_at } : null,
    };
  });
  const unpaid = records.filter((r) => r.state === '0');
  const history = records.filter((r) => r.state !== '0');
  const decision = decide(
    policy,
    unpaid.map((r) => ({ amountFen: r.amountFen, actualTime: r.actualTime })),
    now,
  );
  const payment = new Map<string, CitizenOverview['payment'][number]>();
  for (const r of rows) {
    if (r.state !== '0' || payment.has(r.org_id)) continue;
    payment.set(r.org_id, { orgId: r.org_id, orgName: r.org_name, channels: parseChannels(r.payment_channels) });
  }
  return { unpaid, history, decision, payment: [...payment.values()] };
}

/** The key an item is filed under (real-name or the entering institution's local key): what an appeal is checked against. */
export async function itemSubject(db: Kysely<DB>, itemId: number): Promise<string> {
  const row = await db.selectFrom('arrears_item').select('subject_bidx').where('id', '=', itemId).executeTakeFirstOrThrow();
  return row.subject_bidx;
}
