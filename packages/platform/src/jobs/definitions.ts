import type { Config } from '../config.js';
import { defineJob, type JobType, type Traced } from './queue.js';

export interface BatchJobData extends Traced {
  batchId: number;
}

/** Applies a stored batch to the ledger. Retried on failure: processing is idempotent. */
export const ProcessBatchJob = defineJob<BatchJobData>('batch-process-v1', {
  retryLimit: 10,
  retryDelay: 5,
  retryBackoff: true,
  expireInSeconds: 300,
  deadLetter: 'batch-process-dead-v1',
});
export const ProcessBatchDeadJob = defineJob<BatchJobData>('batch-process-dead-v1', { retryLimit: 0 });

export const CALLBACK_DEAD_QUEUE = 'callback-dead-v1';

/**
 * ORG_002 delivery. With exponential, jittered backoff from `retryDelay`, the default 30 s and 12 retries
 * keep trying for at least 34 hours (DESIGN.md asks for at least 24) before the dead-letter queue.
 */
export function deliverCallbackJob(cfg: Pick<Config, 'callbackRetryDelaySeconds' | 'callbackRetryLimit'>): JobType<BatchJobData> {
  return defineJob<BatchJobData>('callback-deliver-v1', {
    retryLimit: cfg.callbackRetryLimit,
    retryDelay: cfg.callbackRetryDelaySeconds,
    retryBackoff: true,
    expireInSeconds: 120,
    deadLetter: CALLBACK_DEAD_QUEUE,
  });
}
export const CallbackDeadJob = defineJob<BatchJobData>(CALLBACK_DEAD_QUEUE, { retryLimit: 3 });
