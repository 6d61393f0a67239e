import { INTERFACES, validate } from '@mdl/protocol';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { callHospital, type HospitalCallDeps } from '../../outbound/hospital.js';
import { noticeItemChange } from '../notices.js';
import type { Services } from '../deps.js';
import { audit, auditEvent, auditSystem } from '../audit.js';
import { outboundPorts } from '../credentials.js';
import { refreshSubjects } from '../subjects.js';

/**
 * 状态更新 (guide §3.2.5.3): asks the reporting hospital's ORG_001 whether an unpaid item is settled and
 * applies a paid (1) or revoked (2) answer. Anything that is not a verified, well-formed answer counts
 * as no answer: the item keeps its state, the attempt is audited (by callHospital) and recorded in
 * item_refresh as failed, which the reconciliation schedule and the retry job pick up.
 */
export type RefreshOutcome =
  | { kind: 'paid' | 'revoked' | 'unpaid' }
  | { kind: 'already-settled'; state: '1' | '2' }
  /** `retryable` is false when asking again cannot help (no endpoint or credential registered). */
  | { kind: 'no-answer'; detail: string; retryable: boolean }
  | { kind: 'not-found' };

export const ORG_001_SUFFIX = INTERFACES.ORG_001.path;

export function org001Url(endpointUrl: string): string {
  return endpointUrl.replace(/\/+$/, '') + ORG_001_SUFFIX;
}

/** The credential the item was reported with signs the call (as for ORG_002); else any active one of the institution. */
async function signingCredential(db: Kysely<DB>, orgId: string, batchId: number) {
  const viaBatch = await db
    .selectFrom('batch as b')
    .innerJoin('app_credential as c', 'c.app_id', 'b.app_id')
    .select(['c.app_id', 'c.secret_enc', 'c.env'])
    .where('b.id', '=', batchId)
    .where('c.status', '=', 'active')
    .executeTakeFirst();
  if (viaBatch) return viaBatch;
  return db
    .selectFrom('app_credential')
    .select(['app_id', 'secret_enc', 'env'])
    .where('org_id', '=', orgId)
    .where('kind', '=', 'institution')
    .where('status', '=', 'active')
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
}

/** What a refresh uses: the item and its credential, the ORG_001 call, and the notice of a change. */
type RefreshDeps = HospitalCallDeps & Pick<Services, 'notices' | 'now' | 'vault'>;

/** One refresh, counted by outcome for the metrics (a fault counts as `error` and is thrown on). */
export async function refreshItem(
  platform: RefreshDeps & Pick<Services, 'metrics'>,
  input: { itemId: number; subjects?: string[]; actor: string; requestId?: string | null },
): Promise<RefreshOutcome> {
  try {
    const r = await refreshOnce(platform, input);
    platform.metrics.itemRefresh(r.kind);
    return r;
  } catch (e) {
    platform.metrics.itemRefresh('error');
    throw e;
  }
}

/** A citizen's unanswered refresh waits this long before the queued retry asks the hospital again. */
const CITIZEN_RETRY_AFTER_S = 30;

/**
 * A citizen's 刷新: one ORG_001 call now. When no answer came and asking again can help, the record stays as it
 * is and a queued retry asks again after a short wait, with backoff.
 */
export async function refreshForCitizen(
  platform: RefreshDeps & Pick<Services, 'metrics' | 'enqueueItemRefresh'>,
  input: { itemId: number; subjects: string[]; requestId: string },
): Promise<RefreshOutcome> {
  const r = await refreshItem(platform, { ...input, actor: 'citizen' });
  if (r.kind === 'no-answer' && r.retryable) {
    await platform.enqueueItemRefresh(input.itemId, { requestId: input.requestId, delaySeconds: CITIZEN_RETRY_AFTER_S });
  }
  return r;
}

