import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { PoolStats } from './db/database.js';
import { queueStats, type QueueStats } from './queue/stats.js';
import { LATENCY_BUCKETS } from './metrics.js';
import type { Platform } from './platform.js';

let processRegistry: Registry | undefined;

/**
 * Node's default figures (event-loop lag, heap, GC, CPU, open handles), once per process however many
 * platforms it holds; started only by a metrics listener, so tests and CLI commands run no event-loop monitor.
 */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

const registries = new WeakMap<Platform, Registry>();

/** The one-label counters of Metrics (metrics.ts) as Prometheus counters: key → name, label, help. */
const COUNTERS = [
  [
    'callbackAttempts',
    'mdl_callback_attempts_total',
    'outcome',
    'ORG_002 callback attempts by outcome: delivered, refused (the hospital answered otherwise), error (no verified answer).',
  ],
  ['deadLetters', 'mdl_dead_letters_total', 'queue', 'Jobs that used up their retries and reached a dead-letter queue, by that queue.'],
  ['batchesProcessed', 'mdl_batches_processed_total', 'outcome', 'Report and update batches applied by the batch job, by outcome.'],
  [
    'reminderPushes',
    'mdl_reminder_pushes_total',
    'outcome',
    'Reminder push attempts by outcome: sent, failed, cancelled, deferred, skipped.',
  ],
  [
    'itemRefreshes',
    'mdl_item_refreshes_total',
    'outcome',
    'ORG_001 status refreshes by outcome: paid, revoked, unpaid, no-answer, already-settled, not-found, error.',
  ],
] as const;

/**
 * The platform's figures for Prometheus, built once per platform by the metrics listener: what Metrics counted
 * (read as it stands when scraped), and what is read from the database and the pool when scraped: queue depth and
 * age (one query over pg-boss's job table), callbacks that gave up, the database pool. A database that does not
 * answer leaves the last values and counts an error; the rest of the scrape (process figures, counters) still answers.
 */
export function platformRegistry(platform: Platform): Registry {
  let registry = registries.get(platform);
  if (registry) return registry;
  registry = new Registry();
  registries.set(platform, registry);
  const registers = [registry];
  const { metrics } = platform;

  new Counter({
    name: 'mdl_interface_requests_total',
    help: 'Interface calls by interface code and the response code answered.',
    labelNames: ['code', 'resp_code'],
    registers,
    collect() {
      this.reset();
      for (const [code, s] of metrics.interfaces) for (const [respCode, n] of s.byRespCode) this.inc({ code, resp_code: respCode }, n);
    },
  });
  registry.registerMetric(latencyHistogram(platform) as unknown as Metric);
  for (const [key, name, label, help] of COUNTERS) {
    new Counter({
      name,
      help,
      labelNames: [label],
      registers,
      collect() {
        this.reset();
        for (const [value, n] of metrics.counts.get(key) ?? []) this.inc({ [label]: value }, n);
      },
    });
  }
  const errors = new Counter({
    name: 'mdl_metrics_collect_errors_total',
    help: 'Scrapes whose database figures (queues, failed callbacks) could not be read; the last values were kept.',
    registers,
  });
  errors.inc(0);
  // One read of the database per scrape, shared by the gauges that need it.
  let pending: Promise<{ pool: PoolStats; db?: { queues: QueueStats[]; failedCallbacks: number } }> | undefined;
  const read = () =>
    (pending ??= (async () => {
      // The pool as it was before this scrape's own queries took a connection.
      const pool = platform.database.poolStats();
      try {
        const [queues, failed] = await Promise.all([
          queueStats(platform.database, platform.jobs.schema),
          platform.db
            .selectFrom('batch')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('callback_status', '=', 'failed')
            .executeTakeFirstOrThrow(),
        ]);
        return { pool, db: { queues, failedCallbacks: Number(failed.n) } };
      } catch (err) {
        errors.inc();
        platform.log.warn({ err }, 'metrics: database figures unavailable');
        return { pool };
      } finally {
        setImmediate(() => (pending = undefined));
      }
    })());

  new Gauge({
    name: 'mdl_job_queue_depth',
    help: 'Jobs in each pg-boss queue by state: created (waiting), retry (waiting after a failure), active (running).',
    labelNames: ['queue', 'state'],
    registers,
    async collect() {
      const snap = (await read()).db;
      if (!snap) return;
      for (const q of snap.queues) {
        this.set({ queue: q.queue, state: 'created' }, q.created);
        this.set({ queue: q.queue, state: 'retry' }, q.retry);
        this.set({ queue: q.queue, state: 'active' }, q.active);
      }
    },
  });
  new Gauge({
    name: 'mdl_job_oldest_ready_seconds',
    help: 'Seconds the oldest runnable job of each queue has waited for a worker (0 when none waits).',
    labelNames: ['queue'],
    registers,
    async collect() {
      const snap = (await read()).db;
      if (!snap) return;
      for (const q of snap.queues) this.set({ queue: q.queue }, q.oldestReadySeconds);
    },
  });
  new Gauge({
    name: 'mdl_callbacks_failed',
    help: 'Batches whose ORG_002 callback gave up after every retry and was not resent yet (console: 批次).',
    registers,
    async collect() {
      const snap = (await read()).db;
      if (snap) this.set(snap.failedCallbacks);
    },
  });
  new Gauge({
    name: 'mdl_db_pool_connections',
    help: 'Database connections of this process by state: open, idle, max (the pool size).',
    labelNames: ['state'],
    registers,
    async collect() {
      const p = (await read()).pool;
      this.set({ state: 'open' }, p.open);
      this.set({ state: 'idle' }, p.idle);
      this.set({ state: 'max' }, p.max);
    },
  });
  new Gauge({
    name: 'mdl_db_pool_waiting',
    help: 'Queries of this process waiting for a free database connection.',
    registers,
    async collect() {
      this.set((await read()).pool.waiting);
    },
  });
  return registry;
}

/**
 * The interface latency histogram, from the buckets Metrics keeps (prom-client's own Histogram cannot be set from
 * counts): the same metric object shape prom-client's registry formats for its histograms.
 */
function latencyHistogram(platform: Platform) {
  const name = 'mdl_interface_duration_seconds';
  const help = 'Time from receiving an interface call (its body included) to its reply, by interface code.';
  const get = () => {
    const values: { labels: Record<string, string>; value: number; metricName: string }[] = [];
    for (const [code, s] of platform.metrics.interfaces) {
      let acc = 0;
      LATENCY_BUCKETS.forEach((bound, i) => {
        acc += s.buckets[i]!;
        values.push({ labels: { code, le: String(bound) }, value: acc, metricName: `${name}_bucket` });
      });
      values.push({ labels: { code, le: '+Inf' }, value: s.count, metricName: `${name}_bucket` });
      values.push({ labels: { code }, value: s.sum, metricName: `${name}_sum` });
      values.push({ labels: { code }, value: s.count, metricName: `${name}_count` });
    }
    return Promise.resolve({ name, help, type: 'histogram', aggregator: 'sum', values });
  };
  return { name, help, type: 'histogram', aggregator: 'sum', get, reset: () => undefined };
}
