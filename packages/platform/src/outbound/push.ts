import { postEnvelope, type HttpPost } from './envelope-call.js';

/**
 * The HTTP push adapter of reminders: the same signed and encrypted envelope as every other call of the
 * platform, sealed with the channel's credential (闽政通), so the receiver verifies it with the secret it
 * already holds. Success is a verified `000000` reply or a single-layer `{"state":"success"}`.
 */
export async function pushSigned(
  post: HttpPost,
  call: {
    url: string;
    appId: string;
    secret: string;
    env: 'test' | 'prod';
    payload: unknown;
    timeoutMs: number;
    requestId?: string | undefined;
  },
): Promise<{ ok: boolean; detail: string }> {
  const out = await postEnvelope(post, call);
  // A push receiver may confirm with an enveloped 000000 that carries no business data.
  if (out.respCode !== '000000') return { ok: false, detail: out.detail };
  const state = out.payload?.state;
  if (state !== undefined && state !== 'success') return { ok: false, detail: `state ${String(state)}` };
  return { ok: true, detail: 'ok' };
}
