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
