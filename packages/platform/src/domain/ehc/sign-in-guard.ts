import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Vault } from '../../vault.js';
import { clearAttempts, countAttempt } from '../throttle.js';
import type { CitizenIdentity } from './registry.js';

/** The one answer to every failed /card sign-in: no card, wrong name, wrong phone, throttled. */
export const CARD_SIGN_IN_FAILED = '信息不正确或暂时无法登录，请核对后稍后再试';

const WINDOW_MS = 15 * 60_000;
export const PER_IDENTITY = 5;
export const PER_ADDRESS = 30;

/**
 * Counts one /card sign-in attempt against the ID number (blind index: the counter names nobody) and
 * against the client address, atomically, before the registry is asked. Sixty phone numbers for one ID
 * number stop at the fifth; an address guessing many ID numbers stops at the thirtieth.
 */
export async function guardCitizenSignIn(
  db: Kysely<DB>,
  vault: Vault,
  who: CitizenIdentity,
  ip: string,
  nowMs: number,
): Promise<{ ok: boolean }> {
  const now = new Date(nowMs);
  const identity = await countAttempt(db, `card-id:${vault.personKey(who.idType, who.idNo)}`, now, WINDOW_MS);
  const address = await countAttempt(db, `card-ip:${ip}`, now, WINDOW_MS);
  return { ok: identity <= PER_IDENTITY && address <= PER_ADDRESS };
}

/** A good sign-in starts the identity's count over (the address keeps its count). */
export async function citizenSignedIn(db: Kysely<DB>, vault: Vault, who: CitizenIdentity): Promise<void> {
  await clearAttempts(db, `card-id:${vault.personKey(who.idType, who.idNo)}`);
}
