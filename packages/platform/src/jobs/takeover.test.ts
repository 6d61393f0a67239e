import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../testing.js';
import { ProcessBatchJob } from './definitions.js';

/**
 * Takeover after a crash (issue #14): a job whose worker died (still active after its lease), or that pg-boss's
 * maintenance already expired into a delayed retry, is run again at once; a job that failed in its handler keeps
 * its retry delay. The whole flow with real processes and kill -9 is in test/faults/faults.ci.ts.
 */
describe('jobs of a dead worker are taken over', () => {
  let t: TestPlatform;
  let schema: string;

  before(async () => {
    t = await startTestPlatform({}, { workers: false });
    schema = t.platform.config.dbSchema === 'public' ? 'pgboss' : `${t.platform.config.dbSchema}_jobs`;
  });
  after(() => t.close());

  const sqlRun = (text: string, values: unknown[] = []) => t.platform.database.executeSql(text, values);
  const stateOf = async (id: string) =>
    (await sqlRun(`SELECT state, start_after <= now() AS due FROM "${schema}".job WHERE id = $1`, [id])).rows[0] as {
      state: string;
      due: boolean;
    };

  it('an active job past its lease, and one expired by maintenance, run again now; a failed one waits', async () => {
    const boss = t.platform.jobs.boss;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push((await t.platform.jobs.send(ProcessBatchJob, { batchId: 900_000 + i }))!);
    // A worker takes all four, then "dies": nobody completes them.
    const taken = await boss.fetch(ProcessBatchJob.name, { batchSize: 4 });
    assert.equal(taken.length, 4);
    const [dead, young, expired, failed] = ids as [string, string, string, string];
    await sqlRun(`UPDATE "${schema}".job SET started_on = now() - interval '5 minutes' WHERE id = $1`, [dead]);
    // What pg-boss's maintenance, and a handler's own failure, leave behind: a retry an hour away.
    await sqlRun(
      `UPDATE "${schema}".job SET state = 'retry', start_after = now() + interval '1 hour',
         output = '{"value":{"message":"job failed by timeout in active state"}}' WHERE id = $1`,
      [expired],
    );
    await sqlRun(
      `UPDATE "${schema}".job SET state = 'retry', start_after = now() + interval '1 hour',
         output = '{"value":{"message":"hospital answered 500"}}' WHERE id = $1`,
      [failed],
    );

    assert.equal(await t.platform.jobs.reclaimExpired(), 2);
    assert.deepEqual(await stateOf(dead), { state: 'retry', due: true });
    assert.deepEqual(await stateOf(expired), { state: 'retry', due: true });
    assert.deepEqual(await stateOf(young), { state: 'active', due: true }, 'a job within its lease is left to its worker');
    assert.deepEqual(await stateOf(failed), { state: 'retry', due: false }, 'a real failure keeps its delay');
    const again = await boss.fetch(ProcessBatchJob.name, { batchSize: 4 });
    assert.deepEqual(again.map((j) => j.id).sort(), [dead, expired].sort(), 'the taken-over jobs are fetched at once');
    assert.equal(await t.platform.jobs.reclaimExpired(), 0, 'nothing twice');
  });
});
