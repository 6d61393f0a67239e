/**
 * `mdl-hospital serve`, the 前置机: a small service inside the hospital network for HIS systems that
 * cannot do SM3/SM4 themselves. Two listeners:
 *  - the local API (plain JSON, no crypto; bind it to the HIS network only): report, update, query,
 *    outbox status;
 *  - the platform endpoints ORG_001/ORG_002 (signed and encrypted), reachable by the platform.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { INTERFACES, MdlError } from '@mdl/protocol';
import { renderOpenApiHtml } from '@mdl/protocol/openapi';
import type { CallbackRequest, GetOverdueResultRequest, UnsettledPerson } from '@mdl/protocol';
import { type OrgInfo, type PersonUpdate, planReport, planUpdates, traceIdsOf } from './batching.js';
import { PlatformClient, type PlatformClientOptions, checkRequest, resultReady } from './client.js';
import { CsvError, reportRowsToPersons } from './csv.js';
import { PlatformError } from './errors.js';
import { type OverdueState, callbackRequestId, createHospitalListener, readBody, sendJson } from './handlers.js';
import { LOCAL_ROUTES, frontendOpenApi, type LocalHandler } from './frontend-routes.js';
import {
  GuardRefusal,
  TokenSource,
  allowedHosts,
  checkBinding,
  checkCaller,
  checkLocalCall,
  ensureToken,
  type GuardOptions,
} from './frontend-guard.js';
import { serverLimits } from './server-limits.js';
import { Outbox } from './outbox.js';

export interface FrontendOptions {
  platform: Pick<PlatformClientOptions, 'baseUrl' | 'appId' | 'secret' | 'encryptType' | 'signType' | 'fetch'>;
  /** notifyUrl defaults to this service's own ORG_002 address as the platform should reach it. */
  org: Omit<OrgInfo, 'notifyUrl'> & { notifyUrl?: string };
  dataDir: string;
  localHost?: string;
  localPort?: number;
  platformHost?: string;
  platformPort?: number;
  /** ORG_001 from the HIS: a URL answering `POST {orgId, orgTraceId, traceId}` with `{state}` ... */
  stateHook?: string;
  /** ... or a JSON file `{ "<orgTraceId>": "1", ... }`; items not listed are still unpaid (0). */
  stateTable?: string;
  /**
   * The local API always requires `Authorization: Bearer <token>`: this one when given (at least 16 characters),
   * else the one in `<dataDir>/local-token`, made on first start and logged that once (frontend-guard.ts).
   */
  localToken?: string;
  /** Host names besides loopback and the bound address that the local API answers to (e.g. the 前置机's LAN name). */
  localAllowedHosts?: string[];
  /** Browser origins allowed to call the local API (a web HIS); none by default. */
  localAllowedOrigins?: string[];
  /** PEM certificate and key: the local API speaks https. */
  localTls?: { cert: string; key: string };
  /** Refuse to start a local API bound beyond loopback without TLS. */
  localRequireTls?: boolean;
  /** Every request to either listener must arrive whole within this (default 30 s). */
  requestTimeoutMs?: number;
  /** Where to forward ORG_002 results as plain JSON (optional; they are also kept in the outbox). */
  callbackHook?: string;
  allowPlain?: boolean;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A sent batch without a callback after this long is looked up with ORG_MDL_005 (default 30 min). */
  callbackTimeoutMs?: number;
  log?: (msg: string) => void;
}

