import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Vault } from '../../vault.js';
import { clearAttempts, countWithDelay, type DelayRule } from '../throttle.js';
import type { CitizenIdentity } from './registry.js';

/** The one answer to every failed /card sign-in: no card, wrong name, wrong phone, no phone of record, wrong code, throttled. */
export const CARD_SIGN_IN_FAILED = '信息不正确或暂时无法登录，请核对后稍后再试';

/**
 * Per identity (blind index of the ID number: the counter names nobody): three attempts free, then 30 s,
 * 1 min, 2 min … up to 15 min between attempts, and never more than 10 in 15 minutes. Code guesses count
 * here too.
 */
export const IDENTITY_RULE: DelayRule = { windowMs: 15 * 60_000, free: 3, baseMs: 30_000, maxMs: 15 * 60_000, limit: 10 };
/** Per client address: ten attempts free, then 5 s, 10 s, 20 s … up to 15 min, at most 30 in 15 minutes. */
export const ADDRESS_RULE: DelayRule = { windowMs: 15 * 60_000, free: 10, baseMs: 5_000, maxMs: 15 * 60_000, limit: 30 };

export function identityKey(vault: Vault, who: Pick<CitizenIdentity, 'idType' | 'idNo'>): string {
  return `card-id:${vault.personKey(who.idType, who.idNo)}`;
}

/**
 * Counts one /card attempt against the identity (when known) and the client address, atomically, before
 * anything is looked up or sent. Both are counted even when one refuses, so an address cannot probe
 * identities "for free" while an identity is in its delay.
 */
export async function guardCardAttempt(db: Kysely<DB>, key: string | undefined, ip: string, nowMs: number): Promise<{ ok: boolean }> {
  const now = new Date(nowMs);
  const identity = key ? await countWithDelay(db, key, now, IDENTITY_RULE) : { allowed: true };
  const address = await countWithDelay(db, `card-ip:${ip}`, now, ADDRESS_RULE);
  return { ok: identity.allowed && address.allowed };
}

/** The first step of a sign-in, counted against the ID number typed. */
export async function guardCitizenSignIn(
  db: Kysely<DB>,
  vault: Vault,
  who: CitizenIdentity,
  ip: string,
  nowMs: number,
): Promise<{ ok: boolean }> {
  return guardCardAttempt(db, identityKey(vault, who), ip, nowMs);
}

/** A good sign-in starts the identity's count over (the address keeps its count). */
export async function citizenSignedIn(db: Kysely<DB>, key: string): Promise<void> {
  await clearAttempts(db, key);
}
