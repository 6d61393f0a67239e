import { base64LenientDecode, sm3Hex } from './crypto.js';
import { MdlError, RespCode } from './codes.js';
import { canonicalJson, checkSignature, extractPayload, isPlain, type Envelope, type OpenedPayload } from './envelope.js';

/**
 * Opening a request envelope, for every side that receives one: the platform's gateway, the hospital kit's
 * ORG_001/ORG_002 endpoints and the test hospital. One order (PROTOCOL.md): parse → the receiver's own checks of
 * the parsed envelope → appId known (-8) → envelope fields (000105) → timestamp window (010010) → decrypt (000101)
 * → signature (000102) → replay key. The signature is over the decrypted bytes (PROTOCOL.md "Signature"), so the
 * data is decrypted before the signature is checked; nothing decrypted is used before it verified. The replay
 * check itself is the receiver's (Redis on the platform, memory in the kit): it gets the key, and learns only
 * verified requests, so forgeries cannot fill its store.
 */
export interface RequestCredential {
  appId: string;
  secret: string;
  /** PLAIN encryption/signing: test credentials on a sandbox only (PROTOCOL.md "PLAIN"). */
  allowPlain: boolean;
}

export interface OpenRequestOptions<C extends RequestCredential> {
  /** The credential of an appId, or undefined when this receiver knows none. */
  credential: (appId: string) => C | undefined | Promise<C | undefined>;
  now: number;
  /** An envelope is taken within ± this of `now`; 0 turns the check off. */
  toleranceMs: number;
  /** Checks of the parsed envelope before any key is looked up; throw an MdlError to refuse. */
  precheck?: (env: Envelope) => void;
  /**
   * A receiver with one credential (a hospital) takes an envelope without appId as addressed to it, and a
   * PLAIN-signed one without version or timestamp (the guide's ORG_001/ORG_002 examples; PLAIN is for test
   * credentials only). The platform's gateway, with many credentials, takes neither.
   */
  guideExamples?: { appId: string };
}

export interface OpenedRequest<C extends RequestCredential> extends OpenedPayload {
  env: Envelope;
  credential: C;
  payload: Record<string, unknown>;
  plaintext: string;
  /** Milliseconds of `timestamp` (NaN when a guide example had none). */
  timestamp: number;
  replayKey: string;
}

/** A refusal; `credential` is set once the appId was known (the reply may then name it). */
export type RequestRefusal<C> = { ok: false; error: MdlError; credential: C | undefined };

const ENVELOPE_FIELDS = ['version', 'timestamp', 'encryptType', 'signType'] as const;

export async function openRequest<C extends RequestCredential>(
  body: unknown,
  opts: OpenRequestOptions<C>,
): Promise<({ ok: true } & OpenedRequest<C>) | RequestRefusal<C>> {
  let credential: C | undefined;
  try {
    const env = parseEnvelope(body);
    opts.precheck?.(env);
    const appId = env.appId === undefined && opts.guideExamples ? opts.guideExamples.appId : env.appId;
    if (typeof appId !== 'string' || appId === '') throw new MdlError(RespCode.INVALID_PARAM, '应用 ID(appId) 不能为空');
    credential = await opts.credential(appId);
    if (!credential) throw new MdlError(RespCode.APP_NOT_FOUND);
    const guideExample = opts.guideExamples !== undefined && credential.allowPlain && isPlain(env.signType);
    for (const f of ENVELOPE_FIELDS) {
      if (guideExample && (f === 'version' || f === 'timestamp')) continue;
      if (typeof env[f] !== 'string' || env[f] === '') throw new MdlError(RespCode.INVALID_PARAM, `报文字段 ${f} 不能为空`);
    }
    const timestamp = Number(env.timestamp);
    if (opts.toleranceMs > 0 && !guideExample) {
      if (!/^\d{10,16}$/.test(String(env.timestamp)) || Math.abs(opts.now - timestamp) > opts.toleranceMs) {
        throw new MdlError(RespCode.REPLAY, '时间戳超出允许范围，请校准时钟');
      }
    }
    const opened = extractPayload(env, credential.secret, { allowPlain: credential.allowPlain, payloadRequired: true });
    checkSignature(env, opened, credential.secret, credential.allowPlain);
    return {
      ok: true,
      ...opened,
      env,
      credential,
      payload: opened.payload!,
      plaintext: opened.plaintext!,
      timestamp,
      replayKey: replayKey(credential.appId, env, opened),
    };
  } catch (e) {
    if (e instanceof MdlError) return { ok: false, error: e, credential };
    throw e;
  }
}

function parseEnvelope(body: unknown): Envelope {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      throw new MdlError(RespCode.INVALID_PARAM, '请求报文不是有效的 JSON');
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new MdlError(RespCode.INVALID_PARAM, '请求报文应为 JSON 对象');
  return value as Envelope;
}

/**
 * What a replay store remembers of a verified request (issue #11 item 3): the decoded signature bytes for a signed
 * request, so that re-spellings of the same signature (padding dropped or doubled, whitespace, the other base64
 * alphabet) are one key; for a PLAIN-signed request (sandbox only) a digest of the canonical request, so that
 * whitespace, key order or the case of `PLAIN` do not make a new one.
 */
export function replayKey(appId: string, env: Envelope, opened: Pick<OpenedPayload, 'plainSignature' | 'payload'>): string {
  if (!opened.plainSignature) {
    const bytes = base64LenientDecode(String(env.sign));
    // checkSignature verified these bytes already; an undecodable sign cannot reach this point.
    if (!bytes) throw new MdlError(RespCode.BAD_SIGNATURE);
    return `${appId}:s:${bytes.toString('hex')}`;
  }
  const canonical = canonicalJson([
    appId,
    String(env.version ?? '').trim(),
    String(Number(env.timestamp)),
    isPlain(env.encryptType) ? 'PLAIN' : String(env.encryptType ?? '').toUpperCase(),
    opened.payload ?? null,
  ]);
  return `${appId}:p:${sm3Hex(canonical)}`;
}
