import { MdlError, RespCode, SIGN_VERSION, SIGN_VERSION_HEADER, openReply, sealRequest } from '@mdl/protocol';
import { isRequestId } from '../request-id.js';

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

export interface EnvelopeCall {
  url: string;
  appId: string;
  secret: string;
  env: 'test' | 'prod';
  payload: unknown;
  timeoutMs: number;
  /** The request (or scheduled run) this call serves, sent as X-Request-Id so both sides' logs line up. */
  requestId?: string | null | undefined;
}

export interface EnvelopeResult {
  /** A verified 000000 reply carrying business data (enveloped, or the guide's single-layer form). */
  ok: boolean;
  httpStatus: number | null;
  /** The reply's respCode once it verified (000000 for a single-layer reply), else null. */
  respCode: string | null;
  payload: Record<string, unknown> | undefined;
  durationMs: number;
  detail: string;
}

/**
 * Every call the platform makes to another system: seal (SM4 + SM3) with the receiver's credential, POST,
 * and open the reply. A reply that is not JSON or does not verify counts as no answer, never as data.
 */
export async function postEnvelope(post: HttpPost, call: EnvelopeCall): Promise<EnvelopeResult> {
  const started = Date.now();
  const env = sealRequest(call.payload, { appId: call.appId, secret: call.secret });
  const fail = (httpStatus: number | null, detail: string): EnvelopeResult => ({
    ok: false,
    httpStatus,
    respCode: null,
    payload: undefined,
    durationMs: Date.now() - started,
    detail,
  });
  try {
    const res = await post(
      call.url,
      JSON.stringify(env),
      {
        'content-type': 'application/json; charset=utf-8',
        [SIGN_VERSION_HEADER]: SIGN_VERSION,
        // Only ids of the platform's own form (the gateway's rule): nothing else could be a header value.
        ...(isRequestId(call.requestId) ? { 'x-request-id': call.requestId } : {}),
      },
      call.timeoutMs,
    );
    if (res.status < 200 || res.status >= 300) return fail(res.status, `HTTP ${res.status}`);
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      return fail(res.status, `${RespCode.EXTERNAL} 对方应答不是 JSON`);
    }
    const reply = openReply(body, call.secret, { allowPlain: call.env === 'test' });
    const ok = reply.respCode === RespCode.SUCCESS && reply.payload !== undefined;
    return {
      ok,
      httpStatus: res.status,
      respCode: reply.respCode,
      payload: reply.payload,
      durationMs: Date.now() - started,
      detail: ok ? 'ok' : `respCode ${reply.respCode} ${reply.respMsg}`,
    };
  } catch (e) {
    if (e instanceof MdlError) return fail(null, `${e.code} ${e.message}`);
    return fail(null, (e as Error).name === 'TimeoutError' ? 'timeout' : String((e as Error).cause ?? (e as Error).message));
  }
}
