import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { newBearerToken, tokenHash } from '../bearer-token.js';

/**
 * A citizen's sign-in on the card pages: a random token in an HttpOnly cookie, its SM3 digest in
 * `card_session` (a copy of the database hands out no live session). Kept server-side so that logging
 * out ends it, and any `mdl serve` process behind the load balancer finds it.
 */
export const CITIZEN_COOKIE = 'ehc_citizen';
export const CITIZEN_SESSION_SECONDS = 30 * 60;

export async function openCardSession(db: Kysely<DB>, personId: number, nowMs: number): Promise<string> {
  const token = newBearerToken();
  // Housekeeping on the way: long-expired sessions are of no use.
  await db
    .deleteFrom('card_session')
    .where('expires_at', '<', new Date(nowMs - 86_400_000))
    .execute();
  await db
    .insertInto('card_session')
    .values({
      token_hash: tokenHash(token),
      person_id: personId,
      created_at: new Date(nowMs),
      expires_at: new Date(nowMs + CITIZEN_SESSION_SECONDS * 1000),
      ended_at: null,
    })
    .execute();
  return token;
}

/** The person id of a live session; undefined for no, an ended or an expired session. */
export async function readCardSession(db: Kysely<DB>, token: string | undefined, nowMs: number): Promise<number | undefined> {
  if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const row = await db
    .selectFrom('card_session')
    .select('person_id')
    .where('token_hash', '=', tokenHash(token))
    .where('ended_at', 'is', null)
    .where('expires_at', '>', new Date(nowMs))
    .executeTakeFirst();
  return row ? Number(row.person_id) : undefined;
}

export async function endCardSession(db: Kysely<DB>, token: string | undefined, nowMs: number): Promise<void> {
  if (!token || token.length > 100) return;
  await db
    .updateTable('card_session')
    .set({ ended_at: new Date(nowMs) })
    .where('token_hash', '=', tokenHash(token))
    .execute();
}
