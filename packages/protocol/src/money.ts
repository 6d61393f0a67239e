/** Amounts travel as yuan strings with at most two decimals and are kept as integer fen. */
const YUAN = /^(0|[1-9]\d{0,9})(\.\d{1,2})?$/;

export function yuanProblem(amount: string): string | undefined {
  if (!YUAN.test(amount)) return '金额应为元，最多两位小数，例如 25.00';
  return undefined;
}

/** Field options for an amount: the check and what the docs say about it. */
export const YUAN_FORMAT = { check: yuanProblem, pattern: YUAN.source, note: '单位元，最多两位小数，例如 25.00' } as const;

export function yuanToFen(amount: string): number {
  const [whole, frac = ''] = amount.split('.');
  return Number(whole) * 100 + Number((frac + '00').slice(0, 2));
}

export function fenToYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** yyyy-MM-dd HH:mm:ss, China time (UTC+8, no daylight saving). */
const DATETIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const CHINA_OFFSET_MS = 8 * 3600 * 1000;

export function chinaTimeToEpochMs(text: string): number | undefined {
  const m = DATETIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
  return ms - CHINA_OFFSET_MS;
}

export function datetimeProblem(text: string): string | undefined {
  return chinaTimeToEpochMs(text) === undefined ? '时间格式应为 yyyy-MM-dd HH:mm:ss' : undefined;
}

export const DATETIME_FORMAT = { check: datetimeProblem, pattern: DATETIME.source, note: '北京时间，格式 yyyy-MM-dd HH:mm:ss' } as const;

export function epochMsToChinaTime(ms: number): string {
  const t = new Date(ms + CHINA_OFFSET_MS).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 19)}`;
}
