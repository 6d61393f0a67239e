/**
 * A small stand-in for the provincial platform, for the kit's own tests: real HTTP on loopback and
 * the real envelope (protocol package), with a batch store that answers a known orgRequestId again
 * without reprocessing, result callbacks to notifyUrl, and fault injection. The lead's end-to-end
 * tests swap `startFakePlatform()` for the real platform.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { INTERFACES, MdlError, RespCode, openRequest, sealRequest, sealResponse, validate } from '@mdl/protocol';
import type { Envelope, ReportOverdueDataRequest, ResultPerson, UpdateOverdueDataRequest } from '@mdl/protocol';
import { readBody } from '../handlers.js';

export type Fault =
  | { pass: true }
  | { http: number }
  | { respCode: string }
  | { badSign: true }
  | { drop: true }
  | { plain: true }
  /** Processed, then the connection is cut before the answer: the caller cannot know it worked. */
  | { loseReply: true };

export interface FakePlatformOptions {
  appId: string;
  secret: string;
  orgName?: string;
  /** Send ORG_002 callbacks after a batch is stored (default true). */
  callbacks?: boolean;
  port?: number;
}

export interface FakeItem {
  orgTraceId: string;
  traceId: string;
  state: string;
  idNo: string;
  userName: string;
  amount: string;
  /** How many times the item was stored: exactly-once tests expect 1. */
  stored: number;
}

export interface FakePlatform {
  url: string;
  /** Every call that reached the platform, faults included. */
  calls: { path: string; payload: Record<string, unknown> | undefined }[];
  batches: Map<string, { payloadJson: string; kind: 'REPORT' | 'UPDATE'; results: ResultPerson[] }>;
  items: Map<string, FakeItem>;
  callbacksSent: { url: string; ok: boolean }[];
  /** Faults applied to the next calls of a path (or of any path with '*'), in order. */
  inject(path: string, ...faults: Fault[]): void;
  /** While down, every connection is cut before an answer. */
  setDown(down: boolean): void;
  setCallbacks(on: boolean): void;
  close(): Promise<void>;
}

