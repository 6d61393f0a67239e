import {
  base64LenientDecode,
  base64UrlEncode,
  constantTimeEqual,
  decodeUtf8Strict,
  sm3,
  sm4EcbDecrypt,
  sm4EcbEncrypt,
  sm4KeyFromSecret,
} from './crypto.js';
import { MdlError, RESP_MESSAGES, RespCode } from './codes.js';

/** Top-level fields of the request/response envelope (guide §4.1.2, §4.1.3). */
export interface Envelope {
  appId?: string;
  version?: string;
  timestamp?: string;
  encryptType?: string;
  signType?: string;
  sign?: string;
  encryptData?: string;
  respCode?: string;
  respMsg?: string;
  /** Clear payload, test environments only; `param` is the spelling of the guide's ORG_001/002 examples. */
  data?: unknown;
  param?: unknown;
  extendParams?: unknown;
  [key: string]: unknown;
}

export const SIGN_VERSION_HEADER = 'X-Api-Sign-Version';
export const SIGN_VERSION = '2.0.0';
export const DEFAULT_VERSION = '1.0.0';

const EXCLUDED = new Set(['sign', 'encryptData', 'extendParams', 'data', 'param']);

export function isPlain(value: string | undefined): boolean {
  return typeof value === 'string' && value.toUpperCase() === 'PLAIN';
}

function isSm4(value: string | undefined): boolean {
  return typeof value === 'string' && value.toUpperCase() === 'SM4';
}

function isSm3(value: string | undefined): boolean {
  return typeof value === 'string' && value.toUpperCase() === 'SM3';
}

/**
 * The string that is hashed (PROTOCOL.md "Signature"). `payloadJson` is the business JSON exactly as
 * encrypted; it is never re-serialised here.
 */
export function buildSignString(
  fields: Record<string, unknown>,
  payloadJson: string | undefined,
  secret: string,
  payloadKey: 'param' | 'data' = 'param',
): string {
  const entries: [string, string][] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (EXCLUDED.has(k) || v === null || v === undefined || v === '') continue;
    entries.push([k, typeof v === 'string' ? v : JSON.stringify(v)]);
  }
  if (payloadJson !== undefined) entries.push([payloadKey, payloadJson]);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return entries.map(([k, v]) => `${k}=${v}`).join('&') + `&key=${secret}`;
}

export function computeSign(fields: Record<string, unknown>, payloadJson: string | undefined, secret: string): string {
  return base64UrlEncode(sm3(Buffer.from(buildSignString(fields, payloadJson, secret), 'utf8')));
}

/** Checks the `param` reading first, then the guide example's `data` reading. Constant time per comparison. */
export function verifySign(env: Envelope, payloadJson: string | undefined, secret: string): boolean {
  if (typeof env.sign !== 'string' || env.sign === '') return false;
  const got = base64LenientDecode(env.sign);
  if (!got || got.length !== 32) return false;
  for (const key of ['param', 'data'] as const) {
    if (key === 'data' && payloadJson === undefined) break;
    const want = sm3(Buffer.from(buildSignString(env, payloadJson, secret, key), 'utf8'));
    if (constantTimeEqual(got, want)) return true;
  }
  return false;
}

export function encryptPayload(plaintext: string, secret: string): string {
  return base64UrlEncode(sm4EcbEncrypt(sm4KeyFromSecret(secret), Buffer.from(plaintext, 'utf8')));
}

/** Returns the exact plaintext, or throws 000101 for anything that is not SM4 over UTF-8 text. */
export function decryptPayload(encryptData: string, secret: string): string {
  const cipher = base64LenientDecode(encryptData);
  if (!cipher) throw new MdlError(RespCode.DECRYPT_FAILED, '加密数据不是有效的 base64 编码');
  let plain: Buffer;
  try {
    plain = sm4EcbDecrypt(sm4KeyFromSecret(secret), cipher);
  } catch {
    throw new MdlError(RespCode.DECRYPT_FAILED, '加密数据无法解密');
  }
  const text = decodeUtf8Strict(plain);
  if (text === undefined) throw new MdlError(RespCode.DECRYPT_FAILED, '解密结果不是有效的 UTF-8 文本');
  return text;
}

function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MdlError(RespCode.DECRYPT_FAILED, '解密结果不是有效的 JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MdlError(RespCode.INVALID_PARAM, '业务数据必须是 JSON 对象');
  }
  return value as Record<string, unknown>;
}

export interface OpenedPayload {
  /** The business JSON exactly as received (decrypted bytes, or JSON.stringify of a PLAIN object). */
  plaintext: string | undefined;
  payload: Record<string, unknown> | undefined;
  plainEncryption: boolean;
  plainSignature: boolean;
}

export interface OpenOptions {
  /** PLAIN encryption/signing is for test credentials only (PROTOCOL.md "PLAIN"). */
  allowPlain: boolean;
  /** A reply may carry no business data; a request must. */
  payloadRequired: boolean;
}

