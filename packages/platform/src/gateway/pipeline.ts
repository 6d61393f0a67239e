import {
  INTERFACES,
  MdlError,
  RespCode,
  openRequest,
  sealResponse,
  unstorableProblem,
  unsignedResponse,
  validate,
  type Envelope,
  type InterfaceCode,
  type RequestOf,
} from '@mdl/protocol';
import type { ApiHandler } from '../api/types.js';
import { isDatabaseAway } from '../db/outage.js';
import type { Caller } from '../domain/credentials.js';
import type { Platform } from '../platform.js';
import { SharedStateUnavailable } from './shared-state.js';
import { assertSignStringSafe } from './envelope-guard.js';

export interface GatewayReply {
  envelope: Envelope;
  respCode: string;
  appId: string | undefined;
  /** Why the call was refused, for the audit trail (never more than the reply says). */
  refusal?: string;
}

/**
 * A reply sent before the caller is known (PROTOCOL.md): unsigned, no business data, and nothing in it the sender
 * chose, so it cannot serve as a signing oracle nor reflect text. It still carries the fields the guide marks Y
 * (§4.1.3), with the platform's own values: the appId only when it names a credential of this platform, the
 * platform's version, and PLAIN for the encryption and signature it really has (none).
 */
export function unsignedReply(code: string, message?: string, knownAppId?: string): GatewayReply {
  const envelope = unsignedResponse(code, message ?? new MdlError(code as RespCode).message, knownAppId);
  return { envelope, respCode: code, appId: knownAppId, refusal: envelope.respMsg };
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
  return { envelope, respCode: code, appId: caller.appId, ...(code !== RespCode.SUCCESS ? { refusal: message ?? '' } : {}) };
}

/** Texts of refusals made before authentication lose whatever follows a colon: that part may quote the sender. */
function preAuthMessage(e: MdlError): string {
  return e.message.split(/[:：]/)[0]!.trim() || new MdlError(e.code).message;
}

/**
 * The gateway's fixed order (issue #2, #11): `openRequest` (protocol: parse → storability and sign-string safety
 * (000105) → credential (-8) → envelope fields (000105) → timestamp (010010) → decrypt (000101) → signature
 * (000102)) → replay (010010) → payload (000105) → orgId (-4) → rate limit (-6) → handler. Every refusal up to and including the signature is unsigned (no signature before
 * authentication); only a verified caller gets a signed reply. The replay cache only learns verified requests,
 * so forgeries cannot poison it.
 */
export async function runPipeline(platform: Platform, handler: ApiHandler, rawBody: string, requestId: string): Promise<GatewayReply> {
  if (platform.draining) return unsignedReply(RespCode.MAINTENANCE);
  const opened = await openRequest(rawBody, {
    now: platform.now(),
    toleranceMs: platform.config.timestampToleranceMs,
    precheck: (env) => {
      // Bytes the database cannot store (NUL, lone surrogates, hostile nesting) never reach a query (issue #14).
      const bad = unstorableProblem(env);
      if (bad) throw new MdlError(RespCode.INVALID_PARAM, `参数校验不合法: ${bad.path}: ${bad.message}`);
      assertSignStringSafe(env);
    },
    credential: async (appId) => {
      const caller = await platform.credentials.get(appId);
      if (!caller) return undefined;
      // PLAIN is a sandbox's convenience for its test credentials only (PROTOCOL.md "PLAIN"); a production
      // deployment holds no test credential, and would refuse PLAIN even if one slipped in. Written out field by
      // field: a spread followed by a property takes V8's slow path (about 5 µs a request in the bench's profile).
      const { kind, orgId, env, secret } = caller;
      const allowPlain = env === 'test' && platform.config.deployment === 'sandbox';
      return { appId: caller.appId, kind, orgId, env, secret, allowPlain };
    },
  });
  if (!opened.ok) {
    // Once the appId is known, a refusal's text loses what follows a colon (it may quote the sender).
    const { error, credential } = opened;
    return unsignedReply(error.code, credential ? preAuthMessage(error) : error.message, credential?.appId);
  }
  const { env, credential: caller, timestamp: ts } = opened;
  try {
    // Replay mark and rate counter in one round trip; the count is only judged after validation below.
    const admitted = await platform.shared.admit(opened.replayKey, platform.config.timestampToleranceMs * 2, `rate:${caller.appId}`, 1000);
    if (admitted.replay) throw new MdlError(RespCode.REPLAY);
    // Redis lost its replay marks at `fence`: anything signed before then may have been accepted already.
    if (ts < admitted.fence) throw new MdlError(RespCode.REPLAY, '重放保护已重置，请使用当前时间戳重新签名后提交');
    // What a channel credential may call does not depend on the payload: refuse before reading it.
    if (caller.kind === 'channel' && !handler.channelAllowed) throw new MdlError(RespCode.FORBIDDEN, '该渠道凭证无权调用此接口');
    const def = INTERFACES[handler.code];
    const issue = unstorableProblem(opened.payload) ?? validate(def.request, opened.payload);
    if (issue) throw new MdlError(RespCode.INVALID_PARAM, `参数校验不合法: ${issue.path}: ${issue.message}`);
    authorize(caller, handler, opened.payload);
    if (admitted.hits > platform.config.rateLimitPerSecond) throw new MdlError(RespCode.RATE_LIMITED);
    const result = await handler.handle(
      { platform, caller, requestId, plaintext: opened.plaintext },
      opened.payload as RequestOf<InterfaceCode>,
    );
    return signedReply(caller, env, RespCode.SUCCESS, undefined, result);
  } catch (e) {
    if (e instanceof MdlError) return signedReply(caller, env, e.code, e.message);
    if (isDatabaseAway(e) || e instanceof SharedStateUnavailable) {
      // An outage, not a bug: one line without a stack per call (docs/operations.md, "Faults").
      platform.log.warn(
        { err: (e as Error).message, requestId, appId: caller.appId, code: handler.code },
        'dependency unavailable: 000002',
      );
    } else platform.log.error({ err: e, requestId, appId: caller.appId, code: handler.code }, 'unexpected fault in interface handler');
    return signedReply(caller, env, RespCode.SYSTEM_ERROR, `系统错误，请求编号 ${requestId}`);
  }
}

/**
 * An institution's credential acts for its own orgId only; a channel credential (闽政通) only queries.
 */
function authorize(caller: Caller, handler: ApiHandler, payload: Record<string, unknown>): void {
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
