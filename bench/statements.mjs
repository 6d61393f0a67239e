// Per-statement time from PostgreSQL for the hot statements: pg_stat_statements when the server has it
// loaded (it needs shared_preload_libraries, which the bench may not change on a shared server), else one
// EXPLAIN (ANALYZE, BUFFERS) of each hot statement, run a few times so the figure is warm.
import { benchClient, extensionSchema, log, personAt } from './common.mjs';

/** Resets pg_stat_statements when it is there; returns whether it is. */
export async function statStatementsReset() {
  const c = await benchClient();
  try {
    const loaded = (await c.query(`SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'`)).rows[0]?.setting ?? '';
    if (!loaded.includes('pg_stat_statements')) return false;
    await c.query(`SELECT ${await extensionSchema(c, 'pg_stat_statements')}.pg_stat_statements_reset()`);
    return true;
  } catch {
    return false;
  } finally {
    await c.end();
  }
}

export async function statStatementsTop() {
  const c = await benchClient();
  try {
    const r = await c.query(
      // A multi-row INSERT is a statement of its own per row count: grouped by their text's start, they are one.
      `SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 120) AS query, sum(calls)::int AS calls,
         round((sum(total_exec_time) / sum(calls))::numeric, 4) AS mean_ms,
         round((sum(total_plan_time) / sum(calls))::numeric, 4) AS plan_ms, round(sum(total_exec_time)::numeric, 1) AS total_ms
       FROM ${await extensionSchema(c, 'pg_stat_statements')}.pg_stat_statements
       -- With pg_stat_statements.track_planning on, a statement planned and never run has a row with no calls.
       WHERE calls > 0 GROUP BY 1 ORDER BY sum(total_exec_time) DESC LIMIT 12`,
    );
    return r.rows;
  } finally {
    await c.end();
  }
}

/** EXPLAIN ANALYZE of the hot statements against the loaded set: planning and execution time, plan shape. */
export async function explainHot({ vault, persons, orgId }) {
  const c = await benchClient();
  const out = [];
  try {
    const keys = (i) => {
      const x = personAt(i);
      return [vault.personKey('01', x.idNo), vault.localKey(orgId, '01', x.idNo, x.userName)];
    };
    const statements = [
      {
        name: 'ORG_MDL_002 read (prepared on the server: planning paid once per connection)',
        sql: `SELECT subject_bidx, ehealth_card_id, name_bidx, unpaid_count, unpaid_total_fen, items FROM arrears_subject WHERE subject_bidx = ANY($1::text[])`,
        params: (i) => [keys(i)],
      },
      {
        name: 'before the read model: person + items join and sort (for comparison)',
        sql: `SELECT i.org_id, o.org_name, i.item_name, i.amount_fen, i.actual_time, i.state FROM arrears_item i JOIN institution o ON o.org_id = i.org_id
              WHERE i.subject_bidx = ANY($1::text[]) AND i.state = '0' ORDER BY i.actual_time`,
        params: (i) => [keys(i)],
      },
      {
        name: 'read-model refresh of one subject (per batch: lock + this)',
        sql: null,
        params: (i) => [keys(i).slice(0, 1)],
      },
    ];
    for (const s of statements) {
      const runs = [];
      for (let k = 0; k < 5; k++) {
        const i = 1 + Math.floor(Math.random() * (persons - 1));
        const text =
          s.sql ??
          `UPDATE arrears_subject s SET unpaid_count = a.n, unpaid_total_fen = a.total, items = a.items FROM (
             SELECT subject_bidx, count(*)::int AS n, coalesce(sum(amount_fen), 0)::bigint AS total,
               json_agg(json_build_array(org_id, item_name, amount_fen, floor(extract(epoch FROM actual_time) * 1000)::bigint) ORDER BY actual_time, id)::text AS items
             FROM arrears_item WHERE subject_bidx = ANY($1::text[]) AND state = '0' GROUP BY subject_bidx) a WHERE s.subject_bidx = a.subject_bidx`;
        await c.query('BEGIN');
        const r = await c.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, s.params(i));
        await c.query('ROLLBACK');
        const plan = r.rows[0]['QUERY PLAN'][0];
        runs.push({ planning: plan['Planning Time'], execution: plan['Execution Time'], node: plan.Plan['Node Type'] });
      }
      const last = runs.slice(1); // the first one warms the cache
      const avg = (f) => last.reduce((a, r) => a + f(r), 0) / last.length;
      out.push({ statement: s.name, planningMs: avg((r) => r.planning), executionMs: avg((r) => r.execution), topNode: runs[0].node });
      log(`statements: ${s.name}: planning ${avg((r) => r.planning).toFixed(3)} ms, execution ${avg((r) => r.execution).toFixed(3)} ms`);
    }
  } finally {
    await c.end();
  }
  return out;
}