/** Step 1 of opening: get the plaintext out. Separate from verification so the gateway can order them. */
export function extractPayload(env: Envelope, secret: string, opts: OpenOptions): OpenedPayload {
  const plainEncryption = isPlain(env.encryptType);
  const plainSignature = isPlain(env.signType);
  if (!plainEncryption && !isSm4(env.encryptType)) {
    throw new MdlError(RespCode.DECRYPT_FAILED, `不支持的加密类型: ${String(env.encryptType ?? '')}`);
  }
  if (plainEncryption && !opts.allowPlain) throw new MdlError(RespCode.DECRYPT_FAILED, '正式环境不允许 PLAIN 明文传输');
  let plaintext: string | undefined;
  if (plainEncryption) {
    const clear = env.data ?? env.param;
    if (clear !== undefined && clear !== null) plaintext = typeof clear === 'string' ? clear : JSON.stringify(clear);
  } else if (typeof env.encryptData === 'string' && env.encryptData !== '') {
    plaintext = decryptPayload(env.encryptData, secret);
  }
  if (plaintext === undefined) {
    if (opts.payloadRequired) throw new MdlError(RespCode.INVALID_PARAM, '缺少业务数据 encryptData');
    return { plaintext, payload: undefined, plainEncryption, plainSignature };
  }
  return { plaintext, payload: parseJsonObject(plaintext), plainEncryption, plainSignature };
}

/** Step 2: the signature over the plaintext from step 1. */
export function checkSignature(env: Envelope, opened: OpenedPayload, secret: string, allowPlain: boolean): void {
  if (opened.plainSignature) {
    if (!allowPlain) throw new MdlError(RespCode.BAD_SIGNATURE, '正式环境不允许 PLAIN 签名');
    return;
  }
  if (!isSm3(env.signType)) throw new MdlError(RespCode.BAD_SIGNATURE, `不支持的签名类型: ${String(env.signType ?? '')}`);
  if (!verifySign(env, opened.plaintext, secret)) throw new MdlError(RespCode.BAD_SIGNATURE);
}

export interface SealOptions {
  appId: string;
  secret: string;
  version?: string;
  encryptType?: string;
  signType?: string;
  timestamp?: string;
  now?: () => number;
}

/** Builds a request envelope: encrypt, then sign over the exact plaintext. */
export function sealRequest(payload: unknown, opts: SealOptions): Envelope {
  return seal(payload, {}, opts);
}

export interface ReplyOptions extends SealOptions {
  respCode: string;
  respMsg?: string;
}

/** Builds a reply; business data is sent only with 000000 (PROTOCOL.md). */
/**
 * A refusal sent before the caller is authenticated (PROTOCOL.md): unsigned and carrying nothing the sender chose,
 * so that it is neither a signing oracle nor a reflector. The guide's Y fields (§4.1.3) hold the responder's own
 * values: `appId` only when the responder knows it as one of its credentials, PLAIN for what it really has (none).
 */
export function unsignedResponse(respCode: string, respMsg: string, appId = ''): Envelope {
  return {
    appId,
    version: DEFAULT_VERSION,
    timestamp: String(Date.now()),
    encryptType: 'PLAIN',
    signType: 'PLAIN',
    respCode,
    respMsg,
  };
}

export function sealResponse(payload: unknown | undefined, opts: ReplyOptions): Envelope {
  const respMsg = opts.respMsg ?? RESP_MESSAGES[opts.respCode as RespCode] ?? '';
  const body = opts.respCode === RespCode.SUCCESS ? payload : undefined;
  return seal(body, { respCode: opts.respCode, respMsg }, opts);
}

function seal(payload: unknown | undefined, extra: Record<string, string>, opts: SealOptions): Envelope {
  const encryptType = opts.encryptType ?? 'SM4';
  const signType = opts.signType ?? 'SM3';
  const env: Envelope = {
    appId: opts.appId,
    version: opts.version ?? DEFAULT_VERSION,
    timestamp: opts.timestamp ?? String((opts.now ?? Date.now)()),
    encryptType,
    signType,
    ...extra,
  };
  const plaintext = payload === undefined ? undefined : JSON.stringify(payload);
  if (plaintext !== undefined) {
    if (isPlain(encryptType)) env.param = payload;
    else env.encryptData = encryptPayload(plaintext, opts.secret);
  }
  if (!isPlain(signType)) env.sign = computeSign(env, plaintext, opts.secret);
  return env;
}

export interface OpenedReply {
  respCode: string;
  respMsg: string;
  payload: Record<string, unknown> | undefined;
}

/**
 * Opens a reply from the other side. An enveloped reply must verify. The single-layer form
 * (`{"state":"1"}`) that the guide shows for ORG_001/ORG_002 carries no signature, so anyone on the path
 * could have written it: it is taken only when `singleLayer` is true (a sandbox), never on production.
 */
export function openReply(body: unknown, secret: string, opts: { allowPlain: boolean; singleLayer?: boolean }): OpenedReply {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new MdlError(RespCode.EXTERNAL, '对方应答不是 JSON 对象');
  }
  const env = body as Envelope;
  if (env.respCode === undefined && env.encryptData === undefined && env.sign === undefined) {
    if (opts.singleLayer === false) throw new MdlError(RespCode.BAD_SIGNATURE, '应答未签名: 正式环境只接受签名的应答报文');
    return { respCode: RespCode.SUCCESS, respMsg: '', payload: env as Record<string, unknown> };
  }
  const opened = extractPayload(env, secret, { allowPlain: opts.allowPlain, payloadRequired: false });
  checkSignature(env, opened, secret, opts.allowPlain);
  return { respCode: String(env.respCode ?? ''), respMsg: String(env.respMsg ?? ''), payload: opened.payload };
}

/**
 * JSON with object keys sorted at every depth: one text per value, whatever order or spacing it came in (replay
 * keys of PLAIN calls, on the platform and in the hospital kit).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
