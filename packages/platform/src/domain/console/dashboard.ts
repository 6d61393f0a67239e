import { DAY_MS, chinaDate, chinaMidnight } from '@mdl/protocol';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';

/**
 * Figures for the dashboard. Every query takes `org` (institution staff: their orgId) and applies it in
 * SQL. Days are China days: timestamps shifted by +8 h from UTC, so the session time zone never matters.
 */
export interface DashboardData {
  today: string;
  kpi: {
    personsInArrears: number;
    unpaidCount: number;
    unpaidTotalFen: number;
    reportedToday: number;
    settledToday: number;
    queriesToday: number;
    /** Callback attempts over 30 days: the sums of the chart's two series (the same query). */
    callbackDelivered: number;
    callbackFailed: number;
    /** Delivered / all attempts over 30 days, or null when there was none. */
    callbackSuccessRate: number | null;
    /** Batches whose callback is, right now, failed (given up) or still pending. */
    failedBatches: number;
    pendingBatches: number;
  };
  days: string[];
  reportedFen: number[];
  settledFen: number[];
  queries: number[];
  callbackOk: number[];
  callbackBad: number[];
  byRegion: { region: string | null; totalFen: number; count: number }[];
  byInstitution: { orgId: string; orgName: string; totalFen: number; count: number }[];
}

const dayOf = (col: string) => sql<string>`to_char((${sql.ref(col)} AT TIME ZONE 'UTC') + interval '8 hours', 'YYYY-MM-DD')`;

export async function dashboardData(db: Kysely<DB>, org: string | undefined, now: number): Promise<DashboardData> {
  const from = new Date(chinaMidnight(now) - 29 * DAY_MS);
  const days = Array.from({ length: 30 }, (_, i) => chinaDate(from.getTime() + i * DAY_MS));

  const unpaid = await db
    .selectFrom('arrears_item')
    .select([
      sql<number>`count(DISTINCT subject_bidx)`.as('persons'),
      sql<number>`count(*)`.as('n'),
      sql<string>`coalesce(sum(amount_fen), 0)`.as('total'),
    ])
    .where('state', '=', '0')
    .$if(org !== undefined, (qb) => qb.where('org_id', '=', org!))
    .executeTakeFirstOrThrow();
  const callbacks = await db
    .selectFrom('batch')
    .select(['callback_status', sql<number>`count(*)`.as('n')])
    .where('status', '=', 'done')
    .where('received_at', '>=', from)
    .groupBy('callback_status')
    .$if(org !== undefined, (qb) => qb.where('org_id', '=', org!))
    .execute();
  const reported = await db
    .selectFrom('arrears_item')
    .select([dayOf('created_at').as('d'), sql<string>`sum(amount_fen)`.as('total'), sql<number>`count(*)`.as('n')])
    .where('created_at', '>=', from)
    .groupBy(sql`1`)
    .$if(org !== undefined, (qb) => qb.where('org_id', '=', org!))
    .execute();
  const settled = await db
    .selectFrom('arrears_item')
    .select([dayOf('settled_at').as('d'), sql<string>`sum(amount_fen)`.as('total'), sql<number>`count(*)`.as('n')])
    .where('state', '=', '1')
    .where('settled_at', '>=', from)
    .groupBy(sql`1`)
    .$if(org !== undefined, (qb) => qb.where('org_id', '=', org!))
    .execute();
  const queries = await db
    .selectFrom('audit_event')
    .select([dayOf('at').as('d'), sql<number>`count(*)`.as('n')])
    .where('action', '=', 'arrears.query')
    .where('at', '>=', from)
    .groupBy(sql`1`)
    .$if(org !== undefined, (qb) => qb.where('org_id', '=', org!))
    .execute();
  const attempts = await db
    .selectFrom('callback_attempt as a')
    .innerJoin('batch as b', 'b.id', 'a.batch_id')
    .select([
      dayOf('a.started_at').as('d'),
      sql<number>`sum(CASE WHEN a.outcome = 'delivered' THEN 1 ELSE 0 END)`.as('ok'),
      sql<number>`sum(CASE WHEN a.outcome = 'delivered' THEN 0 ELSE 1 END)`.as('bad'),
    ])
    .where('a.started_at', '>=', from)
    .groupBy(sql`1`)
    .$if(org !== undefined, (qb) => qb.where('b.org_id', '=', org!))
    .execute();
  const byRegion = await db
    .selectFrom('arrears_item as i')
    .leftJoin('institution as o', 'o.org_id', 'i.org_id')
    .select(['o.region', sql<string>`sum(i.amount_fen)`.as('total'), sql<number>`count(*)`.as('n')])
    .where('i.state', '=', '0')
    .groupBy('o.region')
    .orderBy(sql`2`, 'desc')
    .$if(org !== undefined, (qb) => qb.where('i.org_id', '=', org!))
    .execute();
  const byInstitution = await db
    .selectFrom('arrears_item as i')
    .leftJoin('institution as o', 'o.org_id', 'i.org_id')
    .select(['i.org_id', 'o.org_name', sql<string>`sum(i.amount_fen)`.as('total'), sql<number>`count(*)`.as('n')])
    .where('i.state', '=', '0')
    .groupBy(['i.org_id', 'o.org_name'])
    .orderBy(sql`3`, 'desc')
    .limit(15)
    .$if(org !== undefined, (qb) => qb.where('i.org_id', '=', org!))
    .execute();

  const series = <R extends { d: string }>(rows: R[], pick: (r: R) => unknown) => {
    const m = new Map(rows.map((r) => [r.d, Number(pick(r))]));
    return days.map((d) => m.get(d) ?? 0);
  };
  const querySeries = series(queries, (r) => r.n);
  const cb = (s: string) => Number(callbacks.find((c) => c.callback_status === s)?.n ?? 0);
  // Each KPI is read off the series its chart draws, so the two cannot disagree.
  const callbackOk = series(attempts, (r) => r.ok);
  const callbackBad = series(attempts, (r) => r.bad);
  const delivered = callbackOk.reduce((a, b) => a + b, 0);
  const failed = callbackBad.reduce((a, b) => a + b, 0);
  const reportedCount = series(reported, (r) => r.n);
  const settledCount = series(settled, (r) => r.n);
  return {
    today: chinaDate(now),
    kpi: {
      personsInArrears: Number(unpaid.persons),
      unpaidCount: Number(unpaid.n),
      unpaidTotalFen: Number(unpaid.total),
      reportedToday: reportedCount.at(-1)!,
      settledToday: settledCount.at(-1)!,
      queriesToday: querySeries.at(-1)!,
      callbackDelivered: delivered,
      callbackFailed: failed,
      callbackSuccessRate: delivered + failed ? delivered / (delivered + failed) : null,
      failedBatches: cb('failed'),
      pendingBatches: cb('pending'),
    },
    days,
    reportedFen: series(reported, (r) => r.total),
    settledFen: series(settled, (r) => r.total),
    queries: querySeries,
    callbackOk,
    callbackBad,
    byRegion: byRegion.map((r) => ({ region: r.region, totalFen: Number(r.total), count: Number(r.n) })),
    byInstitution: byInstitution.map((r) => ({
      orgId: r.org_id,
      orgName: r.org_name ?? r.org_id,
      totalFen: Number(r.total),
      count: Number(r.n),
    })),
  };
}