export interface Frontend {
  localUrl: string;
  platformUrl: string;
  outbox: Outbox;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export async function startFrontend(opts: FrontendOptions): Promise<Frontend> {
  const log = opts.log ?? (() => {});
  const localHost = opts.localHost ?? '127.0.0.1';
  // Checked before anything listens: a local API that would be open does not start at all.
  const made = opts.localToken ? undefined : ensureToken(opts.dataDir);
  const token = new TokenSource(opts.localToken, made?.file ?? '');
  checkBinding({ host: localHost, token: token.current(), tls: !!opts.localTls, requireTls: opts.localRequireTls === true });
  const outbox = await Outbox.open(opts.dataDir);
  if (made?.created) log(`已生成本地接口令牌 (只显示这一次, 保存在 ${made.file}): ${made.token}`);
  const guard: GuardOptions = {
    token,
    hosts: allowedHosts(localHost, opts.localAllowedHosts ?? []),
    origins: new Set(opts.localAllowedOrigins ?? []),
  };
  const limits = serverLimits(opts.requestTimeoutMs);
  const client = new PlatformClient({ ...opts.platform, maxRetries: 1 });
  const abort = new AbortController();

  const platformServer = createServer(
    limits,
    createHospitalListener({
      appId: opts.platform.appId,
      secret: opts.platform.secret,
      orgId: opts.org.orgId,
      allowPlain: opts.allowPlain ?? false,
      getOverdueResult: (req) => overdueState(opts, req),
      onCallback: (req) => onCallback(opts, outbox, req, log),
      onError: (e) => log(`平台调用被拒绝 ${e.path}: ${e.respCode} ${e.message}`),
    }),
  );
  const platformUrl = await listen(platformServer, opts.platformHost ?? '0.0.0.0', opts.platformPort ?? 8301, 'http');
  const org: OrgInfo = { ...opts.org, notifyUrl: opts.org.notifyUrl ?? `${platformUrl}${INTERFACES.ORG_002.path}` };

  let localUrl = '';
  const onLocal = (req: IncomingMessage, res: ServerResponse) => {
    handleLocal(req, res, { org, outbox, client, guard, localUrl }).catch((e: unknown) => {
      if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message, ...e.extra });
      if (e instanceof GuardRefusal) return sendJson(res, e.status, { error: e.message });
      if (e instanceof PlatformError) return sendJson(res, 502, { error: e.message, respCode: e.respCode });
      log(`本地接口异常: ${e instanceof Error ? e.stack : String(e)}`);
      sendJson(res, 500, { error: '前置机内部错误' });
    });
  };
  const localServer = opts.localTls
    ? createHttpsServer({ ...limits, cert: opts.localTls.cert, key: opts.localTls.key }, onLocal)
    : createServer(limits, onLocal);
  localUrl = await listen(localServer, localHost, opts.localPort ?? 8300, opts.localTls ? 'https' : 'http');

  const callbackTimeoutMs = opts.callbackTimeoutMs ?? 30 * 60_000;
  const sweep = setInterval(
    () => void sweepResults(outbox, client, org.orgId, callbackTimeoutMs, log),
    Math.min(callbackTimeoutMs, 60_000),
  );
  sweep.unref();
  const delivering = outbox.deliver(client, {
    signal: abort.signal,
    retryBaseMs: opts.retryBaseMs,
    retryMaxMs: opts.retryMaxMs,
    onEvent: log,
  });
  log(`前置机已启动: 本地接口 ${localUrl}, 平台回调 ${platformUrl} (notifyUrl ${org.notifyUrl})`);

  return {
    localUrl,
    platformUrl,
    outbox,
    async close() {
      abort.abort();
      clearInterval(sweep);
      await delivering;
      await Promise.all(
        [localServer, platformServer].map(
          (s) =>
            new Promise<void>((r) => {
              s.closeAllConnections();
              s.close(() => r());
            }),
        ),
      );
    },
  };
}

async function listen(server: Server, host: string, port: number, scheme: 'http' | 'https'): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `${scheme}://${shown.includes(':') ? `[${shown}]` : shown}:${a.port}`;
}

/** A night's report from a large hospital can run to megabytes; the platform-facing endpoints keep the 1 MB limit. */
const LOCAL_BODY_LIMIT = 64 << 20;

async function jsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let v: unknown;
  try {
    v = JSON.parse(await readBody(req, LOCAL_BODY_LIMIT));
  } catch {
    throw new HttpError(400, '请求体不是 JSON');
  }
  if (!v || typeof v !== 'object') throw new HttpError(400, '请求体应为 JSON 对象或数组');
  return v as Record<string, unknown>;
}

