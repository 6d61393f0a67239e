import type { Services } from '../domain/deps.js';
import { auditSystem, type AuditAction } from '../domain/audit.js';
import { postEnvelope, type EnvelopeCall, type EnvelopeResult } from './envelope-call.js';
import { whileDatabaseAway } from '../db/outage.js';

export type { HttpPost } from './envelope-call.js';

export interface OutboundCall extends Omit<EnvelopeCall, 'strict'> {
  /** For the audit trail. */
  action: AuditAction;
  orgId: string;
  subject?: string | null;
  requestId?: string | null;
  /**
   * The URL came from the caller's own request (notifyUrl): what the platform records and shows says only
   * "not delivered", never how the connection failed, so the callback is no port scanner. The full reason
   * goes to the platform's log.
   */
  discreet?: boolean;
}

export type OutboundResult = EnvelopeResult & {
  /** What may be recorded and shown: the detail, or with `discreet` its category only. */
  shown: string;
};

const SHOWN: Record<NonNullable<EnvelopeResult['failure']>, string> = {
  refused: '未送达: 目标地址不被出站策略允许',
  'no-answer': '未送达: 无应答',
  unverified: '未送达: 应答未通过验签',
};

/**
 * One signed, encrypted call from the platform to a hospital (ORG_001, ORG_002), with one audit event
 * per attempt whatever its outcome. A reply that does not verify is treated as no answer; on a production
 * deployment an unsigned reply is one that does not verify.
 */
/** What an outbound call needs: where to post, the deployment (strict replies), the log and the audit trail. */
export type HospitalCallDeps = Pick<Services, 'config' | 'db' | 'log' | 'post'>;

export async function callHospital(platform: HospitalCallDeps, call: OutboundCall): Promise<OutboundResult> {
  const result = await postEnvelope(platform.post, { ...call, strict: platform.config.deployment === 'production' });
  const shown = call.discreet && result.failure ? SHOWN[result.failure] : result.detail;
  if (result.failure)
    platform.log.warn({ action: call.action, orgId: call.orgId, url: call.url, detail: result.detail }, 'outbound call failed');
  // The call has happened: its audit event waits out a database restart rather than fail the job, which would
  // make the call again (a callback delivered twice).
  await whileDatabaseAway(
    () =>
      auditSystem(platform.db, call.action, {
        orgId: call.orgId,
        subject: call.subject ?? null,
        target: call.url,
        outcome: result.ok ? 'ok' : 'error',
        requestId: call.requestId ?? null,
        detail: call.discreet && result.failure ? shown : `${shown} (${result.durationMs} ms)`,
      }),
    { maxMs: 120_000 },
  );
  platform.log.info(
    {
      requestId: call.requestId ?? undefined,
      action: call.action,
      orgId: call.orgId,
      ok: result.ok,
      httpStatus: result.httpStatus,
      durationMs: result.durationMs,
    },
    'outbound call',
  );
  return { ...result, shown };
}
