import { DATETIME_PATTERN, chinaTimeToEpochMs } from './china-time.js';

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

export function datetimeProblem(text: string): string | undefined {
  return chinaTimeToEpochMs(text) === undefined ? '时间格式应为 yyyy-MM-dd HH:mm:ss' : undefined;
}

export const DATETIME_FORMAT = { check: datetimeProblem, pattern: DATETIME_PATTERN, note: '北京时间，格式 yyyy-MM-dd HH:mm:ss' } as const;