interface LocalContext {
  org: OrgInfo;
  outbox: Outbox;
  client: PlatformClient;
  guard: GuardOptions;
  localUrl: string;
}

type LocalCall = { req: IncomingMessage; res: ServerResponse; url: URL; route: (typeof LOCAL_ROUTES)[number]; ctx: LocalContext };

/** One function per handler named in LOCAL_ROUTES (frontend-routes.ts), which also feeds the OpenAPI document. */
const LOCAL_HANDLERS: Record<LocalHandler, (c: LocalCall) => Promise<void>> = {
  async outbox({ res, url, ctx }) {
    const status = url.searchParams.get('status');
    const entries = ctx.outbox.list().filter((e) => !status || e.status === status);
    // Summaries only: the HIS already has the personal data; the outbox listing need not repeat it.
    sendJson(res, 200, { entries: entries.map(({ payload, ...rest }) => ({ ...rest, items: traceIdsOf(payload).length })) });
  },
  async health({ res, ctx }) {
    sendJson(res, 200, { ok: true, pending: ctx.outbox.list().filter((e) => e.status === 'pending').length });
  },
  report: (c) => submit(c, 'report'),
  update: (c) => submit(c, 'update'),
  async forward({ req, res, route, ctx }) {
    const code = route.forwards!;
    const params = { ...(await jsonBody(req)) };
    if (!params.orgId && 'orgId' in INTERFACES[code].request) params.orgId = ctx.org.orgId;
    try {
      sendJson(res, 200, await ctx.client.call(code, params));
    } catch (e) {
      if (e instanceof PlatformError && e.respCode === '000105' && !e.httpStatus)
        throw new HttpError(400, e.message, { respCode: e.respCode });
      throw e;
    }
  },
};

async function submit({ req, res, ctx }: LocalCall, kind: 'report' | 'update'): Promise<void> {
  const body = await jsonBody(req);
  const plan =
    kind === 'report' ? planReport(reportPersons(body), ctx.org) : planUpdates(withTraceIds(updateList(body), ctx.outbox), ctx.org);
  try {
    // Every batch is checked before any is queued: a bad item stops the whole submission.
    plan.forEach((p) => checkRequest(kind === 'report' ? 'ORG_MDL_001' : 'ORG_MDL_003', p));
  } catch (e) {
    if (e instanceof PlatformError) throw new HttpError(400, e.message, { respCode: e.respCode });
    throw e;
  }
  const batches = [];
  for (const p of plan) {
    const { entry, created } = await ctx.outbox.enqueue(kind, p);
    batches.push({ orgRequestId: entry.id, status: entry.status, created });
  }
  sendJson(res, 202, { accepted: true, batches });
}

const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";

async function handleLocal(req: IncomingMessage, res: ServerResponse, ctx: LocalContext): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  checkCaller(req, ctx.guard);
  // The contract is public (it holds no data): a HIS vendor's generator may fetch it without the token.
  if (req.method === 'GET' && (url.pathname === '/openapi.json' || url.pathname === '/docs')) {
    const doc = frontendOpenApi({ serverUrl: ctx.localUrl });
    if (url.pathname === '/openapi.json') return sendJson(res, 200, doc);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': DOCS_CSP });
    res.end(renderOpenApiHtml(doc, { jsonUrl: '/openapi.json' }));
    return;
  }
  checkLocalCall(req, ctx.guard);
  const route = LOCAL_ROUTES.find((r) => r.path === url.pathname && r.method === req.method);
  if (!route) throw new HttpError(404, `没有这个接口: ${req.method} ${url.pathname}`);
  await LOCAL_HANDLERS[route.handler]({ req, res, url, route, ctx });
}

/** `{ unsettleList: [...] }` in the guide's shape, or `{ rows: [...] }` with one flat row per item (CSV columns). */
function reportPersons(body: Record<string, unknown>): UnsettledPerson[] {
  if (Array.isArray(body.unsettleList)) return body.unsettleList as UnsettledPerson[];
  if (Array.isArray(body.rows)) {
    try {
      return reportRowsToPersons(body.rows as Record<string, string>[]);
    } catch (e) {
      if (e instanceof CsvError) throw new HttpError(400, e.message.replace(/第 (\d+) 行/g, '第 $1 条'), { problems: e.problems });
      throw e;
    }
  }
  throw new HttpError(400, '应提供 unsettleList (按患者分组) 或 rows (每条费用一行)');
}

