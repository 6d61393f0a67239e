/**
 * The two endpoints every hospital serves to the platform (guide §4.4): ORG_001
 * `/qmdl/getOverdueResult` and ORG_002 `/umdl/callback`. The envelope work happens here; the HIS
 * supplies two plain functions.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { INTERFACES, MdlError, RespCode, openRequest, sealResponse, unsignedResponse, validate } from '@mdl/protocol';
import type { CallbackRequest, Envelope, GetOverdueResultRequest } from '@mdl/protocol';
import { ReplayCache } from './replay-cache.js';
import { serverLimits } from './server-limits.js';

export type OverdueState = '0' | '1' | '2';

export interface HospitalHandlerOptions {
  /** This hospital's appId and secret: the platform signs and encrypts its calls with them. */
  appId: string;
  secret: string;
  /** ORG_001: the item's state in the HIS (0 unpaid, 1 paid, 2 revoked). */
  getOverdueResult: (req: GetOverdueResultRequest) => Promise<{ state: OverdueState; extData?: Record<string, unknown> }>;
  /** ORG_002: a verified result notification. Throw (or return `fail`) to have the platform send it again. */
  onCallback: (req: CallbackRequest) => Promise<void | { state: 'success' | 'fail'; msg?: string }>;
  /** When set, calls naming another orgId are refused with -4. */
  orgId?: string;
  /** PLAIN envelopes: test credentials only (default false). */
  allowPlain?: boolean;
  /** Calls whose timestamp is further than this from our clock are refused with 010010 (default 300 s, 0 = off). */
  maxClockSkewMs?: number;
  now?: () => number;
  /** Told of every refused call, e.g. to log it. */
  onError?: (e: { path: string; respCode: string; message: string }) => void;
  /**
   * Calls already taken (keyed on appId + signature bytes): a second arrival is refused with 010010. Made
   * by createHospitalListener/fastifyHospitalPlugin when not given; share one between listeners of one HIS.
   */
  replayCache?: ReplayCache;
}

/** Twice the clock window: an envelope is accepted from `skew` before to `skew` after its timestamp. */
export function replayCacheFor(opts: Pick<HospitalHandlerOptions, 'maxClockSkewMs' | 'now'>): ReplayCache {
  const skew = opts.maxClockSkewMs ?? 300_000;
  return new ReplayCache(skew > 0 ? 2 * skew : 24 * 3600_000, 100_000, opts.now ?? Date.now);
}

export interface HandlerReply {
  status: number;
  body: Envelope;
}

export const ORG_001_PATH = INTERFACES.ORG_001.path;
export const ORG_002_PATH = INTERFACES.ORG_002.path;

/**
 * The batch a callback is about. The guide's ORG_002 table has no orgRequestId; the platform sends
 * it in `extData.orgRequestId`, and a top-level field is accepted too.
 */
export function callbackRequestId(req: CallbackRequest): string | undefined {
  const ext = req.extData?.orgRequestId;
  return req.orgRequestId || (typeof ext === 'string' && ext ? ext : undefined);
}

/** Which endpoint a request path is for; any prefix before the guide's suffix is allowed. */
export function endpointOf(path: string): 'ORG_001' | 'ORG_002' | undefined {
  const p = path.split('?')[0]!.replace(/\/+$/, '');
  if (p.endsWith(ORG_001_PATH)) return 'ORG_001';
  if (p.endsWith(ORG_002_PATH)) return 'ORG_002';
  return undefined;
}

