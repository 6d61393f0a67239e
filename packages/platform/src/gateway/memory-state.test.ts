import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryState } from './shared-state.js';

/** The embedded default's replay marks and rate counts, on a clock the test moves. */
describe('in-process shared state', () => {
  it('keeps a minute-long count across its periodic sweep (the sweep drops only windows that are over)', async () => {
    let now = 60_000 * 1000; // the start of a minute
    const state = new MemoryState(() => now);
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) {
      // Other traffic in between: its replay checks run the sweep.
      await state.seenBefore(`request-${i}`, 1_000);
      counts.push(await state.hit('mdr-refresh:s:1', 60_000));
      now += 11_000; // past the 10 s sweep each time, still inside the minute
    }
    assert.deepEqual(counts, [1, 2, 3, 4, 5]);
    now += 60_000;
    assert.equal(await state.hit('mdr-refresh:s:1', 60_000), 1, 'a new minute counts afresh');
  });

  it('forgets a replay mark only after its time', async () => {
    let now = 1_000_000;
    const state = new MemoryState(() => now);
    assert.equal(await state.seenBefore('k', 30_000), false);
    now += 20_000;
    assert.equal(await state.seenBefore('k', 30_000), true);
    now += 15_000;
    assert.equal(await state.seenBefore('k', 30_000), false);
  });
});
