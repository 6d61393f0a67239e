import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.js';

/**
 * Attempt counters for sign-in doors (console, /card): one atomic upsert per attempt counts it and
 * returns the new count, so parallel attempts never read the same value. A counter starts over when its
 * window has passed. Callers refuse before doing any costly work (a password hash, an SMS).
 */
export async function countAttempt(db: Kysely<DB>, key: string, now: Date, windowMs: number): Promise<number> {
  const since = new Date(now.getTime() - windowMs);
  const row = await sql<{ count: number }>`
    INSERT INTO auth_throttle (key, window_start, count) VALUES (${key.slice(0, 160)}, ${now}, 1)
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN auth_throttle.window_start < ${since} THEN 1 ELSE auth_throttle.count + 1 END,
      window_start = CASE WHEN auth_throttle.window_start < ${since} THEN ${now} ELSE auth_throttle.window_start END
    RETURNING count`.execute(db);
  return Number(row.rows[0]!.count);
}

/** The attempts counted under `key` in the current window, without counting one. */
export async function attemptsSoFar(db: Kysely<DB>, key: string, now: Date, windowMs: number): Promise<number> {
  const row = await db
    .selectFrom('auth_throttle')
    .select(['count', 'window_start'])
    .where('key', '=', key.slice(0, 160))
    .executeTakeFirst();
  if (!row || new Date(row.window_start).getTime() < now.getTime() - windowMs) return 0;
  return row.count;
}

export async function clearAttempts(db: Kysely<DB>, key: string): Promise<void> {
  await db.deleteFrom('auth_throttle').where('key', '=', key.slice(0, 160)).execute();
}

export interface DelayRule {
  /** The counting window: a counter starts over once it has passed and no delay is running. */
  windowMs: number;
  /** Attempts in a window without any delay. */
  free: number;
  /** The delay after the first attempt past `free`; each further attempt doubles it. */
  baseMs: number;
  maxMs: number;
  /** Attempts in a window beyond which every attempt is refused, delay or not. */
  limit: number;
}

/**
 * Counts one attempt under `key` with growing delays: past `free` attempts, each allowed attempt sets a
 * delay (baseMs, 2·baseMs, 4·baseMs … up to maxMs) before which the next is refused and not counted. One
 * atomic upsert decides and counts, so parallel attempts cannot slip through on the same reading: an
 * attempt was allowed exactly when the row carries its own random nonce afterwards.
 */
export async function countWithDelay(
  db: Kysely<DB>,
  key: string,
  now: Date,
  rule: DelayRule,
): Promise<{ allowed: boolean; count: number }> {
  const since = new Date(now.getTime() - rule.windowMs);
  const steps = 20; // 2^20 · baseMs is far past any maxMs anyone sets
  const nonce = randomBytes(12).toString('base64url');
  const row = await sql<{ count: number; last_nonce: string | null }>`
    INSERT INTO auth_throttle AS t (key, window_start, count, last_nonce, blocked_until)
    VALUES (${key.slice(0, 160)}, ${now}, 1, ${nonce}, NULL)
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN t.blocked_until > ${now} THEN t.count
                   WHEN t.window_start < ${since} THEN 1 ELSE t.count + 1 END,
      window_start = CASE WHEN t.blocked_until > ${now} THEN t.window_start
                          WHEN t.window_start < ${since} THEN ${now} ELSE t.window_start END,
      last_nonce = CASE WHEN t.blocked_until > ${now} THEN t.last_nonce ELSE ${nonce} END,
      blocked_until = CASE WHEN t.blocked_until > ${now} THEN t.blocked_until
                           WHEN t.window_start < ${since} OR t.count + 1 <= ${rule.free} THEN NULL
                           ELSE ${now}::timestamptz + make_interval(secs => LEAST(${rule.maxMs}::float8,
                             ${rule.baseMs}::float8 * power(2, LEAST(t.count - ${rule.free}, ${steps}))) / 1000) END
    RETURNING count, last_nonce`.execute(db);
  const r = row.rows[0]!;
  const count = Number(r.count);
  return { allowed: r.last_nonce === nonce && count <= rule.limit, count };
}
