import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { publicRandomBytes } from './random-pool.js';

describe('publicRandomBytes', () => {
  it('never hands out the same bytes twice, across many refills of the pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(publicRandomBytes(16).toString('hex')); // 80 kB: about 20 refills
    assert.equal(seen.size, 5000);
  });

  it('a value handed out stays as it was when the pool is refilled', () => {
    const a = publicRandomBytes(16);
    const before = a.toString('hex');
    for (let i = 0; i < 600; i++) publicRandomBytes(10);
    assert.equal(a.toString('hex'), before);
  });

  it('the bytes look uniform: every value occurs, none far more often than the others', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 256; i++) for (const b of publicRandomBytes(256)) counts[b]!++;
    // 65,536 bytes: 256 of each expected; a CSPRNG stays well inside 128-400 (about ±9 standard deviations).
    assert.ok(Math.min(...counts) > 128 && Math.max(...counts) < 400, `counts ${Math.min(...counts)}-${Math.max(...counts)}`);
  });

  it('odd sizes come out whole, and more than the pool holds is refused', () => {
    for (const n of [0, 1, 7, 10, 16, 33, 4096]) assert.equal(publicRandomBytes(n).length, n);
    assert.throws(() => publicRandomBytes(4097), RangeError);
  });
});
