import { Redis } from 'ioredis';

/**
 * Counters several API processes must agree on: the replay cache and per-credential rate limits.
 * Redis when REDIS_URL is set, process memory otherwise (one process only).
 */
export interface SharedState {
  /** Records `key` for `ttlMs`; true when it was already there (a replay). */
  seenBefore(key: string, ttlMs: number): Promise<boolean>;
  /** Counts a hit in the current fixed window of `windowMs`; returns the count so far. */
  hit(key: string, windowMs: number): Promise<number>;
  /** Both of the above for one request, in one round trip where the store is remote. */
  admit(replayKey: string, ttlMs: number, rateKey: string, windowMs: number): Promise<{ replay: boolean; hits: number }>;
  close(): Promise<void>;
}

export class MemoryState implements SharedState {
  readonly #seen = new Map<string, number>();
  readonly #hits = new Map<string, { window: number; count: number }>();
  #lastSweep = 0;
  constructor(private readonly now: () => number = Date.now) {}

  async seenBefore(key: string, ttlMs: number): Promise<boolean> {
    const t = this.now();
    this.#sweep(t);
    const until = this.#seen.get(key);
    if (until !== undefined && until > t) return true;
    this.#seen.set(key, t + ttlMs);
    return false;
  }

  async hit(key: string, windowMs: number): Promise<number> {
    const window = Math.floor(this.now() / windowMs);
    const cur = this.#hits.get(key);
    if (!cur || cur.window !== window) {
      this.#hits.set(key, { window, count: 1 });
      return 1;
    }
    return ++cur.count;
  }

  async admit(replayKey: string, ttlMs: number, rateKey: string, windowMs: number): Promise<{ replay: boolean; hits: number }> {
    return { replay: await this.seenBefore(replayKey, ttlMs), hits: await this.hit(rateKey, windowMs) };
  }

  #sweep(t: number): void {
    if (t - this.#lastSweep < 10_000) return;
    this.#lastSweep = t;
    for (const [k, until] of this.#seen) if (until <= t) this.#seen.delete(k);
    this.#hits.clear();
  }

  async close(): Promise<void> {}
}

/** Replay mark (SET NX PX) and rate counter (INCR, expiry set with the first hit) of one request, atomically. */
const ADMIT_LUA = `
local fresh = redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'NX')
local hits = redis.call('INCR', KEYS[2])
if hits == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
if fresh then return {0, hits} end
return {1, hits}
`;

interface AdmitCommand {
  mdlAdmit(replayKey: string, rateKey: string, ttlMs: number, expireMs: number): Promise<unknown>;
}

export class RedisState implements SharedState {
  readonly #redis: Redis;
  constructor(
    url: string,
    private readonly prefix = 'mdl:',
  ) {
    // Auto-pipelining: the commands of concurrent requests leave in one write and come back in one read.
    this.#redis = new Redis(url, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false, enableAutoPipelining: true });
    this.#redis.defineCommand('mdlAdmit', { numberOfKeys: 2, lua: ADMIT_LUA });
  }

  async seenBefore(key: string, ttlMs: number): Promise<boolean> {
    const r = await this.#redis.set(`${this.prefix}replay:${key}`, '1', 'PX', ttlMs, 'NX');
    return r === null;
  }

  async hit(key: string, windowMs: number): Promise<number> {
    const window = Math.floor(Date.now() / windowMs);
    const k = `${this.prefix}rate:${key}:${window}`;
    const [[, count]] = (await this.#redis
      .multi()
      .incr(k)
      .pexpire(k, windowMs * 2)
      .exec()) as [[unknown, number], unknown];
    return count;
  }

  async admit(replayKey: string, ttlMs: number, rateKey: string, windowMs: number): Promise<{ replay: boolean; hits: number }> {
    const k = `${this.prefix}rate:${rateKey}:${Math.floor(Date.now() / windowMs)}`;
    // One EVALSHA instead of MULTI/SET/INCR/PEXPIRE/EXEC: one command to parse and answer, still atomic.
    const [replay, hits] = (await (this.#redis as unknown as AdmitCommand).mdlAdmit(
      `${this.prefix}replay:${replayKey}`,
      k,
      ttlMs,
      windowMs * 2,
    )) as [number, number];
    return { replay: replay === 1, hits };
  }

  async ping(): Promise<void> {
    await this.#redis.ping();
  }

  async close(): Promise<void> {
    await this.#redis.quit();
  }
}
