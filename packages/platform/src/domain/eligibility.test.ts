import assert from 'node:assert/strict';
import { it } from 'node:test';
import { DEFAULT_POLICY, decide, policyProblem } from './eligibility.js';

const now = Date.UTC(2026, 10, 25, 4);
const day = 86_400_000;
const item = (yuan: number, daysAgo: number) => ({ amountFen: Math.round(yuan * 100), actualTime: new Date(now - daysAgo * day) });

it('applies the default policy of DESIGN.md', () => {
  assert.deepEqual(decide(DEFAULT_POLICY, [], now), { next: '1', reasons: ['NO_ARREARS'], unpaidCount: 0, unpaidTotalFen: 0 });
  assert.equal(decide(DEFAULT_POLICY, [item(25, 3), item(100, 1)], now).next, '1');
  assert.deepEqual(decide(DEFAULT_POLICY, [item(25, 16)], now).reasons, ['OVERDUE_TOO_LONG']);
  assert.equal(decide(DEFAULT_POLICY, [item(25, 15)], now).next, '1', 'exactly 15 days is not older than 15 days');
  assert.deepEqual(decide(DEFAULT_POLICY, [item(499.99, 1)], now).next, '1');
  assert.deepEqual(decide(DEFAULT_POLICY, [item(500, 1)], now).reasons, ['TOTAL_TOO_HIGH']);
  assert.deepEqual(decide(DEFAULT_POLICY, [item(1, 1), item(1, 1), item(1, 1)], now).reasons, ['TOO_MANY_ITEMS']);
  assert.deepEqual(decide(DEFAULT_POLICY, [item(400, 20), item(100, 1), item(1, 1)], now).reasons, [
    'OVERDUE_TOO_LONG',
    'TOTAL_TOO_HIGH',
    'TOO_MANY_ITEMS',
  ]);
});

it('validates a policy before it is saved', () => {
  assert.equal(policyProblem(DEFAULT_POLICY), undefined);
  assert.ok(policyProblem({ ...DEFAULT_POLICY, maxCount: 0 }));
  assert.ok(policyProblem({ ...DEFAULT_POLICY, maxAgeDays: 1.5 }));
});
