import { INTERFACES } from '@mdl/protocol';
import { Counter, Histogram, Registry } from 'prom-client';

/** Seconds; ORG_MDL_002 answers in milliseconds, a report of 100 items in tens of them, a timeout in seconds. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

type Inc = { inc(value?: number): void };
type Observe = { observe(value: number): void };

/**
 * The figures this process counts as things happen (interface calls, callback attempts, dead letters,
 * reminders, refreshes), in a registry of its own per platform so that several platforms in one test
 * process never mix. Figures read from the database or the process (queue depth, pool, event loop) are
 * gathered when the metrics listener is scraped (start/metrics-listener.ts), never on a request.
 *
 * The interface figures sit on the booking-time hot path (ORG_MDL_002): the children of every
 * (interface, respCode) pair are bound once and found through two map look-ups, and the latency histogram
 * is labelled by interface only, so an observation builds no label object of ours.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly startedAt = Date.now();
  readonly #calls: Counter<'code' | 'resp_code'>;
  readonly #seconds: Histogram<'code'>;
  readonly #callChildren = new Map<string, Map<string, Inc>>();
  readonly #secondChildren = new Map<string, Observe>();
  readonly #callbackAttempts: Counter<'outcome'>;
  readonly #deadLetters: Counter<'queue'>;
  readonly #reminders: Counter<'outcome'>;
  readonly #refreshes: Counter<'outcome'>;
  readonly #batches: Counter<'outcome'>;

  constructor() {
    const registers = [this.registry];
    this.#calls = new Counter({
      name: 'mdl_interface_requests_total',
      help: 'Interface calls by interface code and the response code answered.',
      labelNames: ['code', 'resp_code'],
      registers,
    });
    this.#seconds = new Histogram({
      name: 'mdl_interface_duration_seconds',
      help: 'Time from receiving an interface call to its reply, by interface code.',
      labelNames: ['code'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    for (const code of Object.keys(INTERFACES)) {
      this.#secondChildren.set(code, this.#seconds.labels(code));
      this.#callChildren.set(code, new Map([['000000', this.#calls.labels(code, '000000')]]));
    }
    this.#callbackAttempts = new Counter({
      name: 'mdl_callback_attempts_total',
      help: 'ORG_002 callback attempts by outcome: delivered, refused (the hospital answered otherwise), error (no verified answer).',
      labelNames: ['outcome'],
      registers,
    });
    this.#deadLetters = new Counter({
      name: 'mdl_dead_letters_total',
      help: 'Jobs that used up their retries and reached a dead-letter queue, by that queue.',
      labelNames: ['queue'],
      registers,
    });
    this.#reminders = new Counter({
      name: 'mdl_reminder_pushes_total',
      help: 'Reminder push attempts by outcome: sent, failed, cancelled, deferred, skipped.',
      labelNames: ['outcome'],
      registers,
    });
    this.#refreshes = new Counter({
      name: 'mdl_item_refreshes_total',
      help: 'ORG_001 status refreshes by outcome: paid, revoked, unpaid, no-answer, already-settled, not-found.',
      labelNames: ['outcome'],
      registers,
    });
    this.#batches = new Counter({
      name: 'mdl_batches_processed_total',
      help: 'Report and update batches applied by the batch job, by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    // Zero series exist from the start, so that rates and ratios are defined before the first event.
    for (const o of ['delivered', 'refused', 'error']) this.#callbackAttempts.labels(o).inc(0);
  }

  /** One interface call: counted by its response code, its duration observed by interface. */
  call(code: string, respCode: string, seconds: number): void {
    let byResp = this.#callChildren.get(code);
    if (!byResp) this.#callChildren.set(code, (byResp = new Map()));
    let counter = byResp.get(respCode);
    if (!counter) byResp.set(respCode, (counter = this.#calls.labels(code, respCode)));
    counter.inc();
    let histogram = this.#secondChildren.get(code);
    if (!histogram) this.#secondChildren.set(code, (histogram = this.#seconds.labels(code)));
    histogram.observe(seconds);
  }

  callbackAttempt(outcome: 'delivered' | 'refused' | 'error'): void {
    this.#callbackAttempts.labels(outcome).inc();
  }

  deadLetter(queue: string): void {
    this.#deadLetters.labels(queue).inc();
  }

  reminderPush(outcome: string): void {
    this.#reminders.labels(outcome).inc();
  }

  itemRefresh(outcome: string): void {
    this.#refreshes.labels(outcome).inc();
  }

  batchProcessed(outcome: string): void {
    this.#batches.labels(outcome).inc();
  }
}
