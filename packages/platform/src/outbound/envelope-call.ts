import { MdlError, RespCode, SIGN_VERSION, SIGN_VERSION_HEADER, openReply, sealRequest } from '@mdl/protocol';
import { OutboundRefused } from './address-policy.js';
import type { HttpPost } from './pinned-post.js';

export type { HttpPost, OutboundTarget } from './pinned-post.js';

export interface EnvelopeCall {
  url: string;
  /** The ports the receiver registered (address-policy.ts). */
  ports: readonly number[];
  /**
   * Production: only a signed envelope that verifies counts as an answer (never PLAIN, never the guide's
   * unsigned single-layer `{"state":...}`, which anyone on the path could have written).
   */
  strict: boolean;
  appId: string;
  secret: string;
  env: 'test' | 'prod';
  payload: unknown;
  timeoutMs: number;
  /** The request (or scheduled run) this call serves, sent as X-Request-Id so both sides' logs line up. */
  requestId?: string | null | undefined;
}

export interface EnvelopeResult {
  /** A verified 000000 reply carrying business data (enveloped, or in a sandbox the guide's single-layer form). */
  ok: boolean;
  /** Why there was no answer, in words safe to show to the institution (no addresses, ports or socket errors). */
  failure: 'refused' | 'no-answer' | 'unverified' | undefined;
  httpStatus: number | null;
  /** The reply's respCode once it verified (000000 for a single-layer reply), else null. */
  respCode: string | null;
  payload: Record<string, unknown> | undefined;
  durationMs: number;
  detail: string;
}

/**
 * Every call the platform makes to another system: seal (SM4 + SM3) with the receiver's credential, POST
 * through the address policy, and open the reply. A reply that is not JSON or does not verify counts as no
 * answer, never as data.
 */
export async function postEnvelope(post: HttpPost, call: EnvelopeCall): Promise<EnvelopeResult> {
  const started = Date.now();
  const env = sealRequest(call.payload, { appId: call.appId, secret: call.secret });
  const fail = (httpStatus: number | null, detail: string, failure: EnvelopeResult['failure'] = 'no-answer'): EnvelopeResult => ({
    ok: false,
    failure,
    httpStatus,
    respCode: null,
    payload: undefined,
    durationMs: Date.now() - started,
    detail,
  });
  try {
    const res = await post(
      { url: call.url, ports: call.ports },
      JSON.stringify(env),
      {
        'content-type': 'application/json; charset=utf-8',
        [SIGN_VERSION_HEADER]: SIGN_VERSION,
        ...(call.requestId ? { 'x-request-id': call.requestId } : {}),
      },
      call.timeoutMs,
    );
    if (res.status < 200 || res.status >= 300) return fail(res.status, `HTTP ${res.status}`);
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      return fail(res.status, `${RespCode.EXTERNAL} 对方应答不是 JSON`, 'unverified');
    }
    const reply = openReply(body, call.secret, { allowPlain: call.env === 'test' && !call.strict, singleLayer: !call.strict });
    const ok = reply.respCode === RespCode.SUCCESS && reply.payload !== undefined;
    return {
      ok,
      failure: undefined,
      httpStatus: res.status,
      respCode: reply.respCode,
      payload: reply.payload,
      durationMs: Date.now() - started,
      detail: ok ? 'ok' : `respCode ${reply.respCode} ${reply.respMsg}`,
    };
  } catch (e) {
    if (e instanceof OutboundRefused) return fail(null, e.message, 'refused');
    if (e instanceof MdlError) return fail(null, `${e.code} ${e.message}`, 'unverified');
    const err = e as Error & { cause?: Error };
    const timedOut = err.name === 'TimeoutError' || err.cause?.name === 'TimeoutError';
    return fail(null, timedOut ? 'timeout' : String(err.cause ?? err.message));
  }
}
