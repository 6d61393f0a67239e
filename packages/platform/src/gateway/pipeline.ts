import {
  INTERFACES,
  MdlError,
  RespCode,
  checkSignature,
  extractPayload,
  sealResponse,
  sm3Hex,
  validate,
  type Envelope,
} from '@mdl/protocol';
import type { ApiHandler } from '../api/types.js';
import type { Caller } from '../domain/credentials.js';
import type { Platform } from '../platform.js';

export interface GatewayReply {
  envelope: Envelope;
  respCode: string;
  appId: string | undefined;
}

/** A reply sent before the caller is known: unsigned, no business data (PROTOCOL.md). */
export function unsignedReply(code: string, message?: string): GatewayReply {
  const envelope: Envelope = { respCode: code, respMsg: message ?? new MdlError(code as RespCode).message, timestamp: String(Date.now()) };
  return { envelope, respCode: code, appId: undefined };
}

function signedReply(caller: Caller, env: Envelope, code: string, message: string | undefined, payload?: unknown): GatewayReply {
  const envelope = sealResponse(payload, {
    appId: caller.appId,
    secret: caller.secret,
    version: typeof env.version === 'string' && env.version ? env.version : undefined,
    encryptType: typeof env.encryptType === 'string' ? env.encryptType : 'SM4',
    signType: typeof env.signType === 'string' ? env.signType : 'SM3',
    respCode: code,
    ...(message !== undefined ? { respMsg: message } : {}),
  });
  return { envelope, respCode: code, appId: caller.appId };
}

const ENVELOPE_FIELDS = ['version', 'timestamp', 'encryptType', 'signType'] as const;

/**
 * The gateway's fixed order (issue #2): parse → credential (-8) → timestamp (010010) → decrypt
 * (000101) → signature (000102) → replay (010010) → payload (000105) → orgId (-4) → rate limit (-6)
 * → handler. The replay cache only learns signatures that verified, so forgeries cannot poison it.
 */
export async function runPipeline(
  platform: Platform,
  handler: ApiHandler<never, unknown>,
  rawBody: string,
  requestId: string,
): Promise<GatewayReply> {
  if (platform.draining) return unsignedReply(RespCode.MAINTENANCE);
  let env: Envelope;
  try {
    env = JSON.parse(rawBody) as Envelope;
  } catch {
    return unsignedReply(RespCode.INVALID_PARAM, '请求报文不是有效的 JSON');
  }
  if (env === null || typeof env !== 'object' || Array.isArray(env)) return unsignedReply(RespCode.INVALID_PARAM, '请求报文应为 JSON 对象');
  if (typeof env.appId !== 'string' || env.appId === '') return unsignedReply(RespCode.INVALID_PARAM, '应用 ID(appId) 不能为空');
  const caller = await platform.credentials.get(env.appId);
  if (!caller) return unsignedReply(RespCode.APP_NOT_FOUND);
  try {
    for (const f of ENVELOPE_FIELDS) {
      if (typeof env[f] !== 'string' || env[f] === '') throw new MdlError(RespCode.INVALID_PARAM, `报文字段 ${f} 不能为空`);
    }
    const ts = Number(env.timestamp);
    if (!/^\d{10,16}$/.test(env.timestamp!) || Math.abs(platform.now() - ts) > platform.config.timestampToleranceMs) {
      throw new MdlError(RespCode.REPLAY, '时间戳超出允许范围，请校准时钟');
    }
    const allowPlain = caller.env === 'test';
    const opened = extractPayload(env, caller.secret, { allowPlain, payloadRequired: true });
    checkSignature(env, opened, caller.secret, allowPlain);
    const replayKey = `${caller.appId}:${env.sign ?? sm3Hex(rawBody)}`;
    // Replay mark and rate counter in one round trip; the count is only judged after validation below.
    const admitted = await platform.shared.admit(replayKey, platform.config.timestampToleranceMs * 2, `rate:${caller.appId}`, 1000);
    if (admitted.replay) throw new MdlError(RespCode.REPLAY);
    // What a channel credential may call does not depend on the payload: refuse before reading it.
    if (caller.kind === 'channel' && !handler.channelAllowed) throw new MdlError(RespCode.FORBIDDEN, '该渠道凭证无权调用此接口');
    const def = INTERFACES[handler.code];
    const issue = validate(def.request, opened.payload);
    if (issue) throw new MdlError(RespCode.INVALID_PARAM, `参数校验不合法: ${issue.path}: ${issue.message}`);
    authorize(caller, handler, opened.payload!);
    if (admitted.hits > platform.config.rateLimitPerSecond) throw new MdlError(RespCode.RATE_LIMITED);
    const result = await handler.handle({ platform, caller, requestId, plaintext: opened.plaintext! }, opened.payload as never);
    return signedReply(caller, env, RespCode.SUCCESS, undefined, result);
  } catch (e) {
    if (e instanceof MdlError) return signedReply(caller, env, e.code, e.message);
    platform.log.error({ err: e, requestId, appId: caller.appId, code: handler.code }, 'unexpected fault in interface handler');
    return signedReply(caller, env, RespCode.SYSTEM_ERROR, `系统错误，请求编号 ${requestId}`);
  }
}

/**
 * An institution's credential acts for its own orgId only; a channel credential (闽政通) only queries.
 */
function authorize(caller: Caller, handler: ApiHandler<never, unknown>, payload: Record<string, unknown>): void {
  if (caller.kind === 'channel') {
    if (!handler.channelAllowed) throw new MdlError(RespCode.FORBIDDEN, '该渠道凭证无权调用此接口');
    return;
  }
  if (handler.orgIdIsFilter) return;
  const orgId = payload.orgId;
  if (typeof orgId === 'string' && orgId !== '' && orgId !== caller.orgId) {
    throw new MdlError(RespCode.FORBIDDEN, `凭证无权代表机构 ${orgId}`);
  }
}
