/**
 * `mdl-hospital check`: calls a hospital's own ORG_001 and ORG_002 endpoints the way the platform
 * will (signed and encrypted with the hospital's credential), and says what is wrong, so a hospital
 * can test before going live. It also sends forged and unsigned calls, which must be refused.
 */
import { INTERFACES, MdlError, RespCode, SIGN_VERSION, SIGN_VERSION_HEADER, openReply, sealRequest, validate } from '@mdl/protocol';
import type { Envelope } from '@mdl/protocol';

export interface CheckOptions {
  /** Base URL of the hospital's endpoints; the guide's suffixes are appended. */
  url: string;
  appId: string;
  secret: string;
  orgId: string;
  /** An orgTraceId the HIS knows, to ask ORG_001 about (default: a marked test value). */
  orgTraceId?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
}

export interface CheckReport {
  ok: boolean;
  url: string;
  results: CheckResult[];
}

type Answer =
  | { kind: 'unreachable'; detail: string }
  | { kind: 'http'; status: number }
  | { kind: 'not-json'; text: string }
  | { kind: 'bad-envelope'; code: string; detail: string }
  /** A refusal before authentication: unsigned by design (PROTOCOL.md), so it proves nothing but its code. */
  | { kind: 'unsigned-refusal'; respCode: string; respMsg: string }
  | { kind: 'reply'; respCode: string; respMsg: string; payload: Record<string, unknown> | undefined; singleLayer: boolean };

async function ask(opts: CheckOptions, path: string, env: Envelope): Promise<Answer> {
  let res: Response;
  let text: string;
  try {
    res = await (opts.fetch ?? fetch)(opts.url.replace(/\/+$/, '') + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', [SIGN_VERSION_HEADER]: SIGN_VERSION },
      body: JSON.stringify(env),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    });
    text = await res.text();
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { kind: 'unreachable', detail: cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e)) };
  }
  if (res.status !== 200) return { kind: 'http', status: res.status };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { kind: 'not-json', text: text.slice(0, 80) };
  }
  const singleLayer = !!body && typeof body === 'object' && !('respCode' in body) && !('sign' in body) && !('encryptData' in body);
  const e = body as Envelope;
  if (!singleLayer && e && typeof e.respCode === 'string' && e.respCode !== RespCode.SUCCESS && e.sign === undefined && !e.encryptData) {
    return { kind: 'unsigned-refusal', respCode: e.respCode, respMsg: String(e.respMsg ?? '') };
  }
  try {
    const r = openReply(body, opts.secret, { allowPlain: false });
    return { kind: 'reply', respCode: r.respCode, respMsg: r.respMsg, payload: r.payload, singleLayer };
  } catch (e) {
    const code = e instanceof MdlError ? e.code : RespCode.EXTERNAL;
    return { kind: 'bad-envelope', code, detail: e instanceof Error ? e.message : String(e) };
  }
}

/** Why an answer to a correct call is not usable, or undefined when it is. */
function problemOf(a: Answer): string | undefined {
  switch (a.kind) {
    case 'unreachable':
      return `无法连接: ${a.detail}`;
    case 'http':
      return `HTTP 状态码应为 200, 实为 ${a.status}`;
    case 'not-json':
      return `应答不是 JSON: ${a.text}`;
    case 'bad-envelope':
      return a.code === RespCode.BAD_SIGNATURE
        ? '应答签名错误 (请用本机构密钥按 SM3 规则签名, 业务数据以 param 参与签名)'
        : a.code === RespCode.DECRYPT_FAILED
          ? `应答无法解密: ${a.detail}`
          : `应答报文无效: ${a.detail}`;
    case 'reply':
      if (a.respCode !== RespCode.SUCCESS) return `拒绝了平台的正确请求: ${a.respCode} ${a.respMsg}`;
      return undefined;
    case 'unsigned-refusal':
      return `拒绝了平台的正确请求: ${a.respCode} ${a.respMsg}`;
  }
}

function forgeries(payload: unknown, opts: CheckOptions): { name: string; env: Envelope }[] {
  const good = sealRequest(payload, { appId: opts.appId, secret: opts.secret });
  const wrong = {
    ...good,
    sign: sealRequest({ forged: true }, { appId: opts.appId, secret: opts.secret, timestamp: good.timestamp }).sign,
  };
  const unsigned: Envelope = { ...good };
  delete unsigned.sign;
  return [
    { name: '签名错误', env: wrong },
    { name: '无签名', env: unsigned },
  ];
}

