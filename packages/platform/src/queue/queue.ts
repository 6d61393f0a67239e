import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import PgBoss from 'pg-boss';
import type { Logger } from '../log.js';
import type { Database, SqlExecutor } from '../db/database.js';
import { isDatabaseAway, whileDatabaseAway, type WaitOptions } from '../db/outage.js';
import type { DB } from '../db/schema.js';
import { markedByText } from '../db/prepared.js';

/**
 * A typed, versioned job. The version is part of the queue name: a change to the data shape gets a new
 * queue, and old workers never see jobs they cannot read.
 */
export interface JobType<T> {
  readonly name: string;
  readonly options: Omit<PgBoss.Queue, 'name'>;
  /** Phantom field carrying the data type. */
  readonly _data?: T;
}

export function defineJob<T>(name: string, options: JobType<T>['options']): JobType<T> {
  return { name, options };
}

/** Every job carries the request that caused it, so logs of the job and of the request line up. */
export interface Traced {
  requestId?: string | undefined;
}

/** How often one of the processes looks for expired jobs (and archives old ones). */
export const MAINTENANCE_INTERVAL_S = 10;
/** How often a process running workers looks for jobs whose worker died, and how long past the lease. */
const RECLAIM_INTERVAL_S = 5;
const RECLAIM_GRACE_S = 5;
/** What pg-boss 10's maintenance writes into a job it expired (plans.js, failJobsByTimeout). */
const EXPIRED_MESSAGE = 'job failed by timeout in active state';
/** How long stop() waits for running handlers and pg-boss's own statements before the database may close. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * pg-boss 10 takes the next job in (priority, created_on, id) order, but its index of waiting jobs is by
 * start_after: every fetch read and sorted the whole waiting queue, so a queue a burst of reports had made 1,000
 * deep cost 2–3 ms a fetch and drained in quadratic time (bench/analysis.md, 2026-12-08). This index holds the
 * waiting jobs in the order a fetch takes them, so a fetch reads the first few. Made on the partitioned table, it
 * is made on every queue's partition, those created later included (ATTACH PARTITION adds it).
 */
const FETCH_ORDER_INDEX = 'mdl_job_fetch_order';

/** Makes FETCH_ORDER_INDEX where it is missing; where it exists, one catalogue read (CREATE INDEX would lock the table). */
async function ensureFetchOrderIndex(database: Database, schema: string): Promise<void> {
  const { rows } = await database.executeSql(`SELECT to_regclass($1) IS NOT NULL AS present`, [`"${schema}".${FETCH_ORDER_INDEX}`]);
  if (rows[0]?.['present'] === true) return;
  await database.executeSql(
    `CREATE INDEX IF NOT EXISTS ${FETCH_ORDER_INDEX} ON "${schema}".job (name, priority DESC, created_on, id) WHERE state < 'active'`,
  );
}

export type JobHandler<T> = (data: T, meta: { id: string; retryCount: number; retryLimit: number }) => Promise<void>;

export class JobQueue {
  readonly boss: PgBoss;
  #started = false;
  #reclaimTimer: NodeJS.Timeout | undefined;
  /**
   * Handlers running and statements on their way, ours and pg-boss's: pg-boss completes a job without awaiting
   * it, and a fetch under way when stop() begins may still hand a worker a job. stop() waits for all of them, so
   * that nothing reaches the database after it resolves (it is closed next).
   */
  readonly #inFlight = new Set<Promise<unknown>>();

  constructor(
    private readonly database: Database,
    readonly schema: string,
    private readonly log: Logger,
  ) {
    this.boss = new PgBoss({
      db: this.#patient(database),
      schema,
      supervise: true,
      schedule: true,
      migrate: true,
      // Expired jobs (their worker died) are found within this many seconds: see EXPIRE_SECONDS (definitions.ts).
      maintenanceIntervalSeconds: MAINTENANCE_INTERVAL_S,
    });
    let quietUntil = 0;
    let quieted = 0;
    this.boss.on('error', (err) => {
      // Every worker's poll fails while the database is away: one line per 10 s, not one per poll.
      if (isDatabaseAway(err)) {
        if (Date.now() < quietUntil) return void quieted++;
        this.log.warn(
          { err: (err as Error).message, since: quieted },
          'job queue: database unavailable; jobs wait and resume when it is back',
        );
        quietUntil = Date.now() + 10_000;
        quieted = 0;
        return;
      }
      this.log.error({ err }, 'job queue error');
    });
  }

