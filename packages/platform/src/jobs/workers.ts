import { processBatch } from '../domain/processing.js';
import type { Platform } from '../platform.js';
import { deliverCallback, markCallbackFailed } from './callbacks.js';
import { scheduleCitizenJobs, startCitizenWorkers } from './citizen.js';
import { CallbackDeadJob, ProcessBatchDeadJob, ProcessBatchJob } from './definitions.js';

/**
 * Registers every background worker of the platform on its queue, and the cron schedules: they matter only where
 * jobs run, and setting them (cron parsing, time-zone data) would otherwise slow every start-up of an API process.
 */
export async function startWorkers(platform: Platform, opts: { pollingIntervalSeconds?: number } = {}): Promise<void> {
  await scheduleCitizenJobs(platform);
  const polling = { pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 0.5 };
  await platform.jobs.work(
    ProcessBatchJob,
    async ({ batchId, requestId }) => {
      const outcome = await processBatch(platform.processDeps, batchId);
      platform.log.info({ batchId, requestId, outcome }, 'batch processed');
    },
    { ...polling, concurrency: 4 },
  );
  await platform.jobs.work(
    platform.callbackJob,
    async ({ batchId, requestId }, meta) => {
      try {
        await deliverCallback(platform, batchId, requestId);
      } catch (err) {
        platform.log.warn({ batchId, requestId, attempt: meta.retryCount + 1, err: (err as Error).message }, 'callback not delivered');
        throw err;
      }
    },
    { ...polling, concurrency: 4 },
  );
  await platform.jobs.work(CallbackDeadJob, async ({ batchId }) => markCallbackFailed(platform, batchId), polling);
  await platform.jobs.work(
    ProcessBatchDeadJob,
    async ({ batchId }) => {
      platform.log.error({ batchId }, 'batch processing gave up; the batch stays in state received');
    },
    polling,
  );
  await startCitizenWorkers(platform, polling);
}
