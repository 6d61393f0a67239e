/** Seconds; ORG_MDL_002 answers in milliseconds, a report of 100 items in tens of them, a timeout in seconds. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** The calls of one interface: counts by response code, and a latency histogram (per bucket, not cumulative). */
export interface InterfaceStats {
  byRespCode: Map<string, number>;
  /** One slot per bucket of LATENCY_BUCKETS, the last one for +Inf. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** Counters with one label, by name: name → label value → count. */
export type LabelledCounts = ReadonlyMap<string, ReadonlyMap<string, number>>;

/**
 * What this process counts as things happen: interface calls, callback attempts, dead letters, batches,
 * reminders and refreshes. Plain numbers, so that counting costs a map look-up and an addition and the platform
 * loads no metrics library: prom-client is loaded by the metrics listener, which reads these when scraped
 * (metrics-scrape.ts), beside what it reads from the database and the process. One instance per platform, so that
 * several platforms in one test process never mix.
 */
export class Metrics {
  readonly startedAt = Date.now();
  readonly interfaces = new Map<string, InterfaceStats>();
  readonly #counts = new Map<string, Map<string, number>>();

  constructor() {
    // Zero series exist from the start, so that rates and ratios are defined before the first event.
    for (const o of ['delivered', 'refused', 'error']) this.#add('callbackAttempts', o, 0);
  }

  /** One interface call (the booking-time hot path): counted by its response code, its duration observed. */
  call(code: string, respCode: string, seconds: number): void {
    let s = this.interfaces.get(code);
    if (!s) {
      s = { byRespCode: new Map(), buckets: new Float64Array(LATENCY_BUCKETS.length + 1), sum: 0, count: 0 };
      this.interfaces.set(code, s);
    }
    s.byRespCode.set(respCode, (s.byRespCode.get(respCode) ?? 0) + 1);
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++;
    s.buckets[i]!++;
    s.sum += seconds;
    s.count++;
  }

  callbackAttempt(outcome: 'delivered' | 'refused' | 'error'): void {
    this.#add('callbackAttempts', outcome);
  }

  deadLetter(queue: string): void {
    this.#add('deadLetters', queue);
  }

  reminderPush(outcome: string): void {
    this.#add('reminderPushes', outcome);
  }

  itemRefresh(outcome: string): void {
    this.#add('itemRefreshes', outcome);
  }

  batchProcessed(outcome: string): void {
    this.#add('batchesProcessed', outcome);
  }

  /** The one-label counters, for the exporter. */
  get counts(): LabelledCounts {
    return this.#counts;
  }

  #add(name: string, label: string, n = 1): void {
    let m = this.#counts.get(name);
    if (!m) this.#counts.set(name, (m = new Map()));
    m.set(label, (m.get(label) ?? 0) + n);
  }
}
