import { MdlError, RespCode, SIGN_VERSION, SIGN_VERSION_HEADER, openReply, sealRequest } from '@mdl/protocol';
import type { HttpPost } from './hospital.js';

/**
 * The HTTP push adapter of reminders: the same signed and encrypted envelope as every other call of the
 * platform, sealed with the channel's credential (闽政通), so the receiver verifies it with the secret it
 * already holds. Success is a verified `000000` reply or a single-layer `{"state":"success"}`.
 */
export async function pushSigned(
  post: HttpPost,
  call: { url: string; appId: string; secret: string; env: 'test' | 'prod'; payload: unknown; timeoutMs: number },
): Promise<{ ok: boolean; detail: string }> {
  const env = sealRequest(call.payload, { appId: call.appId, secret: call.secret });
  try {
    const res = await post(
      call.url,
      JSON.stringify(env),
      { 'content-type': 'application/json; charset=utf-8', [SIGN_VERSION_HEADER]: SIGN_VERSION },
      call.timeoutMs,
    );
    if (res.status < 200 || res.status >= 300) return { ok: false, detail: `HTTP ${res.status}` };
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      return { ok: false, detail: 'reply is not JSON' };
    }
    const reply = openReply(body, call.secret, { allowPlain: call.env === 'test' });
    if (reply.respCode !== RespCode.SUCCESS) return { ok: false, detail: `respCode ${reply.respCode} ${reply.respMsg}` };
    const state = reply.payload?.state;
    if (state !== undefined && state !== 'success') return { ok: false, detail: `state ${String(state)}` };
    return { ok: true, detail: 'ok' };
  } catch (e) {
    if (e instanceof MdlError) return { ok: false, detail: `${e.code} ${e.message}` };
    return { ok: false, detail: (e as Error).name === 'TimeoutError' ? 'timeout' : String((e as Error).cause ?? (e as Error).message) };
  }
}
