/**
 * The hospital kit's memory of calls it has already taken (issue #11 item 3): ORG_001/ORG_002 and the 前置机's
 * platform endpoints check the timestamp window, and within it the same envelope must not work twice. The key is
 * protocol's `replayKey`, which `openRequest` hands over with every verified request.
 *
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
