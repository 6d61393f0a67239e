import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Grouped } from './grouped.js';

describe('Grouped', () => {
  it('runs at most maxInFlight groups at once, none larger than maxSize, and answers each caller with its own result', async () => {
    let running = 0;
    let most = 0;
    const sizes: number[] = [];
    const g = new Grouped<number[], number>(
      async (inputs) => {
        running++;
        most = Math.max(most, running);
        sizes.push(inputs.reduce((a, i) => a + i.length, 0));
        await sleep(5);
        running--;
        return inputs.map((i) => i.reduce((a, b) => a + b, 0));
      },
      { maxInFlight: 2, maxSize: 10, sizeOf: (i) => i.length },
    );
    const inputs = Array.from({ length: 200 }, (_, k) => [k, k, k]);
    const outs = await Promise.all(inputs.map((i) => g.submit(i)));
    assert.deepEqual(
      outs,
      inputs.map((i) => i[0]! * 3),
    );
    assert.equal(most, 2, 'two groups ran at once, never more');
    assert.ok(
      sizes.every((s) => s <= 10),
      `no group over the size limit: ${sizes.join(',')}`,
    );
    assert.ok(sizes.length < 200, 'callers were grouped');
  });

  it('lets one input larger than maxSize through alone, and fails only the callers of a failed group', async () => {
    let calls = 0;
    const g = new Grouped<string, string>(
      async (inputs) => {
        calls++;
        if (inputs.includes('bad')) throw new Error('group failed');
        return inputs.map((i) => i.toUpperCase());
      },
      { maxInFlight: 1, maxSize: 3, sizeOf: (i) => i.length },
    );
    assert.equal(await g.submit('toolong'), 'TOOLONG');
    await assert.rejects(g.submit('bad'), /group failed/);
    assert.equal(await g.submit('ok'), 'OK');
    assert.equal(calls, 3);
  });
});
