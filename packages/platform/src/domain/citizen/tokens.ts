import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { CitizenSession, DB } from '../../db/schema.js';
import { newBearerToken, tokenHash } from '../bearer-token.js';

export type { CitizenSession };

/**
 * Entry tokens (ORG_MDL_004) and the sessions they open. A token is 32 random bytes (43 base64url
 * characters) and is stored only as its SM3 hash; it opens one session for one person, once, before it
 * expires. The session id in the cookie is likewise random and stored hashed.
 */
export const MDR_PATH = '/mdr';

export interface EntrySubject {
  subjectBidx: string;
  localBidx: string | null;
  personId: number | null;
  appId: string;
  orgId: string | null;
}

export async function issueEntryToken(
  db: Kysely<DB>,
  subject: EntrySubject,
  now: number,
  ttlMs: number,
): Promise<{ token: string; expiresAt: Date }> {
  const token = newBearerToken();
  const expiresAt = new Date(now + ttlMs);
  await db
    .insertInto('citizen_token')
    .values({
      token_hash: tokenHash(token),
      subject_bidx: subject.subjectBidx,
      local_bidx: subject.localBidx,
      person_id: subject.personId,
      app_id: subject.appId,
      org_id: subject.orgId,
      expires_at: expiresAt,
      used_at: null,
    })
    .execute();
  return { token, expiresAt };
}

export function entryUrl(publicUrl: string, token: string): string {
  return `${publicUrl}${MDR_PATH}/t/${token}`;
}

export type OpenOutcome =
  { ok: true; sid: string; session: CitizenSession } | { ok: false; why: 'unknown' | 'expired' | 'used'; subjectBidx?: string };

/**
 * Consumes a token and starts a session. The consuming UPDATE is conditional (unused and unexpired), so
 * two browsers racing with the same link get one session between them.
 */
export async function openEntry(
  db: Kysely<DB>,
  token: string,
  now: number,
  ttlMs: number,
  nameEnc: (personId: number | null) => Promise<string | null>,
): Promise<OpenOutcome> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return { ok: false, why: 'unknown' };
  const hash = tokenHash(token);
  const at = new Date(now);
  const used = await db
    .updateTable('citizen_token')
    .set({ used_at: at })
    .where('token_hash', '=', hash)
    .where('used_at', 'is', null)
    .where('expires_at', '>', at)
    .returningAll()
    .executeTakeFirst();
  if (!used) {
    const row = await db.selectFrom('citizen_token').select(['used_at', 'subject_bidx']).where('token_hash', '=', hash).executeTakeFirst();
    if (!row) return { ok: false, why: 'unknown' };
    return { ok: false, why: row.used_at ? 'used' : 'expired', subjectBidx: row.subject_bidx };
  }
  const sid = newBearerToken();
  const session = await db
    .insertInto('citizen_session')
    .values({
      sid_hash: tokenHash(sid),
      subject_bidx: used.subject_bidx,
      local_bidx: used.local_bidx,
      person_id: used.person_id,
      name_enc: await nameEnc(used.person_id),
      csrf: randomBytes(16).toString('hex'),
      // A token the 闽政通 channel asked for (no institution): the channel verified the person (migration 012).
      entered_by: used.org_id === null ? 'channel' : 'portal',
      expires_at: new Date(now + ttlMs),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ok: true, sid, session };
}

export async function findSession(db: Kysely<DB>, sid: string | undefined, now: number): Promise<CitizenSession | undefined> {
  if (!sid || !/^[A-Za-z0-9_-]{43}$/.test(sid)) return undefined;
  return db
    .selectFrom('citizen_session')
    .selectAll()
    .where('sid_hash', '=', tokenHash(sid))
    .where('expires_at', '>', new Date(now))
    .executeTakeFirst();
}

export async function endSession(db: Kysely<DB>, sid: string): Promise<void> {
  await db.deleteFrom('citizen_session').where('sid_hash', '=', tokenHash(sid)).execute();
}

/** Expired tokens and sessions are of no use to anyone; the reconciliation schedule sweeps them. */
export async function sweepExpired(db: Kysely<DB>, now: number): Promise<void> {
  const cutoff = new Date(now - 86_400_000);
  await db.deleteFrom('citizen_token').where('expires_at', '<', cutoff).execute();
  await db.deleteFrom('citizen_session').where('expires_at', '<', cutoff).execute();
}

/** The keys whose records this session may see: the person province-wide, plus the entering institution's local key. */
export function sessionSubjects(s: Pick<CitizenSession, 'subject_bidx' | 'local_bidx'>): string[] {
  return s.local_bidx ? [s.subject_bidx, s.local_bidx] : [s.subject_bidx];
}
