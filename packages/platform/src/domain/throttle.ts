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
