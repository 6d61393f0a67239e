import { postEnvelope, type HttpPost } from './envelope-call.js';

/**
 * The HTTP push adapter of reminders: the same signed and encrypted envelope as every other call of the
 * platform, sealed with the channel's credential (闽政通), so the receiver verifies it with the secret it
 * already holds. Success is a verified `000000` reply, or in a sandbox a single-layer `{"state":"success"}`.
 * The push URL is the operator's own setting, so its port is the one allowed (the address policy still applies).
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
    strict: boolean;
  },
): Promise<{ ok: boolean; detail: string }> {
  let ports: number[] = [];
  try {
    const u = new URL(call.url);
    ports = [u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80];
  } catch {
    // checkDestination refuses a URL that does not parse.
  }
  const out = await postEnvelope(post, { ...call, ports });
  // A push receiver may confirm with an enveloped 000000 that carries no business data.
  if (out.respCode !== '000000') return { ok: false, detail: out.detail };
  const state = out.payload?.state;
  if (state !== undefined && state !== 'success') return { ok: false, detail: `state ${String(state)}` };
  return { ok: true, detail: 'ok' };
}
