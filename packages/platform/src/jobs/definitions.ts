import type { Config } from '../config.js';
import { defineJob, type JobType, type Traced } from '../queue/queue.js';

export interface BatchJobData extends Traced {
  batchId: number;
}

/**
 * The lease of a running job: a job still active this long after it started belongs to a worker that died
 * (kill -9, crash, lost machine) and is run again at once by any process with workers (JobQueue.reclaimExpired,
 * every 5 s, 5 s past the lease): a crash's jobs are taken over within about 40 s, so everything is processed
 * and called back within 60 s of a restart. A batch is at most 100 items and processes in well under a second; a run still going at 30 s is
 * aborted and retried, and the retry waits on the batch's row lock and finds it done (processing.ts).
 */
export const EXPIRE_SECONDS = 30;

/** Applies a stored batch to the ledger. Retried on failure: processing is idempotent. */
export const ProcessBatchJob = defineJob<BatchJobData>('batch-process-v1', {
  retryLimit: 10,
  retryDelay: 5,
  retryBackoff: true,
  expireInSeconds: EXPIRE_SECONDS,
  deadLetter: 'batch-process-dead-v1',
});
export const ProcessBatchDeadJob = defineJob<BatchJobData>('batch-process-dead-v1', { retryLimit: 0 });

export const CALLBACK_DEAD_QUEUE = 'callback-dead-v1';

/**
 * ORG_002 delivery. With exponential, jittered backoff from `retryDelay`, the default 30 s and 12 retries
 * keep trying for at least 34 hours (DESIGN.md asks for at least 24) before the dead-letter queue.
 */
export function deliverCallbackJob(
  cfg: Pick<Config, 'callbackRetryDelaySeconds' | 'callbackRetryLimit' | 'callbackTimeoutMs'>,
): JobType<BatchJobData> {
  return defineJob<BatchJobData>('callback-deliver-v1', {
    retryLimit: cfg.callbackRetryLimit,
    retryDelay: cfg.callbackRetryDelaySeconds,
    retryBackoff: true,
    // The lease covers the longest hospital call allowed (MDL_CALLBACK_TIMEOUT_MS) with room to record it.
    expireInSeconds: Math.max(EXPIRE_SECONDS, Math.ceil(cfg.callbackTimeoutMs / 1000) + 15),
    deadLetter: CALLBACK_DEAD_QUEUE,
  });
}
export const CallbackDeadJob = defineJob<BatchJobData>(CALLBACK_DEAD_QUEUE, { retryLimit: 3 });
