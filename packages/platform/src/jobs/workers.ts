import { processBatch } from '../domain/processing.js';
import type { JobsHost } from './host.js';
import { deliverCallback, markCallbackFailed } from '../domain/callbacks.js';
import { scheduleCitizenJobs, startCitizenWorkers } from './citizen.js';
import { CallbackDeadJob, ProcessBatchDeadJob, ProcessBatchJob } from './definitions.js';

/**
 * Registers every background worker of the platform on its queue, and the cron schedules: they matter only where
 * jobs run, and setting them (cron parsing, time-zone data) would otherwise slow every start-up of an API process.
 */
export async function startWorkers(platform: JobsHost, opts: { pollingIntervalSeconds?: number } = {}): Promise<void> {
  await scheduleCitizenJobs(platform);
  const polling = { pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 0.5 };
  const patience = {
    maxMs: 20_000,
    onWait: (err: unknown) => platform.log.warn({ err: (err as Error).message }, 'database away: job waits'),
  };
  await platform.jobs.work(
    ProcessBatchJob,
    async ({ batchId, requestId }) => {
      // A database restart is waited out here rather than counted as a failed attempt (retried only after the
      // retry delay): processing is one transaction, safe to run again.
      const outcome = await platform.jobs.waitingOutDatabase(() => processBatch(platform.processDeps, batchId), patience);
      platform.metrics.batchProcessed(outcome);
      platform.log.info({ batchId, requestId, outcome }, 'batch processed');
    },
    { ...polling, concurrency: 4 },
  );
  await platform.jobs.work(
    platform.callbackJob,
    async ({ batchId, requestId }, meta) => {
      try {
        // Safe to repeat: a delivered batch is skipped, and once the hospital has it the record itself waits.
        const outcome = await platform.jobs.waitingOutDatabase(() => deliverCallback(platform, batchId, requestId), patience);
        platform.log.info({ batchId, requestId, attempt: meta.retryCount + 1, outcome }, 'callback');
      } catch (err) {
        platform.log.warn({ batchId, requestId, attempt: meta.retryCount + 1, err: (err as Error).message }, 'callback not delivered');
        throw err;
      }
    },
    // A delivery mostly waits for the hospital's answer and holds no connection meanwhile: more of them at
    // once keep callbacks up with processing when many hospitals report together.
    { ...polling, concurrency: 12 },
  );
  await platform.jobs.work(
    CallbackDeadJob,
    async ({ batchId, requestId }, meta) => {
      // The dead-letter job is retried too: count the letter once, on its first run.
      if (meta.retryCount === 0) platform.metrics.deadLetter(CallbackDeadJob.name);
      platform.log.error({ batchId, requestId }, 'callback gave up after its retries');
      await markCallbackFailed(platform, batchId, requestId);
    },
    polling,
  );
  await platform.jobs.work(
    ProcessBatchDeadJob,
    async ({ batchId, requestId }) => {
      platform.metrics.deadLetter(ProcessBatchDeadJob.name);
      platform.log.error({ batchId, requestId }, 'batch processing gave up; the batch stays in state received');
    },
    polling,
  );
  await startCitizenWorkers(platform, polling);
}
