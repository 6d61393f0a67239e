import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chinaClock,
  chinaDate,
  chinaDateToEpochMs,
  chinaHour,
  chinaMidnight,
  chinaTimeToEpochMs,
  epochMsToChinaTime,
} from './china-time.js';

describe('China time', () => {
  // 2026-11-25 18:30 UTC is 02:30 on the 26th in China: the date differs from the UTC one.
  const ms = Date.parse('2026-11-25T18:30:00Z');

  it('reads the wall clock of China, not of UTC or the host', () => {
    assert.equal(chinaDate(ms), '2026-11-26');
    assert.equal(chinaClock(ms), '02:30:00');
    assert.equal(chinaHour(ms), 2);
    assert.equal(epochMsToChinaTime(ms), '2026-11-26 02:30:00');
  });

  it('finds the China midnight of an instant and of a date', () => {
    assert.equal(chinaMidnight(ms), Date.parse('2026-11-25T16:00:00Z'));
    assert.equal(chinaMidnight(Date.parse('2026-11-25T16:00:00Z')), Date.parse('2026-11-25T16:00:00Z'));
    assert.equal(chinaDateToEpochMs('2026-11-26'), Date.parse('2026-11-25T16:00:00Z'));
    assert.equal(chinaDateToEpochMs('2026-02-30'), undefined);
  });

  it('round-trips the guide format', () => {
    assert.equal(chinaTimeToEpochMs(epochMsToChinaTime(ms)), ms);
  });
});
