import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from './testing.js';
import { seedDemo } from './demo.js';
import { dashboardData } from './domain/console/dashboard.js';

/**
 * The sandbox's demo data (issue #17 point 3): a month of history the dashboard can show, made through the
 * domain, loaded once.
 */
describe('demo data: 30 days of history', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({}, { queue: false });
    await seedDemo(t.platform);
  });
  after(() => t.close());

  it('fills most of the 30 days of the dashboard, with callbacks that sometimes fail, and its KPIs agree', async () => {
    const d = await dashboardData(t.platform.db, undefined, t.platform.now());
    const daysWithReports = d.reportedFen.filter((x) => x > 0).length;
    const daysWithSettlements = d.settledFen.filter((x) => x > 0).length;
    assert.ok(daysWithReports >= 20, `reports on ${daysWithReports} of 30 days`);
    assert.ok(daysWithSettlements >= 10, `settlements on ${daysWithSettlements} of 30 days`);
    const ok = d.callbackOk.reduce((a, b) => a + b, 0);
    const bad = d.callbackBad.reduce((a, b) => a + b, 0);
    assert.ok(bad > 0 && ok > bad * 3, `mostly delivered: ${ok} delivered, ${bad} failed`);
    assert.equal(d.kpi.callbackDelivered, ok);
    assert.equal(d.kpi.callbackFailed, bad);
    assert.ok(d.kpi.failedBatches > 0, 'some batches gave up');
  });

  it('never says 已送达 without an attempt, and went through ORG_MDL_003 for settlements', async () => {
    const { db } = t.platform;
    const noAttempt = await db
      .selectFrom('batch')
      .select('id')
      .where('callback_status', '=', 'delivered')
      .where('callback_attempts', '=', 0)
      .execute();
    assert.deepEqual(noAttempt, []);
    const updates = await db.selectFrom('batch').select(['id', 'accepted_count']).where('kind', '=', 'UPDATE').execute();
    assert.ok(updates.length > 0 && updates.every((u) => u.accepted_count === 1), 'every demo update was accepted by the state machine');
    const settled = await db.selectFrom('arrears_item').select(['created_at', 'settled_at']).where('state', '<>', '0').execute();
    assert.ok(settled.length > 0 && settled.every((i) => i.settled_at! >= i.created_at), 'settled after reported');
  });

  it('has appeals in every state', async () => {
    const rows = await t.platform.db.selectFrom('appeal').select('status').execute();
    assert.deepEqual([...new Set(rows.map((r) => r.status))].sort(), ['answered', 'open', 'rejected', 'upheld']);
  });

  it('is loaded once: a second run adds nothing', async () => {
    const count = async () =>
      Number(
        (
          await t.platform.db
            .selectFrom('batch')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    await seedDemo(t.platform);
    assert.equal(await count(), before);
  });
});
