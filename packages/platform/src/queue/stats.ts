import type { SqlExecutor } from '../db/database.js';

export interface QueueStats {
  queue: string;
  created: number;
  retry: number;
  active: number;
  /** Seconds the oldest job that may run now has been waiting for a worker (0: none waiting). */
  oldestReadySeconds: number;
}

/**
 * Depth and age of every pg-boss queue in one grouped query over the job table (pg-boss's own `getQueueSize`
 * is one query per queue). A job deferred by a retry backoff or a start time is counted but is not "waiting"
 * until its start time has passed: the age says how long runnable work has found no worker.
 * Read when the metrics are scraped, never on a request.
 */
export async function queueStats(db: SqlExecutor, bossSchema: string): Promise<QueueStats[]> {
  const s = `"${bossSchema}"`;
  const { rows } = await db.executeSql(
    `SELECT q.name,
            count(*) FILTER (WHERE j.state = 'created')::int AS created,
            count(*) FILTER (WHERE j.state = 'retry')::int AS retry,
            count(*) FILTER (WHERE j.state = 'active')::int AS active,
            coalesce(extract(epoch FROM now() - min(j.start_after) FILTER (WHERE j.state < 'active' AND j.start_after <= now())), 0)::float8 AS oldest
       FROM ${s}.queue q LEFT JOIN ${s}.job j ON j.name = q.name AND j.state < 'completed'
      GROUP BY q.name ORDER BY q.name`,
    [],
  );
  return rows.map((r) => ({
    queue: String(r.name),
    created: Number(r.created),
    retry: Number(r.retry),
    active: Number(r.active),
    oldestReadySeconds: Math.max(0, Number(r.oldest)),
  }));
}
