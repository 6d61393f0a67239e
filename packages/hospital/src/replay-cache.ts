/**
 * The hospital kit's memory of calls it has already taken (issue #11 item 3): ORG_001/ORG_002 and the 前置机's
 * platform endpoints check the timestamp window, and within it the same envelope must not work twice.
 */
import { base64LenientDecode, canonicalJson, isPlain, sm3Hex, type Envelope } from '@mdl/protocol';

/**
 * What a replay is keyed on: what was signed, not how it was spelled. A signature's bytes (so `abc=`, `abc==`,
 * ` abc` and `abc` are one key), with the appId; for a PLAIN test call, a digest of its canonical JSON (sorted
 * keys, no whitespace), so re-spacing the body does not make it new.
 */
export function replayKey(env: Envelope): string {
  const appId = typeof env.appId === 'string' ? env.appId : '';
  if (!isPlain(env.signType) && typeof env.sign === 'string') {
    const bytes = base64LenientDecode(env.sign);
    if (bytes) return `${appId}\u0000sig:${bytes.toString('hex')}`;
  }
  const { sign: _sign, ...rest } = env;
  return `${appId}\u0000plain:${sm3Hex(canonicalJson(rest))}`;
}

/**
 * Keys seen in the last `ttlMs`, at most `maxEntries` (the oldest go first; only calls that verified are
 * remembered, so only the platform can fill it). In memory: a restart forgets, which the timestamp window
 * bounds to calls younger than the window.
 */
export class ReplayCache {
  readonly #seen = new Map<string, number>();
  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** True the first time a key is offered within the window; false for a replay. */
  firstSeen(key: string): boolean {
    const t = this.now();
    // Insertion order is expiry order (one ttl for all): drop the expired from the front.
    for (const [k, until] of this.#seen) {
      if (until > t) break;
      this.#seen.delete(k);
    }
    if (this.#seen.has(key)) return false;
    if (this.#seen.size >= this.maxEntries) this.#seen.delete(this.#seen.keys().next().value!);
    this.#seen.set(key, t + this.ttlMs);
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }
}
