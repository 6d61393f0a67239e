import { SIGN_VERSION, SIGN_VERSION_HEADER, openReply, sealRequest, type Envelope } from '@mdl/protocol';

/** A bare-bones signed caller for tests: real HTTP, real envelope, reply verified. */
/**
 * A timestamp of its own for every call, as the hospital kit's client does: SM4-ECB has no nonce, so two identical
 * calls sealed in one millisecond (three kiosks scanning one code) would be one envelope, and a replay (010010).
 */
let lastStamp = 0;
function stamp(): string {
  lastStamp = Math.max(Date.now(), lastStamp + 1);
  return String(lastStamp);
}

export async function call(
  baseUrl: string,
  path: string,
  appId: string,
  secret: string,
  payload: unknown,
): Promise<{
  respCode: string;
  respMsg: string;
  payload: Record<string, unknown> | undefined;
  envelope: Envelope;
  /** The reply's x-request-id: the id the platform logs and carries into the jobs the call causes. */
  requestId: string | null;
}> {
  const env = sealRequest(payload, { appId, secret, timestamp: stamp() });
  const res = await fetch(baseUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', [SIGN_VERSION_HEADER]: SIGN_VERSION },
    body: JSON.stringify(env),
  });
  const body = (await res.json()) as Envelope;
  const reply = openReply(body, secret, { allowPlain: false });
  return { ...reply, envelope: body, requestId: res.headers.get('x-request-id') };
}
