import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../log.js';
import type { Database } from '../db/database.js';
import { startTestPlatform, type TestPlatform } from '../testing.js';
import { defineJob, JobQueue } from './queue.js';

/**
 * A stopped queue leaves nothing running: the database is closed right after stop(), and a statement issued
 * after that is an unhandled rejection ("Cannot use a pool after calling end on the pool") in whatever process
 * is shutting down. pg-boss's own graceful stop waits only for jobs a worker already holds, not for a fetch on
 * its way back with a job, nor for the completion it sends without awaiting.
 */
describe('JobQueue.stop waits for the work it started', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({}, { workers: false });
  });
  after(() => t.close());

  it('a fetch under way when stop begins: its job runs to completion before stop resolves, and nothing follows', async () => {
    const real = t.platform.database;
    let fetchBegan = () => {};
    const fetching = new Promise<void>((r) => (fetchBegan = r));
    let slowFetch = true;
    let stopped = false;
    const late: string[] = [];
    // The queue's database, as the platform's, except that a job fetch takes 400 ms while slowFetch is set.
    const database: Database = {
      ...real,
      async executeSql(text, values) {
        if (stopped) late.push(text.trim().slice(0, 60));
        if (slowFetch && /SKIP LOCKED/.test(text)) {
          fetchBegan();
          await delay(400);
        }
        return real.executeSql(text, values);
      },
    };
    const schema = t.platform.jobs.schema;
    const type = defineJob<{ n: number; requestId?: string }>('queue-stop-test-v1', { retryLimit: 0 });
    const q = new JobQueue(database, schema, createLogger('silent'));
    await q.start([type]);
    slowFetch = false;
    const id = await q.send(type, { n: 1 });
    const ran: string[] = [];
    slowFetch = true;
    await q.work(
      type,
      async ({ n }) => {
        ran.push(`start ${n}`);
        await delay(300);
        await database.executeSql('SELECT 1');
        ran.push(`end ${n}`);
      },
      { pollingIntervalSeconds: 0.5 },
    );
    await fetching;
    await q.stop();
    stopped = true;

    assert.deepEqual(ran, ['start 1', 'end 1'], 'the fetched job ran to its end before stop resolved');
    const { rows } = await real.executeSql(`SELECT state FROM "${schema}".job WHERE id = $1`, [id]);
    assert.equal(rows[0]?.state, 'completed', 'and its completion was written before stop resolved');
    await delay(1200); // past a worker's polling interval and pg-boss's stop monitor
    assert.deepEqual(late, [], 'no statement after stop');
  });
});

/** The nodes of an EXPLAIN (FORMAT JSON) plan, depth first. */
function planNodes(node: Record<string, unknown>): Record<string, unknown>[] {
  const children = (node['Plans'] as Record<string, unknown>[] | undefined) ?? [];
  return [node, ...children.flatMap(planNodes)];
}

describe('a deep queue', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({}, { workers: false });
  });
  after(() => t.close());

  it('a fetch reads the first waiting jobs in the order it takes them, not the whole queue', async () => {
    const real = t.platform.database;
    const fetches: { text: string; values: unknown[] }[] = [];
    const database: Database = {
      ...real,
      executeSql(text, values) {
        if (/SKIP LOCKED/.test(text)) fetches.push({ text, values: values ?? [] });
        return real.executeSql(text, values);
      },
    };
    const schema = t.platform.jobs.schema;
    // A queue made after the platform's start: its partition must get the index too.
    const type = defineJob<{ n: number }>('queue-depth-test-v1', { retryLimit: 0 });
    const q = new JobQueue(database, schema, createLogger('silent'));
    await q.start([type]);
    const depth = 800;
    await q.boss.insert(Array.from({ length: depth }, (_, n) => ({ name: type.name, data: { n } })));
    await real.executeSql(`ANALYZE "${schema}".job`);
    const [first] = await q.boss.fetch<{ n: number }>(type.name);
    assert.ok(first, 'a job was fetched');
    const fetch = fetches.at(-1);
    assert.ok(fetch, 'pg-boss fetched through executeSql');

    const { rows } = await real.executeSql(`EXPLAIN (ANALYZE, FORMAT JSON) ${fetch.text}`, fetch.values);
    const plan = (rows[0]?.['QUERY PLAN'] as { Plan: Record<string, unknown> }[])[0]!.Plan;
    const nodes = planNodes(plan);
    const scans = nodes.filter((n) => String(n['Node Type']).includes('Scan') && String(n['Relation Name'] ?? '').startsWith('j'));
    assert.ok(scans.length > 0, `the plan reads the queue's partition: ${JSON.stringify(nodes.map((n) => n['Node Type']))}`);
    assert.ok(!nodes.some((n) => n['Node Type'] === 'Sort'), 'no sort of the waiting jobs');
    const read = Math.max(...scans.map((n) => Number(n['Actual Rows'])));
    assert.ok(read <= 10, `a fetch of one job read ${read} of ${depth - 1} waiting jobs`);
    await q.stop();
  });
});
