import type { CallbackRequest } from '@mdl/protocol';
import { auditOperator, auditSystem, type Operator } from './audit.js';
import { readResult } from './batches.js';
import { whileDatabaseAway } from '../db/outage.js';
import { outboundPorts } from './credentials.js';
import { callHospital, type HospitalCallDeps } from '../outbound/hospital.js';
import type { Services } from './deps.js';

export class CallbackNotAccepted extends Error {
  override name = 'CallbackNotAccepted';
}

/**
 * One ORG_002 attempt for a processed batch, recorded whatever happens. Throws when the hospital did
 * not confirm with state `success`, so the queue retries with backoff.
 */
export async function deliverCallback(
  platform: HospitalCallDeps & Pick<Services, 'metrics' | 'vault'>,
  batchId: number,
  requestId: string | undefined,
): Promise<'delivered' | 'skipped'> {
  const { db, vault } = platform;
  // One statement for the batch, its institution and its credential: each statement is a round trip, and on a
  // loaded host the round trips, not the rows, are what a callback costs the database.
  const batch = await db
    .selectFrom('batch as b')
    .leftJoin('institution as i', 'i.org_id', 'b.org_id')
    .leftJoin('app_credential as a', 'a.app_id', 'b.app_id')
    .selectAll('b')
    .select(['i.org_name', 'i.outbound_ports', 'a.secret_enc', 'a.env'])
    .where('b.id', '=', batchId)
    .executeTakeFirst();
  if (!batch || batch.status !== 'done' || batch.callback_status === 'delivered') return 'skipped';
  if (!batch.secret_enc || !batch.env) throw new Error(`callback for batch ${batch.id}: credential ${batch.app_id} not found`);
  const result = readResult(vault, batch)!;
  const payload: CallbackRequest = {
    orgId: batch.org_id,
    orgName: batch.org_name ?? '',
    notifyType: batch.kind,
    reportResultList: batch.kind === 'REPORT' ? result.persons : [],
    updateResultList: batch.kind === 'UPDATE' ? result.persons : [],
    extData: { orgRequestId: batch.org_request_id, accepted: result.accepted, rejected: result.rejected },
  };
  const attempt = batch.callback_attempts + 1;
  // The job carries the id of the request that caused it; a job enqueued before it did falls back to the batch's.
  const traceId = requestId ?? batch.request_id;
  // The notifyUrl is the hospital's say-so: the address policy decides where it may lead, and the record
  // says "not delivered" without how the connection failed (callHospital's `discreet`).
  const out = await callHospital(platform, {
    url: batch.notify_url,
    ports: outboundPorts(batch.outbound_ports),
    appId: batch.app_id,
    secret: vault.decrypt(batch.secret_enc),
    env: batch.env,
    payload,
    timeoutMs: platform.config.callbackTimeoutMs,
    action: 'callback.deliver',
    orgId: batch.org_id,
    requestId: traceId,
    discreet: true,
  });
  const accepted = out.ok && out.payload?.state === 'success';
  const outcome = accepted ? 'delivered' : out.ok ? 'refused' : 'error';
  platform.metrics.callbackAttempt(outcome);
  const detail = accepted
    ? 'success'
    : out.ok
      ? `hospital answered state=${String(out.payload?.state)} ${String(out.payload?.msg ?? '')}`
      : out.shown;
  // The hospital has the callback now: its record must not be lost to a database restart, or the job would
  // fail and deliver it a second time. One statement (so atomic without a transaction), retried while the
  // database is away.
  const record = () =>
    db
      .with('attempt', (q) =>
        q
          .insertInto('callback_attempt')
          .values({
            batch_id: batch.id,
            attempt,
            url: batch.notify_url.slice(0, 200),
            duration_ms: out.durationMs,
            http_status: out.httpStatus,
            outcome,
            detail: detail.slice(0, 500),
            request_id: traceId,
          })
          .returning('batch_id'),
      )
      .updateTable('batch')
      .set({ callback_attempts: attempt, ...(accepted ? { callback_status: 'delivered', delivered_at: new Date() } : {}) })
      .where('id', '=', batch.id)
      .execute();
  await whileDatabaseAway(record, {
    maxMs: 120_000,
    onWait: () => platform.log.warn({ batchId, requestId }, 'database away after a callback was delivered: waiting to record it'),
  });
  if (!accepted) throw new CallbackNotAccepted(`callback for batch ${batch.id} not accepted: ${detail}`);
  return 'delivered';
}

/** After the last retry: the batch shows as failed in the console, where an operator can resend. */
export async function markCallbackFailed(platform: Pick<Services, 'db'>, batchId: number, requestId?: string): Promise<void> {
  await platform.db.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable('batch')
      .set({ callback_status: 'failed' })
      .where('id', '=', batchId)
      .where('callback_status', '=', 'pending')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 0) return;
    const b = await trx
      .selectFrom('batch')
      .select(['org_id', 'org_request_id', 'callback_attempts'])
      .where('id', '=', batchId)
      .executeTakeFirstOrThrow();
    await auditSystem(trx, 'callback.failed', {
      orgId: b.org_id,
      target: b.org_request_id,
      outcome: 'error',
      requestId: requestId ?? null,
      detail: `gave up after ${b.callback_attempts} attempts`,
    });
  });
}

/**
 * Operator action (console or `mdl callbacks resend`): deliver again, whatever happened before, audited under
 * `by`. The job carries the operator's request id (console), else the id of the request that sent the batch (CLI).
 */
export async function resendCallback(
  platform: Pick<Services, 'db' | 'enqueueCallback'>,
  batchId: number,
  by: Operator,
  requestId?: string,
): Promise<boolean> {
  return platform.db.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable('batch')
      .set({ callback_status: 'pending' })
      .where('id', '=', batchId)
      .where('status', '=', 'done')
      .returning(['org_id', 'org_request_id', 'request_id'])
      .executeTakeFirst();
    if (!r) return false;
    const traceId = requestId ?? r.request_id ?? undefined;
    await platform.enqueueCallback(trx, batchId, traceId);
    await auditOperator(trx, by, 'callback.resend', { orgId: r.org_id, target: r.org_request_id, requestId: traceId ?? null });
    return true;
  });
}
