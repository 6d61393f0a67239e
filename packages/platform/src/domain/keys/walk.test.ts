import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../../testing.js';
import { walkStep, type WalkStep } from './walk.js';

/**
 * The walk under rotation and upgrades: a batch that fails half-way (a crash inside the transaction) leaves
 * neither its rows nor the cursor moved, and the run that follows touches every row exactly once.
 */
describe('resumable walk (key_task)', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({}, { queue: false });
  });
  after(async () => t?.close());

  it('a batch that dies half-way is rolled back with its cursor; the re-run rewrites each row once', async () => {
    const db = t.platform.db;
    const keys = Array.from({ length: 10 }, (_, i) => `walk-${String(i).padStart(2, '0')}`);
    await db
      .insertInto('setting')
      .values(keys.map((key) => ({ key, value: '0' })))
      .execute();
    const step = (dieAt?: string): WalkStep => ({
      name: 'count',
      table: 'setting',
      key: 'key',
      numeric: false,
      async apply(trx, rows) {
        for (const r of rows) {
          if (!String(r.key).startsWith('walk-')) continue;
          await trx
            .updateTable('setting')
            .set({ value: String(Number(r.value) + 1) })
            .where('key', '=', String(r.key))
            .execute();
          if (r.key === dieAt) throw new Error('killed');
        }
      },
    });
    await assert.rejects(walkStep(db, 'walk-test', step('walk-05'), { batchSize: 3 }), /killed/);
    const task = await db.selectFrom('key_task').selectAll().where('task', '=', 'walk-test').executeTakeFirstOrThrow();
    assert.equal(task.done, false);
    const mid = await db.selectFrom('setting').select(['key', 'value']).where('key', 'like', 'walk-%').orderBy('key').execute();
    // Batches of 3 in key order (other settings sort before 'walk-'): what committed is whole batches only.
    const touched = mid.filter((r) => r.value === '1').map((r) => r.key);
    assert.ok(!touched.includes('walk-05') && !touched.includes('walk-04'), `the dying batch left nothing: ${touched.join(',')}`);
    assert.ok(touched.every((k) => k < 'walk-05'));
    const progress = await walkStep(db, 'walk-test', step(), { batchSize: 3 });
    assert.equal(progress.done, true);
    const end = await db.selectFrom('setting').select(['key', 'value']).where('key', 'like', 'walk-%').execute();
    assert.deepEqual(
      end.map((r) => r.value),
      keys.map(() => '1'),
      'every row exactly once',
    );
    // Done is done: another run rewrites nothing.
    await walkStep(db, 'walk-test', step(), { batchSize: 3 });
    assert.ok((await db.selectFrom('setting').select('value').where('key', 'like', 'walk-%').execute()).every((r) => r.value === '1'));
  });
});
