/**
 * China time (UTC+8, no daylight saving since 1991): the one place that knows the offset. The guide's times,
 * the console's days, the quiet hours and the hospital kit's night window all read the wall clock of China,
 * whatever time zone the host runs in, so nothing here looks at the host's zone.
 */
export const CHINA_OFFSET_MS = 8 * 3_600_000;
export const DAY_MS = 86_400_000;

/** The instant `ms` as a Date whose UTC fields read China's wall clock: only for reading fields. */
function wall(ms: number): Date {
  return new Date(ms + CHINA_OFFSET_MS);
}

/** yyyy-MM-dd HH:mm:ss, China time (the guide's format). */
const DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
export const DATETIME_PATTERN = DATETIME.source;

export function chinaTimeToEpochMs(text: string): number | undefined {
  const m = DATETIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return ms - CHINA_OFFSET_MS;
}

export function epochMsToChinaTime(ms: number): string {
  const t = wall(ms).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 19)}`;
}

/** The China date of `ms`, yyyy-MM-dd. */
export function chinaDate(ms: number): string {
  return wall(ms).toISOString().slice(0, 10);
}

/** The China wall clock of `ms`, HH:mm:ss. */
export function chinaClock(ms: number): string {
  return wall(ms).toISOString().slice(11, 19);
}

/** The China hour of `ms`, 0–23. */
export function chinaHour(ms: number): number {
  return wall(ms).getUTCHours();
}

/** Start (00:00 China time) of the China day containing `ms`, as epoch milliseconds. */
export function chinaMidnight(ms: number): number {
  return Math.floor((ms + CHINA_OFFSET_MS) / DAY_MS) * DAY_MS - CHINA_OFFSET_MS;
}

/** 00:00 China time of a yyyy-MM-dd date, as epoch milliseconds; undefined when it is not a real date. */
export function chinaDateToEpochMs(date: string): number | undefined {
  return chinaTimeToEpochMs(`${date} 00:00:00`);
}