export async function startFakePlatform(opts: FakePlatformOptions): Promise<FakePlatform> {
  const faults = new Map<string, Fault[]>();
  let down = false;
  let callbacks = opts.callbacks ?? true;
  let traceSeq = 0;
  const orgName = opts.orgName ?? '测试医院';
  const fake: FakePlatform = {
    url: '',
    calls: [],
    batches: new Map(),
    items: new Map(),
    callbacksSent: [],
    inject: (path, ...f) => faults.set(path, [...(faults.get(path) ?? []), ...f]),
    setDown: (d) => void (down = d),
    setCallbacks: (on) => void (callbacks = on),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };

  const reply = (code: string, payload?: unknown, encryptType = 'SM4') =>
    sealResponse(payload, {
      appId: opts.appId,
      secret: opts.secret,
      respCode: code,
      encryptType,
      signType: encryptType === 'PLAIN' ? 'PLAIN' : 'SM3',
    });

  function nextFault(path: string): Fault | undefined {
    for (const key of [path, '*']) {
      const q = faults.get(key);
      if (q && q.length > 0) return q.shift();
    }
    return undefined;
  }

  function sendCallback(notifyUrl: string, body: Record<string, unknown>): void {
    if (!callbacks) return;
    const env = sealRequest(body, { appId: opts.appId, secret: opts.secret });
    setTimeout(() => {
      fetch(notifyUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(env) })
        .then(async (r) => fake.callbacksSent.push({ url: notifyUrl, ok: r.ok && (await r.text()).length > 0 }))
        .catch(() => fake.callbacksSent.push({ url: notifyUrl, ok: false }));
    }, 5);
  }

  function storeBatch(path: string, payload: Record<string, unknown>): void {
    const isReport = path === INTERFACES.ORG_MDL_001.path;
    const req = payload as ReportOverdueDataRequest & UpdateOverdueDataRequest;
    const known = fake.batches.get(req.orgRequestId);
    if (known) {
      if (known.payloadJson !== JSON.stringify(payload)) throw new MdlError(RespCode.INVALID_PARAM, '请求批次号已使用, 内容不同');
      return;
    }
    const results: ResultPerson[] = [];
    if (isReport) {
      for (const p of req.unsettleList ?? []) {
        const itemList = p.itemList.map((i) => {
          const old = fake.items.get(i.orgTraceId);
          const item: FakeItem = old ?? {
            orgTraceId: i.orgTraceId,
            traceId: `T${String(++traceSeq).padStart(8, '0')}`,
            state: '0',
            idNo: p.idNo ?? '',
            userName: p.userName ?? '',
            amount: i.amount,
            stored: 0,
          };
          item.stored++;
          fake.items.set(i.orgTraceId, item);
          return { orgTraceId: item.orgTraceId, traceId: item.traceId, state: item.state };
        });
        results.push({ idNo: p.idNo ?? '', userName: p.userName ?? '', itemList });
      }
    } else {
      const itemList = req.itemList.map((i) => {
        const item = fake.items.get(i.orgTraceId);
        if (item && i.state !== '0') item.state = i.state;
        return { orgTraceId: i.orgTraceId, traceId: i.traceId, state: item?.state ?? i.state };
      });
      results.push({ idNo: req.idNo ?? '', userName: req.userName ?? '', itemList });
    }
    const kind = isReport ? 'REPORT' : 'UPDATE';
    fake.batches.set(req.orgRequestId, { payloadJson: JSON.stringify(payload), kind, results });
    const listKey = isReport ? 'reportResultList' : 'updateResultList';
    sendCallback(req.notifyUrl, {
      orgId: req.orgId,
      orgName,
      notifyType: kind,
      reportResultList: [],
      updateResultList: [],
      [listKey]: results,
      extData: { orgRequestId: req.orgRequestId },
    });
  }

  function business(path: string, payload: Record<string, unknown>): unknown {
    switch (path) {
      case INTERFACES.ORG_MDL_001.path:
      case INTERFACES.ORG_MDL_003.path:
        storeBatch(path, payload);
        return { state: 'success' };
      case INTERFACES.ORG_MDL_002.path: {
        const mine = [...fake.items.values()].filter((i) => i.idNo === payload.idNo && i.state === '0');
        const itemList = mine.map((i) => ({
          orgId: String(payload.orgId ?? 'H0'),
          orgName,
          itemName: '诊查费',
          amount: i.amount,
          actualTime: '2026-11-24 09:00:00',
          state: '0',
        }));
        return { next: mine.length === 0 ? '1' : '0', itemList };
      }
      case INTERFACES.ORG_MDL_004.path:
        return { mdrUrl: 'https://mdl.example/h5?t=fake' };
      case INTERFACES.ORG_MDL_005.path: {
        const b = fake.batches.get(String(payload.orgRequestId));
        if (!b) throw new MdlError(RespCode.INVALID_PARAM, '请求批次号不存在');
        return { orgId: payload.orgId, orgName, reportResultList: b.results, extData: { notifyType: b.kind, status: 'done' } };
      }
      case INTERFACES.ORG_EHC_001.path:
        return { authUrl: 'https://ehc.example/auth?x=1' };
      case INTERFACES.ORG_EHC_002.path:
        return { authStatus: 'ing' };
      default: {
        const card = {
          ehealthCardId: 'EHC0001',
          cardNo: 'C0001',
          cardType: '01',
          idNo: '11010519491231002X',
          idType: '01',
          userName: '张三',
        };
        if (path === INTERFACES.ORG_EHC_003.path || path === INTERFACES.ORG_EHC_004.path) return card;
        throw new MdlError(RespCode.BAD_PATH);
      }
    }
  }

  async function handle(req: IncomingMessage): Promise<{ status: number; body: unknown } | 'drop'> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const text = await readBody(req);
    const fault = nextFault(path);
    if (fault && 'drop' in fault) return 'drop';
    if (fault && 'http' in fault) return { status: fault.http, body: { error: 'injected' } };
    let env: Envelope;
    try {
      env = JSON.parse(text) as Envelope;
    } catch {
      return { status: 200, body: { respCode: RespCode.INVALID_PARAM, respMsg: '报文不是 JSON' } };
    }
    let payload: Record<string, unknown> | undefined;
    try {
      // Opened as the platform opens it (protocol's openRequest), without its clock window: tests bring their own.
      const opened = await openRequest(env, {
        credential: (appId) => (appId === opts.appId ? { appId, secret: opts.secret, allowPlain: true } : undefined),
        now: Date.now(),
        toleranceMs: 0,
      });
      if (!opened.ok) throw opened.error;
      payload = opened.payload;
      fake.calls.push({ path, payload });
      if (fault && 'respCode' in fault) return { status: 200, body: reply(fault.respCode) };
      const code = Object.values(INTERFACES).find((i) => i.path === path && i.servedBy === 'platform');
      if (!code) throw new MdlError(RespCode.BAD_PATH);
      const issue = validate(code.request, payload);
      if (issue) throw new MdlError(RespCode.INVALID_PARAM, `${issue.path}: ${issue.message}`);
      const out = business(path, payload);
      const sealed = reply(RespCode.SUCCESS, out, fault && 'plain' in fault ? 'PLAIN' : 'SM4');
      if (fault && 'loseReply' in fault) return 'drop';
      if (fault && 'badSign' in fault) sealed.sign = reply(RespCode.SUCCESS, { other: true }).sign;
      return { status: 200, body: sealed };
    } catch (e) {
      if (!payload) fake.calls.push({ path, payload: undefined });
      const code = e instanceof MdlError ? e.code : RespCode.SYSTEM_ERROR;
      return {
        status: 200,
        body: sealResponse(undefined, {
          appId: opts.appId,
          secret: opts.secret,
          respCode: code,
          respMsg: e instanceof Error ? e.message : undefined,
        }),
      };
    }
  }

  const server: Server = createServer((req, res) => {
    if (down) return void req.socket.destroy();
    handle(req).then(
      (r) => {
        if (r === 'drop') return void req.socket.destroy();
        res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(r.body));
      },
      () => {
        res.writeHead(500);
        res.end();
      },
    );
  });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', () => r()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
