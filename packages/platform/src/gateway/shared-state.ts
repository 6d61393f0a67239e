import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../log.js';

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
  admit(replayKey: string, ttlMs: number, rateKey: string, windowMs: number): Promise<Admission>;
  close(): Promise<void>;
}

export interface Admission {
  /** The replay mark was already there. */
  replay: boolean;
  /** Hits of the rate key in the current window, this one included. */
  hits: number;
  /** Requests whose timestamp is older than this (ms) are refused as replays: the store lost its marks then. */
  fence: number;
}

export class MemoryState implements SharedState {
  readonly #seen = new Map<string, number>();
  readonly #hits = new Map<string, { window: number; count: number; until: number }>();
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
    const t = this.now();
    this.#sweep(t);
    const window = Math.floor(t / windowMs);
    const cur = this.#hits.get(key);
    if (!cur || cur.window !== window) {
      this.#hits.set(key, { window, count: 1, until: (window + 1) * windowMs });
      return 1;
    }
    return ++cur.count;
  }

  async admit(replayKey: string, ttlMs: number, rateKey: string, windowMs: number): Promise<Admission> {
    return { replay: await this.seenBefore(replayKey, ttlMs), hits: await this.hit(rateKey, windowMs), fence: 0 };
  }

  #sweep(t: number): void {
    if (t - this.#lastSweep < 10_000) return;
    this.#lastSweep = t;
    for (const [k, until] of this.#seen) if (until <= t) this.#seen.delete(k);
    // Only counts whose window is over: a minute-long limit must not restart with every sweep.
    for (const [k, h] of this.#hits) if (h.until <= t) this.#hits.delete(k);
  }

  async close(): Promise<void> {}
}

export interface RedisStateOptions {
  /** Longest wait for one command: a frozen Redis makes a request fail (000002) instead of hang. */
  timeoutMs: number;
  /** How long a replay mark lives (twice the timestamp tolerance): also how long a fence matters. */
  windowMs: number;
  log?: Logger;
}

/** Raised when Redis does not answer in time or is unreachable; the gateway answers 000002. */
export class SharedStateUnavailable extends Error {
  override name = 'SharedStateUnavailable';
}

// Sets a new epoch marker if there is none, and raises the stored fence to ARGV[2] if that is later; returns both.
const RENEW = `
local f = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[2]) > f then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  f = tonumber(ARGV[2])
end
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return {redis.call('GET', KEYS[1]), tostring(f)}`;

/**
 * Redis keeps an epoch marker, a random value written once. Every admission reads it in the same round trip as
 * the replay mark; when it is missing (Redis restarted empty, flushed, evicted) or replaced (another process found
 * it missing), the replay marks of before are gone, so this process raises a fence at the moment it noticed:
 * every request whose timestamp is older is refused as a replay, and nothing accepted before the loss can be
 * accepted again. The fence is kept in Redis too, for processes that start later; rate counters simply restart.
 */
/**
 * One admission in one command: the epoch marker, the replay mark (SET NX PX), the rate counter (INCR, expiry set
 * with the first hit) and the stored fence. Returns {epoch, replay 0|1, hits, fence}.
 */
const ADMIT_LUA = `
local epoch = redis.call('GET', KEYS[1])
local fresh = redis.call('SET', KEYS[2], '1', 'PX', ARGV[1], 'NX')
local hits = redis.call('INCR', KEYS[3])
if hits == 1 then redis.call('PEXPIRE', KEYS[3], ARGV[2]) end
local replay = 1
if fresh then replay = 0 end
return {epoch or false, replay, hits, redis.call('GET', KEYS[4]) or '0'}
`;

interface AdmitCommand {
  mdlAdmit(epochKey: string, replayKey: string, rateKey: string, fenceKey: string, ttlMs: number, expireMs: number): Promise<unknown>;
}

export class RedisState implements SharedState {
  readonly #redis: Redis;
  readonly #epochKey: string;
  readonly #fenceKey: string;
  #epoch: string | undefined;
  #fence = 0;
  /** One renewal at a time: the many requests that notice a loss together wait for the same one. */
  #renewing: Promise<void> | undefined;
  constructor(
    url: string,
    private readonly prefix = 'mdl:',
    private readonly opts: RedisStateOptions = { timeoutMs: 1000, windowMs: 600_000 },
  ) {
    this.#epochKey = `${prefix}epoch`;
    this.#fenceKey = `${prefix}fence`;
    this.#redis = new Redis(url, {
      // Fail fast, never queue for long: a command waits at most timeoutMs, and while the connection is down
      // commands fail at once rather than piling up; ioredis reconnects by itself.
      commandTimeout: opts.timeoutMs,
      connectTimeout: Math.max(opts.timeoutMs, 1000),
      maxRetriesPerRequest: 0,
      enableOfflineQueue: true,
      lazyConnect: false,
      // Auto-pipelining: the commands of concurrent requests leave in one write and come back in one read.
      enableAutoPipelining: true,
      retryStrategy: (times) => Math.min(100 * times, 1000),
    });
    this.#redis.defineCommand('mdlAdmit', { numberOfKeys: 4, lua: ADMIT_LUA });
    let down = false;
    this.#redis.on('error', (err) => {
      if (!down) opts.log?.warn({ err: err.message }, 'redis unavailable: interface calls answer 000002 until it is back');
      down = true;
    });
    this.#redis.on('ready', () => {
      if (down) opts.log?.info('redis reachable again');
      down = false;
    });
  }

  /** The moment before which every request's timestamp is refused (0: none). */
  get fence(): number {
    return this.#fence;
  }

  /**
   * Every command is bounded twice: ioredis's commandTimeout, and a timer of our own over the whole call (a
   * MULTI or a script included), so that no request ever waits on Redis longer than the configured time.
   */
  async #run<T>(fn: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
        }),
      ]);
    } catch (e) {
      throw new SharedStateUnavailable(`redis: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  async seenBefore(key: string, ttlMs: number): Promise<boolean> {
    const r = await this.#run(() => this.#redis.set(`${this.prefix}replay:${key}`, '1', 'PX', ttlMs, 'NX'));
    return r === null;
  }

  async hit(key: string, windowMs: number): Promise<number> {
    const window = Math.floor(Date.now() / windowMs);
    const k = `${this.prefix}rate:${key}:${window}`;
    const r = (await this.#run(() =>
      this.#redis
        .multi()
        .incr(k)
        .pexpire(k, windowMs * 2)
        .exec(),
    )) as [[unknown, number], unknown];
    return r[0][1];
  }

  async admit(replayKey: string, ttlMs: number, rateKey: string, windowMs: number): Promise<Admission> {
    const k = `${this.prefix}rate:${rateKey}:${Math.floor(Date.now() / windowMs)}`;
    // One EVALSHA instead of MULTI/GET/SET/INCR/PEXPIRE/GET/EXEC: one command to parse and answer, still atomic.
    const [epoch, replay, hits, storedFence] = (await this.#run(() =>
      (this.#redis as unknown as AdmitCommand).mdlAdmit(
        this.#epochKey,
        `${this.prefix}replay:${replayKey}`,
        k,
        this.#fenceKey,
        ttlMs,
        windowMs * 2,
      ),
    )) as [string | null, number, number, string];
    if (epoch === null || epoch !== this.#epoch) await this.#renew(epoch, Number(storedFence));
    return { replay: replay === 1, hits, fence: this.#fence };
  }

  /**
   * A first look at the marker adopts it (and the fence stored with it); a missing or replaced marker means the
   * replay marks were lost: fence at now.
   */
  async #renew(seen: string | null, storedFence: number): Promise<void> {
    this.#renewing ??= this.#renewOnce(seen, storedFence).finally(() => (this.#renewing = undefined));
    return this.#renewing;
  }

  async #renewOnce(seen: string | null, storedFence: number): Promise<void> {
    const lost = seen === null || this.#epoch !== undefined;
    const candidate = lost ? Date.now() : storedFence;
    const fresh = randomBytes(8).toString('hex');
    const [epoch, fence] = (await this.#run(() =>
      this.#redis.eval(RENEW, 2, this.#epochKey, this.#fenceKey, fresh, String(candidate), String(this.opts.windowMs)),
    )) as [string, string];
    if (lost) {
      this.opts.log?.warn(
        { fence: new Date(Number(fence)).toISOString(), epoch },
        'redis lost its replay marks (epoch marker missing or replaced): requests with older timestamps are refused as replays',
      );
    }
    this.#epoch = epoch;
    this.#fence = Math.max(this.#fence, Number(fence));
  }

  /** Reachable, and the epoch marker looked at (at start: an empty Redis is fenced from this moment). */
  async ping(): Promise<void> {
    const r = (await this.#run(() => this.#redis.multi().get(this.#epochKey).get(this.#fenceKey).exec())) as [
      [unknown, string | null],
      [unknown, string | null],
    ];
    if (r[0][1] === null || r[0][1] !== this.#epoch) await this.#renew(r[0][1], Number(r[1][1] ?? 0));
  }

  async close(): Promise<void> {
    await this.#redis.quit().catch(() => this.#redis.disconnect());
  }
}