async function refusalChecks(opts: CheckOptions, code: 'ORG_001' | 'ORG_002', payload: unknown): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const f of forgeries(payload, opts)) {
    const a = await ask(opts, INTERFACES[code].path, f.env);
    const id = `${code}.${f.name === '签名错误' ? 'forged' : 'unsigned'}`;
    const title = `${code} 拒绝${f.name}的请求`;
    if (a.kind === 'reply' && a.respCode === RespCode.SUCCESS) {
      out.push({ id, title, status: 'fail', detail: `接受了${f.name}的请求并返回了业务数据, 任何人都可以伪造平台调用` });
    } else if ((a.kind === 'reply' || a.kind === 'unsigned-refusal') && a.respCode === RespCode.BAD_SIGNATURE) {
      out.push({ id, title, status: 'pass', detail: '返回 000102' });
    } else if (a.kind === 'reply' || a.kind === 'unsigned-refusal') {
      out.push({ id, title, status: 'warn', detail: `已拒绝, 但应答码应为 000102, 实为 ${a.respCode}` });
    } else {
      out.push({ id, title, status: 'warn', detail: `已拒绝, 但不是规范的应答报文: ${problemOf(a)}` });
    }
  }
  return out;
}

export async function runConformance(opts: CheckOptions): Promise<CheckReport> {
  const results: CheckResult[] = [];
  const traceAsk = { orgId: opts.orgId, orgTraceId: opts.orgTraceId ?? 'MDLCHECK-0001', traceId: 'MDLCHECK-T0001' };

  const a1 = await ask(opts, INTERFACES.ORG_001.path, sealRequest(traceAsk, { appId: opts.appId, secret: opts.secret }));
  const p1 = problemOf(a1);
  if (p1) results.push({ id: 'ORG_001.reply', title: 'ORG_001 应答正确签名的查询', status: 'fail', detail: p1 });
  else if (a1.kind === 'reply') {
    const issue = validate(INTERFACES.ORG_001.response, a1.payload ?? {});
    results.push(
      issue
        ? {
            id: 'ORG_001.reply',
            title: 'ORG_001 应答格式',
            status: 'fail',
            detail: `应答格式错误: ${issue.path} ${issue.message} (应为 {"state":"0|1|2"})`,
          }
        : {
            id: 'ORG_001.reply',
            title: 'ORG_001 应答格式',
            status: a1.singleLayer ? 'warn' : 'pass',
            detail: a1.singleLayer
              ? `单层结构 state=${String(a1.payload?.state)}: 可用, 建议返回签名加密的完整报文`
              : `state=${String(a1.payload?.state)}`,
          },
    );
  }
  if (a1.kind === 'unreachable') return finish(opts, results);
  results.push(...(await refusalChecks(opts, 'ORG_001', traceAsk)));

  const callback = {
    orgId: opts.orgId,
    orgName: '平台联调检查',
    notifyType: 'REPORT',
    orgRequestId: `MDLCHECK-${Date.now()}`,
    reportResultList: [
      { idNo: '', userName: '联调检查', itemList: [{ orgTraceId: traceAsk.orgTraceId, traceId: traceAsk.traceId, state: '0' }] },
    ],
  };
  const a2 = await ask(opts, INTERFACES.ORG_002.path, sealRequest(callback, { appId: opts.appId, secret: opts.secret }));
  const p2 = problemOf(a2);
  if (p2) results.push({ id: 'ORG_002.reply', title: 'ORG_002 应答回调通知', status: 'fail', detail: p2 });
  else if (a2.kind === 'reply') {
    const issue = validate(INTERFACES.ORG_002.response, a2.payload ?? {});
    if (issue) {
      results.push({
        id: 'ORG_002.reply',
        title: 'ORG_002 应答格式',
        status: 'fail',
        detail: `应答格式错误: ${issue.path} ${issue.message} (应为 {"state":"success|fail"})`,
      });
    } else if (a2.payload?.state === 'fail') {
      results.push({
        id: 'ORG_002.reply',
        title: 'ORG_002 应答格式',
        status: 'warn',
        detail: `格式正确, 但返回 fail (测试批次号未知时可以理解): ${String(a2.payload.msg ?? '')}`,
      });
    } else {
      results.push({
        id: 'ORG_002.reply',
        title: 'ORG_002 应答格式',
        status: a2.singleLayer ? 'warn' : 'pass',
        detail: a2.singleLayer ? '单层结构: 可用, 建议返回签名加密的完整报文' : 'state=success',
      });
    }
  }
  results.push(...(await refusalChecks(opts, 'ORG_002', callback)));
  return finish(opts, results);
}

function finish(opts: CheckOptions, results: CheckResult[]): CheckReport {
  return { ok: results.every((r) => r.status !== 'fail'), url: opts.url, results };
}
