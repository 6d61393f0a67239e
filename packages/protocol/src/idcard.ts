/** GB 11643-1999 resident identity number: 17 digits, then an ISO 7064 MOD 11-2 check character. */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

export function residentIdCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK[sum % 11]!;
}

/** A valid number from a region (6 digits), a birth date (YYYYMMDD) and a sequence number (the demo's and tests'). */
export function residentId(region: string, birth: string, seq: number): string {
  const first17 = `${region}${birth}${String(seq).padStart(3, '0')}`;
  return first17 + residentIdCheckChar(first17);
}

/** Returns a Chinese reason when the number is not valid, undefined when it is. */
export function residentIdProblem(idNo: string): string | undefined {
  if (!/^\d{17}[\dXx]$/.test(idNo)) return '身份证号应为 17 位数字加 1 位校验码';
  const y = Number(idNo.slice(6, 10));
  const m = Number(idNo.slice(10, 12));
  const d = Number(idNo.slice(12, 14));
  const date = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    return '身份证号中的出生日期无效';
  }
  if (residentIdCheckChar(idNo.slice(0, 17)) !== idNo[17]!.toUpperCase()) return '身份证号校验码错误';
  return undefined;
}

export function isValidResidentId(idNo: string): boolean {
  return residentIdProblem(idNo) === undefined;
}

/** Birthday yyyyMMdd and sex (1 male, 2 female) carried by a resident ID number. */
export function residentIdFacts(idNo: string): { birthday: string; sex: '1' | '2' } {
  return { birthday: idNo.slice(6, 14), sex: Number(idNo[16]) % 2 === 1 ? '1' : '2' };
}

/** Mask for logs and pages: 3501**********1234. */
export function maskIdNo(idNo: string): string {
  if (idNo.length <= 8) return '*'.repeat(idNo.length);
  return idNo.slice(0, 4) + '*'.repeat(idNo.length - 8) + idNo.slice(-4);
}

/** Mask for logs and pages: 林*梅, 林* for two characters. */
export function maskName(name: string): string {
  const chars = [...name];
  if (chars.length <= 1) return '*';
  if (chars.length === 2) return chars[0] + '*';
  return chars[0] + '*'.repeat(chars.length - 2) + chars[chars.length - 1];
}
