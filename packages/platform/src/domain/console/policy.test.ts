import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../../testing.js';
import { DEFAULT_POLICY } from '../eligibility.js';
import type { Actor } from './auth.js';
import { savePolicy } from './policy.js';

const operator: Actor = { userId: 1, username: 'ops', role: 'operator', orgId: null, csrf: 'x' };

describe('savePolicy', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({}, { queue: false });
  });
  after(() => t.close());

  const counts = async () => {
    const { db } = t.platform;
    const history = await db
      .selectFrom('policy_history')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const events = await db
      .selectFrom('audit_event')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('action', '=', 'policy.update')
      .executeTakeFirstOrThrow();
    return { history: Number(history.n), events: Number(events.n) };
  };

  it('sets the policy with its history and audit event', async () => {
    const next = { ...DEFAULT_POLICY, maxCount: DEFAULT_POLICY.maxCount + 1 };
    await savePolicy(t.platform, operator, next, '调整笔数');
    assert.deepEqual(await t.platform.policy.get(), next, 'readers see the new policy at once (no stale cache)');
    assert.deepEqual(await counts(), { history: 1, events: 1 });
  });

  it('sets nothing when its history cannot be written (one transaction)', async () => {
    const before = await t.platform.policy.get();
    const attempt = { ...before, maxCount: before.maxCount + 1 };
    // policy_history.note is VARCHAR(200): the history insert fails after the policy was written in the transaction.
    await assert.rejects(savePolicy(t.platform, operator, attempt, '长'.repeat(201)));
    t.platform.policy.forget();
    assert.deepEqual(await t.platform.policy.get(), before, 'the policy in force is unchanged');
    assert.deepEqual(await counts(), { history: 1, events: 1 });
  });
});
