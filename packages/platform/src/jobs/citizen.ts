import { itemsToReconcile } from '../domain/citizen/reconcile.js';
import { refreshItem } from '../domain/citizen/refresh.js';
import { markReminderFailed, pushReminder, quietHoursEnd, runReminderScan } from '../domain/citizen/reminders.js';
import { sweepExpired } from '../domain/citizen/tokens.js';
import type { Tx } from '../domain/deps.js';
import type { JobsHost } from './host.js';
import { defineJob, type JobType, type Traced } from '../queue/queue.js';

/** Background work of the citizen app (issue #4). */
export interface ItemJobData extends Traced {
  itemId: number;
}
export interface ReminderJobData extends Traced {
  reminderId: number;
}

/**
 * Re-asks a hospital's ORG_001 about one item. `stately` with the item as singleton key: the
 * reconciliation scan and a citizen's failed refresh never pile up several queued checks of one item.
 */
export const ItemRefreshJob = defineJob<ItemJobData>('item-refresh-v1', {
  policy: 'stately',
  retryLimit: 6,
  retryDelay: 60,
  retryBackoff: true,
  expireInSeconds: 120,
});
export const ReminderScanJob = defineJob<Traced>('reminder-scan-v1', { policy: 'singleton', retryLimit: 2, expireInSeconds: 3600 });
export const ReconcileScanJob = defineJob<Traced>('reconcile-scan-v1', { policy: 'singleton', retryLimit: 2, expireInSeconds: 600 });
export const ReminderPushDeadJob = defineJob<ReminderJobData>('reminder-push-dead-v1', { retryLimit: 3 });
export const ReminderPushJob = defineJob<ReminderJobData>('reminder-push-v1', {
  retryLimit: 8,
  retryDelay: 60,
  retryBackoff: true,
  expireInSeconds: 120,
  deadLetter: 'reminder-push-dead-v1',
});

export const CITIZEN_JOBS: JobType<unknown>[] = [ItemRefreshJob, ReminderScanJob, ReconcileScanJob, ReminderPushDeadJob, ReminderPushJob];

/** `delaySeconds`: a citizen's failed refresh waits a little before the retry instead of knocking again at once. */
export async function enqueueItemRefresh(
  platform: JobsHost,
  itemId: number,
  opts: { requestId?: string; delaySeconds?: number; trx?: Tx } = {},
): Promise<void> {
  await platform.jobs.send(ItemRefreshJob, { itemId, requestId: opts.requestId }, opts.trx, {
    singletonKey: `item:${itemId}`,
    startAfter: opts.delaySeconds ?? 0,
  });
}

/** `requestId`: the scheduled scan's job id, carried into each push (and its outbound call) it creates. */
export function reminderEnqueuer(platform: JobsHost, requestId?: string) {
  return async (trx: Tx, reminderId: number) => void (await platform.jobs.send(ReminderPushJob, { reminderId, requestId }, trx));
}

/** Cron schedules, in China time. pg-boss keeps one schedule per queue however many processes call this. */
export async function scheduleCitizenJobs(platform: JobsHost): Promise<void> {
  const tz = { tz: 'Asia/Shanghai' };
  // An empty cron turns the schedule off (tests that drive the scans with their own clock).
  for (const [job, cron] of [
    [ReminderScanJob, platform.config.reminderCron],
    [ReconcileScanJob, platform.config.reconcileCron],
  ] as const) {
    if (cron) await platform.jobs.boss.schedule(job.name, cron, {}, tz);
    else await platform.jobs.boss.unschedule(job.name);
  }
}

/**
 * None of this work is latency-critical (a citizen's refresh runs in the request; these are retries and
 * schedules), so the workers poll less often than batch processing does and add little load to the database.
 */
export async function startCitizenWorkers(platform: JobsHost, opts: { pollingIntervalSeconds: number }): Promise<void> {
  const polling = { pollingIntervalSeconds: Math.max(opts.pollingIntervalSeconds, 2) };
  const slow = { pollingIntervalSeconds: Math.max(opts.pollingIntervalSeconds, 5) };
  await platform.jobs.work(
    ItemRefreshJob,
    async ({ itemId, requestId }) => {
      const r = await refreshItem(platform, { itemId, actor: 'platform', requestId: requestId ?? null });
      platform.log.info({ itemId, requestId, outcome: r.kind }, 'item refreshed through ORG_001');
      // No answer: let the queue retry with backoff; after the last retry the reconciliation schedule takes over.
      if (r.kind === 'no-answer' && r.retryable) throw new Error(`ORG_001 gave no answer for item ${itemId}: ${r.detail}`);
    },
    polling,
  );
  await platform.jobs.work(
    ReminderScanJob,
    async (_data, meta) => {
      // A scheduled run has no request: its job id is the request id of the work it causes.
      const requestId = meta.id;
      const r = await runReminderScan(platform, platform.now(), reminderEnqueuer(platform, requestId));
      platform.log.info({ requestId, quiet: r.quiet, considered: r.considered, created: r.created.length }, 'reminder scan');
    },
    slow,
  );
  await platform.jobs.work(
    ReconcileScanJob,
    async (_data, meta) => {
      const requestId = meta.id;
      const ids = await itemsToReconcile(platform.db);
      for (const id of ids) await enqueueItemRefresh(platform, id, { requestId });
      await sweepExpired(platform.db, platform.now());
      platform.log.info({ requestId, items: ids.length }, 'reconciliation scan');
    },
    slow,
  );
  await platform.jobs.work(
    ReminderPushJob,
    async ({ reminderId, requestId }) => {
      const now = platform.now();
      let r: Awaited<ReturnType<typeof pushReminder>>;
      try {
        r = await pushReminder(platform, reminderId, now, requestId);
      } catch (err) {
        platform.metrics.reminderPush('failed');
        platform.log.warn({ reminderId, requestId, err: (err as Error).message }, 'reminder not delivered');
        throw err;
      }
      platform.metrics.reminderPush(r);
      platform.log.info({ reminderId, requestId, outcome: r }, 'reminder push');
      // A retry that lands in the quiet hours waits for 08:00 China time.
      if (r === 'deferred')
        await platform.jobs.send(ReminderPushJob, { reminderId, requestId }, undefined, { startAfter: quietHoursEnd(now) });
    },
    polling,
  );
  await platform.jobs.work(
    ReminderPushDeadJob,
    async ({ reminderId, requestId }, meta) => {
      if (meta.retryCount === 0) platform.metrics.deadLetter(ReminderPushDeadJob.name);
      platform.log.error({ reminderId, requestId }, 'reminder push gave up after its retries');
      await markReminderFailed(platform.db, reminderId);
    },
    slow,
  );
}
