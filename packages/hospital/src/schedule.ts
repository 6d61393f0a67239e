import { DAY_MS, chinaDate, chinaMidnight, sm3 } from '@mdl/protocol';

const HOUR = 3_600_000;
/** Runs start between 02:00 and 05:30 China time, leaving half an hour to finish before 06:00. */
export const WINDOW_START_MS = 2 * HOUR;
export const WINDOW_LENGTH_MS = 3.5 * HOUR;

/**
 * A stable start offset per institution inside the night window (guide §4.3.1.1: 错开上报时间), from a
 * hash of the orgId so each institution keeps its slot and institutions spread evenly.
 */
export function startOffsetMs(orgId: string): number {
  const minutes = WINDOW_LENGTH_MS / 60_000;
  return (sm3(orgId).readUInt32BE(0) % minutes) * 60_000;
}

/** The first run time strictly after `now`: 02:00 China time plus the institution's offset. */
export function nextRunAt(now: number, orgId: string): number {
  const today = chinaMidnight(now) + WINDOW_START_MS + startOffsetMs(orgId);
  return today > now ? today : today + DAY_MS;
}

/** The previous natural day in China time, yyyy-MM-dd: what a night run reports. */
export function previousChinaDay(now: number): string {
  return chinaDate(now - DAY_MS);
}
