import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { queueStats, type QueueStats } from './jobs/queue-stats.js';
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

const watched = new WeakSet<Platform>();

/**
 * The figures read when Prometheus scrapes: queue depth and age (one query over pg-boss's job table), callbacks
 * that gave up, and the database pool. A database that does not answer leaves the last values and counts an
 * error; the rest of the scrape (process figures, counters) still answers.
 */
export function watchPlatform(platform: Platform): void {
  if (watched.has(platform)) return;
  watched.add(platform);
  const registers = [platform.metrics.registry];
  const errors = new Counter({
    name: 'mdl_metrics_collect_errors_total',
    help: 'Scrapes whose database figures (queues, failed callbacks) could not be read; the last values were kept.',
    registers,
  });
  errors.inc(0);
  // One read of the database per scrape, shared by the gauges that need it.
  let pending: Promise<{ queues: QueueStats[]; failedCallbacks: number } | undefined> | undefined;
  const read = () =>
    (pending ??= (async () => {
      try {
        const [queues, failed] = await Promise.all([
          queueStats(platform.database, platform.jobs.schema),
          platform.db
            .selectFrom('batch')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('callback_status', '=', 'failed')
            .executeTakeFirstOrThrow(),
        ]);
        return { queues, failedCallbacks: Number(failed.n) };
      } catch (err) {
        errors.inc();
        platform.log.warn({ err }, 'metrics: database figures unavailable');
        return undefined;
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
      const snap = await read();
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
      const snap = await read();
      if (!snap) return;
      for (const q of snap.queues) this.set({ queue: q.queue }, q.oldestReadySeconds);
    },
  });
  new Gauge({
    name: 'mdl_callbacks_failed',
    help: 'Batches whose ORG_002 callback gave up after every retry and was not resent yet (console: 批次).',
    registers,
    async collect() {
      const snap = await read();
      if (snap) this.set(snap.failedCallbacks);
    },
  });
  new Gauge({
    name: 'mdl_db_pool_connections',
    help: 'Database connections of this process by state: open, idle, max (the pool size).',
    labelNames: ['state'],
    registers,
    collect() {
      const p = platform.database.poolStats();
      this.set({ state: 'open' }, p.open);
      this.set({ state: 'idle' }, p.idle);
      this.set({ state: 'max' }, p.max);
    },
  });
  new Gauge({
    name: 'mdl_db_pool_waiting',
    help: 'Queries of this process waiting for a free database connection.',
    registers,
    collect() {
      this.set(platform.database.poolStats().waiting);
    },
  });
}
