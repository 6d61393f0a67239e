/**
 * Telling a database that is away (restarting, unreachable, refusing connections) from a query that is wrong,
 * and waiting out the former where a write must not be lost (issue #14). Only db/ knows these error shapes.
 */

// SQLSTATE classes and codes of a server going away: admin shutdown, crash shutdown, cannot connect now,
// connection exceptions (08xxx), too many connections.
const AWAY_CODES = new Set(['57P01', '57P02', '57P03', '53300']);
const AWAY_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN']);
const AWAY_MESSAGE =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed|the database system is (starting up|shutting down|in recovery mode)|terminating connection/i;

/** True when `e` says the database is unreachable or going away, not that the query itself was refused. */
export function isDatabaseAway(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  const { code, message, cause } = e as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof code === 'string' && (AWAY_CODES.has(code) || code.startsWith('08') || AWAY_ERRNO.has(code))) return true;
  if (typeof message === 'string' && AWAY_MESSAGE.test(message)) return true;
  return cause !== undefined && cause !== e && isDatabaseAway(cause);
}

export interface WaitOptions {
  /** Give up (rethrow the last error) after this long. */
  maxMs: number;
  /** Told once per outage, when the first attempt fails. */
  onWait?: (err: unknown) => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs `fn`, and again with backoff (200 ms doubling to 2 s) while the database is away, for at most `maxMs`.
 * Any other error is rethrown at once. For statements that are safe to repeat.
 */
export async function whileDatabaseAway<T>(fn: () => Promise<T>, opts: WaitOptions): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + opts.maxMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isDatabaseAway(e) || Date.now() >= deadline) throw e;
      if (attempt === 0) opts.onWait?.(e);
      await sleep(Math.min(200 * 2 ** attempt, 2000, Math.max(0, deadline - Date.now())));
    }
  }
}