/** `{ updates: [...] }`, an array, or one person's update. */
function updateList(body: Record<string, unknown>): PersonUpdate[] {
  const list = Array.isArray(body) ? body : Array.isArray(body.updates) ? body.updates : [body];
  if (!list.every((u) => u && typeof u === 'object' && Array.isArray((u as PersonUpdate).itemList))) {
    throw new HttpError(400, '每个更新都应有 itemList: [{orgTraceId, traceId, state}]');
  }
  return list as PersonUpdate[];
}

/** Items reported through this 前置机 may leave out traceId: it is known from the platform's result. */
function withTraceIds(updates: PersonUpdate[], outbox: Outbox): PersonUpdate[] {
  return updates.map((u) => ({
    ...u,
    itemList: u.itemList.map((i) => {
      if (i.traceId) return i;
      const traceId = outbox.traceIdOf(i.orgTraceId);
      if (!traceId) throw new HttpError(400, `费用 ${i.orgTraceId} 缺少平台跟踪号 traceId, 且前置机尚未收到它的上报结果`);
      return { ...i, traceId };
    }),
  }));
}

async function overdueState(opts: FrontendOptions, req: GetOverdueResultRequest): Promise<{ state: OverdueState }> {
  if (opts.stateHook) {
    const r = await fetch(opts.stateHook, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ orgId: req.orgId, orgTraceId: req.orgTraceId, traceId: req.traceId ?? '' }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!r.ok) throw new Error(`院内状态接口返回 HTTP ${r.status}`);
    return (await r.json()) as { state: OverdueState };
  }
  if (opts.stateTable) {
    const table = JSON.parse(await readFile(opts.stateTable, 'utf8')) as Record<string, string> | { orgTraceId: string; state: string }[];
    const state = Array.isArray(table) ? table.find((r) => r.orgTraceId === req.orgTraceId)?.state : table[req.orgTraceId];
    return { state: (state ?? '0') as OverdueState };
  }
  throw new MdlError('-1', '前置机未配置院内状态来源 (--state-hook 或 --state-table)');
}

async function onCallback(opts: FrontendOptions, outbox: Outbox, req: CallbackRequest, log: (m: string) => void): Promise<void> {
  const list = req.notifyType === 'UPDATE' ? (req.updateResultList ?? []) : (req.reportResultList ?? []);
  if (opts.callbackHook) {
    // Forwarded first: if the HIS cannot take it, the platform is told `fail` and sends it again.
    const r = await fetch(opts.callbackHook, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(req),
      signal: AbortSignal.timeout(10_000),
    });
    if (!r.ok) throw new Error(`院内回调接口返回 HTTP ${r.status}`);
  }
  const id = callbackRequestId(req);
  const entry = await outbox.recordResult(id, list);
  log(`收到平台${req.notifyType === 'UPDATE' ? '更新' : '上报'}结果 ${id ?? ''}${entry ? '' : ' (不是本前置机发送的批次)'}`);
}

/** ORG_MDL_005 for sent batches whose callback is overdue (guide §4.3.5: 没有收到回调通知的情况可发起主动查询). */
async function sweepResults(
  outbox: Outbox,
  client: PlatformClient,
  orgId: string,
  timeoutMs: number,
  log: (m: string) => void,
): Promise<void> {
  const overdue = outbox.list().filter((e) => e.status === 'sent' && Date.now() - Date.parse(e.sentAt ?? '') > timeoutMs);
  for (const e of overdue) {
    try {
      const r = await client.queryReportResult({ orgId, orgRequestId: e.id });
      if (resultReady(r)) await outbox.recordResult(e.id, r.reportResultList ?? []);
    } catch (err) {
      log(`查询批次 ${e.id} 结果失败: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
