import { MdlError, RespCode, SIGN_VERSION, SIGN_VERSION_HEADER, openReply, sealRequest } from '@mdl/protocol';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { audit } from '../domain/audit.js';

/** Injectable so tests and odd deployments can swap the transport; the default is global fetch. */
export type HttpPost = (
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
) => Promise<{ status: number; text: string }>;

export const fetchPost: HttpPost = async (url, body, headers, timeoutMs) => {
  const res = await fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  return { status: res.status, text: await res.text() };
};

export interface OutboundCall {
  url: string;
  appId: string;
  secret: string;
  env: 'test' | 'prod';
  payload: unknown;
  timeoutMs: number;
  /** For the audit trail. */
  action: string;
  orgId: string;
  subject?: string | null;
  requestId?: string | null;
}

export interface OutboundResult {
  ok: boolean;
  httpStatus: number | null;
  payload: Record<string, unknown> | undefined;
  durationMs: number;
  detail: string;
}

/**
 * One signed, encrypted call from the platform to a hospital (ORG_001, ORG_002), with one audit event
 * per attempt whatever its outcome. A reply that does not verify is treated as no answer.
 */
export async function callHospital(db: Kysely<DB>, call: OutboundCall, post: HttpPost = fetchPost): Promise<OutboundResult> {
  const started = Date.now();
  const env = sealRequest(call.payload, { appId: call.appId, secret: call.secret });
  let result: OutboundResult;
  try {
    const res = await post(
      call.url,
      JSON.stringify(env),
      { 'content-type': 'application/json; charset=utf-8', [SIGN_VERSION_HEADER]: SIGN_VERSION },
      call.timeoutMs,
    );
    if (res.status < 200 || res.status >= 300) {
      result = { ok: false, httpStatus: res.status, payload: undefined, durationMs: Date.now() - started, detail: `HTTP ${res.status}` };
    } else {
      let body: unknown;
      try {
        body = JSON.parse(res.text);
      } catch {
        throw new MdlError(RespCode.EXTERNAL, '对方应答不是 JSON');
      }
      const reply = openReply(body, call.secret, { allowPlain: call.env === 'test' });
      const ok = reply.respCode === RespCode.SUCCESS && reply.payload !== undefined;
      result = {
        ok,
        httpStatus: res.status,
        payload: reply.payload,
        durationMs: Date.now() - started,
        detail: ok ? 'ok' : `respCode ${reply.respCode} ${reply.respMsg}`,
      };
    }
  } catch (e) {
    const detail =
      e instanceof MdlError
        ? `${e.code} ${e.message}`
        : (e as Error).name === 'TimeoutError'
          ? 'timeout'
          : String((e as Error).cause ?? (e as Error).message);
    result = { ok: false, httpStatus: null, payload: undefined, durationMs: Date.now() - started, detail };
  }
  await audit(db, {
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
  });
  return result;
}