/** The core: a parsed request body in, a sealed reply out. Never throws. */
export async function handleHospitalCall(opts: HospitalHandlerOptions, path: string, body: unknown): Promise<HandlerReply> {
  const now = opts.now ?? Date.now;
  const env = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as Envelope;
  // Replies follow the caller's spelling of the algorithms (PROTOCOL.md), but never PLAIN for a production credential.
  const plainOk = opts.allowPlain === true;
  const encryptType =
    plainOk && typeof env.encryptType === 'string'
      ? env.encryptType
      : /^sm4$/i.test(String(env.encryptType))
        ? String(env.encryptType)
        : 'SM4';
  const signType =
    plainOk && typeof env.signType === 'string' ? env.signType : /^sm3$/i.test(String(env.signType)) ? String(env.signType) : 'SM3';
  const seal = (respCode: string, payload?: unknown, respMsg?: string): HandlerReply => ({
    status: 200,
    body: sealResponse(payload, {
      appId: typeof env.appId === 'string' ? env.appId : opts.appId,
      secret: opts.secret,
      respCode,
      respMsg,
      encryptType,
      signType,
      now,
    }),
  });
  const endpoint = endpointOf(path);
  // Until the call's signature verified, a refusal is unsigned and echoes nothing (issue #11 item 5): a signed
  // refusal over fields the sender chose would let anyone without the secret obtain our signature.
  let authenticated = false;
  try {
    if (!endpoint) throw new MdlError(RespCode.BAD_PATH);
    const credential = { appId: opts.appId, secret: opts.secret, allowPlain: plainOk };
    const opened = await openRequest(body, {
      credential: (appId) => (appId === opts.appId ? credential : undefined),
      now: now(),
      toleranceMs: opts.maxClockSkewMs ?? 300_000,
      guideExamples: { appId: opts.appId },
    });
    if (!opened.ok) throw opened.error;
    authenticated = true;
    // Remembered only once it verified, so forged calls cannot fill the cache.
    if (opts.replayCache && !opts.replayCache.firstSeen(opened.replayKey)) throw new MdlError(RespCode.REPLAY, '重复的请求, 已拒绝');
    const payload = opened.payload;
    const issue = validate(INTERFACES[endpoint].request, payload);
    if (issue) throw new MdlError(RespCode.INVALID_PARAM, `${issue.path}: ${issue.message}`);
    if (opts.orgId && payload.orgId !== opts.orgId) throw new MdlError(RespCode.FORBIDDEN, `机构 ${String(payload.orgId)} 不属于本机构`);
    if (endpoint === 'ORG_001') {
      const answer = await opts.getOverdueResult(payload as GetOverdueResultRequest);
      const out = { state: answer?.state, ...(answer?.extData ? { extData: answer.extData } : {}) };
      const bad = validate(INTERFACES.ORG_001.response, out);
      if (bad) throw new MdlError(RespCode.SYSTEM_ERROR, `院内应答无效: ${bad.message}`);
      return seal(RespCode.SUCCESS, out);
    }
    try {
      const r = await opts.onCallback(payload as CallbackRequest);
      return seal(RespCode.SUCCESS, r ? { state: r.state, msg: r.msg ?? '' } : { state: 'success', msg: '' });
    } catch (e) {
      // A business failure, not a protocol one: the platform reads `fail` and sends the result again.
      const msg = (e instanceof Error ? e.message : String(e)).slice(0, 100);
      opts.onError?.({ path, respCode: RespCode.SUCCESS, message: `回调处理失败: ${msg}` });
      return seal(RespCode.SUCCESS, { state: 'fail', msg });
    }
  } catch (e) {
    const code = e instanceof MdlError ? e.code : RespCode.APP_UNKNOWN_ERROR;
    const message = e instanceof Error ? e.message : String(e);
    opts.onError?.({ path, respCode: code, message });
    if (!authenticated) return { status: 200, body: unsignedResponse(code, new MdlError(code as RespCode).message) };
    // A HIS fault gets the generic text: its details stay in the hospital's own logs.
    return seal(code, undefined, e instanceof MdlError ? e.message : undefined);
  }
}

const MAX_BODY = 1 << 20;

export async function readBody(req: IncomingMessage, limit = MAX_BODY): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new MdlError(RespCode.INVALID_PARAM, '报文过大');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function parsedBody(req: IncomingMessage & { body?: unknown }): Promise<unknown> {
  // Frameworks may have parsed it already (express.json(), Fastify); otherwise read the stream.
  if (req.body !== undefined) return typeof req.body === 'string' ? safeParse(req.body) : req.body;
  return safeParse(await readBody(req));
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A `(req, res)` listener for node:http. With `next`, paths that are not ORG_001/ORG_002 are
 * passed on (Express/Connect style); without, they get -5.
 */
export function createHospitalListener(options: HospitalHandlerOptions) {
  const opts = { ...options, replayCache: options.replayCache ?? replayCacheFor(options) };
  return (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void): void => {
    const path = req.url ?? '/';
    if ((req.method !== 'POST' || !endpointOf(path)) && next) return next();
    parsedBody(req)
      .catch(() => undefined)
      .then((body) => handleHospitalCall(opts, path, body))
      // Without a next() (plain http.createServer) a fault closes the connection rather than becoming an
      // unhandled rejection that would end the hospital's process.
      .then(
        (r) => sendJson(res, r.status, r.body),
        (err: unknown) => (next ? next(err) : res.destroy()),
      );
  };
}

/**
 * A node:http server with the two endpoints; call `.listen()` on it. A request must arrive whole within
 * `requestTimeoutMs` (default 30 s): a client trickling its body does not hold the socket.
 */
export function createHospitalServer(opts: HospitalHandlerOptions, requestTimeoutMs?: number): Server {
  return createServer(serverLimits(requestTimeoutMs), createHospitalListener(opts));
}

/** Express or Connect: `app.use(expressHospitalMiddleware(opts))`. Works with or without express.json(). */
export function expressHospitalMiddleware(opts: HospitalHandlerOptions) {
  return createHospitalListener(opts);
}

interface FastifyLike {
  post(path: string, handler: (request: { body: unknown; url: string }, reply: FastifyReplyLike) => Promise<unknown>): unknown;
}
interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  send(body: unknown): unknown;
}

/**
 * Fastify: `await app.register(fastifyHospitalPlugin(opts), { prefix: '/his' })`. Typed loosely so the
 * kit does not depend on Fastify; Fastify's JSON body parser hands us the parsed envelope.
 */
export function fastifyHospitalPlugin(options: HospitalHandlerOptions) {
  const opts = { ...options, replayCache: options.replayCache ?? replayCacheFor(options) };
  return async function hospitalEndpoints(app: FastifyLike): Promise<void> {
    for (const path of [ORG_001_PATH, ORG_002_PATH]) {
      app.post(path, async (request, reply) => {
        const r = await handleHospitalCall(opts, path, request.body ?? undefined);
        return reply.code(r.status).send(r.body);
      });
    }
  };
}
