import { timingSafeEqual } from 'node:crypto';
import type { Vault } from '../../vault.js';

/**
 * A citizen's sign-in on the card pages: `<personId>.<expiry s>.<HMAC-SM3>` in an HttpOnly cookie. Signed
 * rather than stored, so any `mdl serve` process behind the load balancer accepts it; it carries no
 * personal data, only the master-index row id.
 */
export const CITIZEN_COOKIE = 'ehc_citizen';
export const CITIZEN_SESSION_SECONDS = 30 * 60;

export function signCitizen(vault: Vault, personId: number, nowMs: number): string {
  const value = `${personId}.${Math.floor(nowMs / 1000) + CITIZEN_SESSION_SECONDS}`;
  return `${value}.${vault.mac('ehc-citizen', value).subarray(0, 16).toString('base64url')}`;
}

/** The person id of a valid, unexpired cookie; undefined otherwise. */
export function readCitizen(vault: Vault, cookie: string | undefined, nowMs: number): number | undefined {
  const m = /^(\d{1,15})\.(\d{1,12})\.([A-Za-z0-9_-]{22})$/.exec(cookie ?? '');
  if (!m) return undefined;
  const expected = vault.mac('ehc-citizen', `${m[1]}.${m[2]}`).subarray(0, 16);
  const given = Buffer.from(m[3]!, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  if (Number(m[2]) * 1000 <= nowMs) return undefined;
  return Number(m[1]);
}