  /**
   * pg-boss's own statements (fetch, complete, fail, maintenance) wait out a database restart instead of failing:
   * pg-boss completes a job without awaiting the promise, so a completion lost to an outage would otherwise be
   * an unhandled rejection and the job would be run again after its lease. Each statement is safe to repeat.
   */
  #patient(database: Database): SqlExecutor {
    return {
      executeSql: (text, values) => this.#track(whileDatabaseAway(() => database.executeSql(text, values), { maxMs: 60_000 })),
    };
  }

  /**
   * pg-boss's start creates or migrates its tables and its own queue; creating a queue adds a partition to the
   * job table. Done by several processes at once, these deadlock, so all of it runs under the schema's set-up
   * lock, and a queue is only created or changed when it is missing or its options differ: a restart changes
   * nothing and costs one query.
   */
  async start(types: JobType<unknown>[]): Promise<void> {
    await this.database.exclusive(async () => {
      if (!this.#started) {
        await this.boss.start();
        await ensureFetchOrderIndex(this.database, this.schema);
        this.#started = true;
      }
      const existing = new Map((await this.boss.getQueues()).map((q) => [q.name, q]));
      // Dead-letter queues first: a queue may only name one that exists.
      const ordered = [...types].sort((a, b) => Number(Boolean(a.options.deadLetter)) - Number(Boolean(b.options.deadLetter)));
      for (const t of ordered) {
        const have = existing.get(t.name);
        if (!have) await this.boss.createQueue(t.name, { name: t.name, ...t.options });
        else if (!sameOptions(have, t.options)) await this.boss.updateQueue(t.name, { name: t.name, ...t.options });
      }
    });
  }

  /** Enqueue inside the caller's transaction when given one: the job exists if and only if the write does. */
  async send<T extends Traced>(
    type: JobType<T>,
    data: T,
    trx?: Transaction<DB> | Kysely<DB>,
    opts: PgBoss.SendOptions = {},
  ): Promise<string | null> {
    const db = trx ? transactionExecutor(trx) : undefined;
    return this.boss.send(type.name, data as object, { ...opts, ...(db ? { db } : {}) });
  }

  /**
   * Run `fn` again while the database is away (a restart, a failover) instead of failing the job, which would
   * count an attempt and wait out the retry delay. For work that is safe to repeat (one transaction).
   */
  waitingOutDatabase<R>(fn: () => Promise<R>, opts: WaitOptions): Promise<R> {
    return whileDatabaseAway(fn, opts);
  }

  /**
   * Runs `handler` for each job of the type, `concurrency` at a time, one job per worker: a worker that fetched
   * several would be free again only when the slowest of them is done, so one hospital that never answers would
   * hold up others' jobs (test/callback-isolation.test.ts).
   * One job per worker also keeps one failing job from dragging others into a retry.
   */
  async work<T>(
    type: JobType<T>,
    handler: JobHandler<T>,
    opts: { pollingIntervalSeconds?: number; concurrency?: number } = {},
  ): Promise<void> {
    this.#reclaimTimer ??= setInterval(() => void this.reclaimExpired(), RECLAIM_INTERVAL_S * 1000).unref();
    for (let i = 0; i < (opts.concurrency ?? 1); i++) {
      // The handler may in principle run before work() resolves with the id, hence a holder.
      const worker: { id?: string } = {};
      worker.id = await this.boss.work<T>(
        type.name,
        { pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 1, batchSize: 1, includeMetadata: true },
        ([job]) => {
          const j = job as PgBoss.JobWithMetadata<T>;
          return this.#track(
            handler(j.data, { id: j.id, retryCount: j.retryCount, retryLimit: j.retryLimit }).finally(() => {
              // A worker that just found a job looks again at once instead of sleeping out its polling
              // interval: a busy queue drains at the speed of the work, an idle one still polls slowly.
              if (worker.id && this.#started) this.boss.notifyWorker(worker.id);
            }),
          );
        },
      );
    }
  }

  /**
   * A job still active after its lease (and a grace period, so that a living worker's own time-out acts first)
   * belongs to a worker that died: it is put back to run at once. So is one that pg-boss's maintenance already
   * expired into a delayed retry (its message says so; a handler's own failure has another): nothing about the
   * job failed, so the takeover after a crash waits for the lease only, not for the retry delay (for callbacks
   * 30-60 s and more). Same rows and states as pg-boss's own expiry (pg-boss 10).
   */
  async reclaimExpired(): Promise<number> {
    try {
      const r = await this.#track(
        this.database.executeSql(
          `UPDATE "${this.schema}".job SET state = 'retry', start_after = now()
          WHERE (state = 'active' AND started_on + expire_in + interval '${RECLAIM_GRACE_S} seconds' < now()
                 AND retry_count < retry_limit)
             OR (state = 'retry' AND start_after > now() AND output #>> '{value,message}' = '${EXPIRED_MESSAGE}')
          RETURNING name, id`,
        ),
      );
      for (const row of r.rows) this.log.warn({ queue: row.name, jobId: row.id }, 'job lease ran out (its worker stopped): run again now');
      return r.rows.length;
    } catch (err) {
      if (!isDatabaseAway(err)) this.log.error({ err }, 'reclaiming expired jobs failed');
      return 0;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.#reclaimTimer);
    this.#reclaimTimer = undefined;
    if (!this.#started) return;
    this.#started = false;
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    await this.boss.stop({ graceful: true, wait: true, timeout: STOP_TIMEOUT_MS });
    // A settled promise may start the next one (a handler's end, its completion): look again after each turn.
    while (this.#inFlight.size > 0 && Date.now() < deadline) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise((r) => (timer = setTimeout(r, deadline - Date.now())));
      await Promise.race([Promise.allSettled([...this.#inFlight]), timeout]);
      clearTimeout(timer);
      await new Promise((r) => setImmediate(r));
    }
    if (this.#inFlight.size > 0) this.log.warn({ running: this.#inFlight.size }, 'job queue stopped with work still running');
  }

  #track<R>(work: Promise<R>): Promise<R> {
    this.#inFlight.add(work);
    work.then(
      () => this.#inFlight.delete(work),
      () => this.#inFlight.delete(work),
    );
    return work;
  }
}

/** Whether a queue as stored already has every option the job type sets (what updateQueue would change). */
function sameOptions(have: PgBoss.QueueResult, want: JobType<unknown>['options']): boolean {
  const wanted = { policy: 'standard', ...want } as Record<string, unknown>;
  return Object.entries(wanted).every(([k, v]) => v === undefined || (have as unknown as Record<string, unknown>)[k] === v);
}

function transactionExecutor(trx: Transaction<DB> | Kysely<DB>): SqlExecutor {
  return {
    async executeSql(text, values) {
      // pg-boss's insert of a job enqueued in the business transaction: named like the statements of executeSql.
      const r = await trx.executeQuery(CompiledQuery.raw(markedByText(text, values), values ?? []));
      return { rows: r.rows as Record<string, unknown>[] };
    },
  };
}