async function refreshOnce(
  platform: RefreshDeps,
  input: { itemId: number; subjects?: string[]; actor: string; requestId?: string | null },
): Promise<RefreshOutcome> {
  const { db, vault } = platform;
  let q = db
    .selectFrom('arrears_item as i')
    .innerJoin('institution as o', 'o.org_id', 'i.org_id')
    .select([
      'i.id',
      'i.org_id',
      'i.org_trace_id',
      'i.trace_id',
      'i.state',
      'i.subject_bidx',
      'i.report_batch_id',
      'o.endpoint_url',
      'o.outbound_ports',
    ])
    .where('i.id', '=', input.itemId);
  // A citizen may only refresh their own records: the filter is in the query that reads the row.
  if (input.subjects) q = q.where('i.subject_bidx', 'in', input.subjects);
  const item = await q.executeTakeFirst();
  if (!item) return { kind: 'not-found' };
  if (item.state !== '0') return { kind: 'already-settled', state: item.state };
  const now = new Date(platform.now());
  const fail = async (detail: string, retryable = true): Promise<RefreshOutcome> => {
    await recordAttempt(db, item.id, 'failed', null, detail, now);
    return { kind: 'no-answer', detail, retryable };
  };
  if (!item.endpoint_url) {
    await auditSystem(db, 'org001.call', {
      orgId: item.org_id,
      subject: item.subject_bidx,
      outcome: 'error',
      requestId: input.requestId ?? null,
      detail: 'institution has no endpoint_url',
    });
    return fail('机构未登记接口地址', false);
  }
  const cred = await signingCredential(db, item.org_id, item.report_batch_id);
  if (!cred) return fail('机构无可用凭证', false);
  const out = await callHospital(platform, {
    url: org001Url(item.endpoint_url),
    ports: outboundPorts(item.outbound_ports),
    appId: cred.app_id,
    secret: vault.decrypt(cred.secret_enc),
    env: cred.env,
    payload: { orgId: item.org_id, orgTraceId: item.org_trace_id, traceId: item.trace_id },
    timeoutMs: platform.config.refreshTimeoutMs,
    action: 'org001.call',
    orgId: item.org_id,
    subject: item.subject_bidx,
    requestId: input.requestId ?? null,
  });
  if (!out.ok) return fail(out.detail);
  const issue = validate(INTERFACES.ORG_001.response, out.payload);
  if (issue) {
    await auditSystem(db, 'org001.invalid', {
      orgId: item.org_id,
      subject: item.subject_bidx,
      target: `item:${item.id}`,
      outcome: 'error',
      requestId: input.requestId ?? null,
      detail: `${issue.path}: ${issue.message}`,
    });
    return fail(`应答不合规: ${issue.path}`);
  }
  const state = String(out.payload!.state) as '0' | '1' | '2';
  if (state === '0') {
    await recordAttempt(db, item.id, 'ok', '0', 'unpaid', now);
    return { kind: 'unpaid' };
  }
  await db.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable('arrears_item')
      .set({ state, settled_at: now, updated_at: now })
      .where('id', '=', item.id)
      .where('state', '=', '0')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) > 0) await refreshSubjects(trx, [item.subject_bidx]);
    await recordAttempt(trx, item.id, 'ok', state, state === '1' ? 'paid' : 'revoked', now);
    if (Number(r.numUpdatedRows) > 0) {
      await noticeItemChange(trx, platform.notices, item.id, 'citizen.refresh', now);
      await audit(
        trx,
        auditEvent(input.actor === 'platform' ? 'system' : 'citizen', input.actor, 'item.refresh', {
          orgId: item.org_id,
          subject: item.subject_bidx,
          target: item.trace_id,
          requestId: input.requestId ?? null,
          detail: JSON.stringify({ from: '0', to: state, via: 'ORG_001' }),
        }),
      );
    }
  });
  return { kind: state === '1' ? 'paid' : 'revoked' };
}

async function recordAttempt(
  db: Kysely<DB>,
  itemId: number,
  status: 'ok' | 'failed',
  lastState: '0' | '1' | '2' | null,
  detail: string,
  at: Date,
): Promise<void> {
  await db
    .insertInto('item_refresh')
    .values({ item_id: itemId, status, attempts: 1, last_state: lastState, last_detail: detail.slice(0, 500), last_attempt_at: at })
    .onConflict((oc) =>
      oc.column('item_id').doUpdateSet({
        status,
        attempts: sql`item_refresh.attempts + 1`,
        last_state: lastState,
        last_detail: detail.slice(0, 500),
        last_attempt_at: at,
        updated_at: at,
      }),
    )
    .execute();
}
