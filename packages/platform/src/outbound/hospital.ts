import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { whileDatabaseAway } from '../db/outage.js';
import { audit } from '../domain/audit.js';
import type { Logger } from '../log.js';
import { fetchPost, postEnvelope, type EnvelopeCall, type EnvelopeResult, type HttpPost } from './envelope-call.js';

export { fetchPost, type HttpPost } from './envelope-call.js';

export interface OutboundCall extends EnvelopeCall {
  /** For the audit trail. */
  action: string;
  orgId: string;
  subject?: string | null;
}

export type OutboundResult = EnvelopeResult;

/**
 * One signed, encrypted call from the platform to a hospital (ORG_001, ORG_002), with one audit event
 * per attempt whatever its outcome. A reply that does not verify is treated as no answer.
 */
export async function callHospital(db: Kysely<DB>, call: OutboundCall, post: HttpPost = fetchPost, log?: Logger): Promise<OutboundResult> {
  const result = await postEnvelope(post, call);
  // The call has happened: its audit event waits out a database restart rather than fail the job, which would
  // make the call again (a callback delivered twice).
  await whileDatabaseAway(
    () =>
      audit(db, {
        actor_type: 'system',
        actor_id: 'platform',
        org_id: call.orgId,
        subject_bidx: call.subject ?? null,
        action: call.action,
        target: call.url,
        outcome: result.ok ? 'ok' : 'error',
        resp_code: null,
        request_id: call.requestId ?? null,
        detail: `${result.detail} (${result.durationMs} ms)`,
      }),
    { maxMs: 120_000 },
  );
  log?.info(
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
  return result;
}
