#!/usr/bin/env node
/** `mdl-hospital`: the hospital kit's command line. Every command has --help and --json. */
import { readFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ZH_TEXTS, commandHelp, runProgram, stdio, type Program } from '@mdl/protocol/cli';
import { type Args, type Command, type Io, ORG_OPTIONS, PLATFORM_OPTIONS, UsageError, progress } from './cli-args.js';
import { runConformance } from './check.js';
import { PlatformClient, type PlatformInterface } from './client.js';
import { CsvError, parseReportCsv, parseUpdateCsv } from './csv.js';
import { csvEncoding } from './csv-encoding.js';
import { PlatformError } from './errors.js';
import { token } from './cli-token.js';
import { serve } from './cli-serve.js';
import { NightlyUploader } from './uploader.js';

function clientOf(a: Args): PlatformClient {
  return new PlatformClient({ baseUrl: a.need('platform-url'), appId: a.need('app-id'), secret: a.need('secret') });
}

function out(io: Io, a: Args, value: unknown, human: string): void {
  io.out(a.json ? JSON.stringify(value, null, 2) : human);
}

const ENCODING_OPTION = { type: 'string', help: 'CSV 编码: auto (默认, 识别 UTF-8 或 GB18030), utf8, gb18030', default: 'auto' } as const;
const encodingOf = (a: Args) => {
  try {
    return csvEncoding(a.need('encoding'));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
};

const orgOf = (a: Args) => ({ orgId: a.need('org-id'), orgName: a.need('org-name'), notifyUrl: a.need('notify-url') });

const report: Command = {
  name: 'report',
  summary:
    '上报 CSV 文件中的欠费数据 (ORG_MDL_001): 按患者分组, 每批不超过 100 条, 批次号由内容生成, 重复执行不会重复上报。\n任何一行有误则整个文件都不发送, 并指出出错的行。',
  usage: 'report --csv 文件 [选项]',
  options: {
    csv: { type: 'string', help: 'CSV 文件 (列见 docs/hospital-integration.md)' },
    encoding: ENCODING_OPTION,
    'dry-run': { type: 'boolean', help: '只校验和分批, 不发送' },
    ...PLATFORM_OPTIONS,
    ...ORG_OPTIONS,
  },
  async run(a, io) {
    const persons = parseReportCsv(await readFile(a.need('csv')), { encoding: encodingOf(a) });
    const items = persons.reduce((n, p) => n + p.itemList.length, 0);
    if (a.values['dry-run']) {
      out(io, a, { ok: true, persons: persons.length, items }, `校验通过: ${persons.length} 位患者, ${items} 条费用, 未发送`);
      return 0;
    }
    const say = progress(io);
    const batches = await clientOf(a).reportAll(persons, {
      ...orgOf(a),
      onBatch: (b, i, total) => say(`[${i + 1}/${total}] 批次 ${b.orgRequestId} 已被平台接收 (${b.itemCount} 条)`),
      onRetry: (r) => say(`重试第 ${r.attempt} 次 (${r.delayMs} ms 后): ${r.error.message}`),
    });
    out(
      io,
      a,
      { ok: true, items, batches: batches.map((b) => ({ orgRequestId: b.orgRequestId, itemCount: b.itemCount })) },
      `已上报 ${items} 条, 共 ${batches.length} 批:\n${batches.map((b) => `  ${b.orgRequestId}  ${b.itemCount} 条`).join('\n')}\n处理结果将回调到 notifyUrl, 也可用 mdl-hospital status --request-id 查询`,
    );
    return 0;
  },
};

const update: Command = {
  name: 'update',
  summary: '按 CSV 文件更新欠费数据 (ORG_MDL_003): state 1 已缴清, 2 撤销。',
  usage: 'update --csv 文件 [选项]',
  options: {
    csv: { type: 'string', help: 'CSV 文件 (列: idNo,idType,userName,ehealthCardId,orgTraceId,traceId,state)' },
    encoding: ENCODING_OPTION,
    ...PLATFORM_OPTIONS,
    'notify-url': ORG_OPTIONS['notify-url']!,
  },
  async run(a, io) {
    const updates = parseUpdateCsv(await readFile(a.need('csv')), { encoding: encodingOf(a) });
    const say = progress(io);
    const batches = await clientOf(a).updateAll(updates, {
      orgId: a.need('org-id'),
      orgName: '',
      notifyUrl: a.need('notify-url'),
      onBatch: (b, i, total) => say(`[${i + 1}/${total}] 批次 ${b.orgRequestId} 已被平台接收 (${b.itemCount} 条)`),
    });
    out(
      io,
      a,
      { ok: true, batches: batches.map((b) => ({ orgRequestId: b.orgRequestId, itemCount: b.itemCount })) },
      `已提交 ${batches.length} 批更新:\n${batches.map((b) => `  ${b.orgRequestId}  ${b.itemCount} 条`).join('\n')}`,
    );
    return 0;
  },
};

const identity = {
  'id-no': { type: 'string', help: '证件号' },
  'id-type': { type: 'string', help: '证件类型', default: '01' },
  name: { type: 'string', help: '姓名' },
  'ehc-id': { type: 'string', help: '电子健康卡主索引 id' },
} as const;

const query: Command = {
  name: 'query',
  summary: '查询患者的欠费情况和是否可享先诊后付 (ORG_MDL_002)。',
  usage: 'query --id-no 证件号 --name 姓名 --ehc-id 主索引 [选项]',
  options: {
    ...identity,
    'business-type': { type: 'string', help: '业务类型', default: '01101' },
    'all-orgs': { type: 'boolean', help: '查询全省所有机构 (不传 orgId)' },
    ...PLATFORM_OPTIONS,
  },
  async run(a, io) {
    const r = await clientOf(a).queryOverdueData({
      ...(a.values['all-orgs'] ? {} : { orgId: a.need('org-id') }),
      businessType: a.need('business-type'),
      idNo: a.need('id-no'),
      idType: a.need('id-type'),
      userName: a.need('name'),
      ehealthCardId: a.get('ehc-id'),
    });
    const lines = (r.itemList ?? []).map((i) => `  ${i.actualTime}  ${i.orgName}  ${i.itemName}  ${i.amount} 元`);
    out(io, a, r, `可享先诊后付: ${r.next === '1' ? '是' : '否'}\n欠费 ${lines.length} 条${lines.length ? `:\n${lines.join('\n')}` : ''}`);
    return 0;
  },
};

const status: Command = {
  name: 'status',
  summary: '查询一个上报/更新批次的处理结果 (ORG_MDL_005)。',
  usage: 'status --request-id 批次号 [选项]',
  options: { 'request-id': { type: 'string', help: '上报/更新时的 orgRequestId' }, ...PLATFORM_OPTIONS },
  async run(a, io) {
    const r = await clientOf(a).queryReportResult({ orgId: a.need('org-id'), orgRequestId: a.need('request-id') });
    const items = (r.reportResultList ?? []).flatMap((p) => p.itemList);
    const states: Record<string, string> = { '0': '欠费', '1': '已缴清', '2': '撤销' };
    out(
      io,
      a,
      r,
      items.length === 0
        ? '平台尚无处理结果'
        : items.map((i) => `  ${i.orgTraceId}  平台跟踪号 ${i.traceId ?? '-'}  ${states[i.state ?? ''] ?? i.state ?? '-'}`).join('\n'),
    );
    return 0;
  },
};

const EHC: Record<string, { code: PlatformInterface; summary: string; params: (a: Args) => Record<string, unknown> }> = {
  'gen-auth-url': { code: 'ORG_EHC_001', summary: '生成电子健康卡授权链接', params: (a) => ({ outAuthNo: a.need('out-auth-no') }) },
  'auth-result': { code: 'ORG_EHC_002', summary: '查询授权结果', params: (a) => ({ outAuthNo: a.need('out-auth-no') }) },
  'verify-qr': { code: 'ORG_EHC_003', summary: '电子健康卡验码', params: (a) => ({ ehealthCode: a.need('code') }) },
  'ec-auth': {
    code: 'ORG_EHC_004',
    summary: '查询医保患者主索引',
    params: (a) => ({
      type: a.need('type'),
      psnNo: a.need('psn-no'),
      cardNo: a.get('card-no'),
      idNo: a.need('id-no'),
      idType: a.need('id-type'),
      userName: a.need('name'),
      insuplcAdmdvs: a.get('insuplc-admdvs'),
    }),
  },
};

const ehc: Command = {
  name: 'ehc',
  summary: `电子健康卡接口 (ORG_EHC_001..004)。子命令:\n${Object.entries(EHC)
    .map(([k, v]) => `  ${k.padEnd(14)} ${v.summary} (${v.code})`)
    .join('\n')}`,
  usage: 'ehc <gen-auth-url|auth-result|verify-qr|ec-auth> [选项]',
  options: {
    'out-auth-no': { type: 'string', help: '外部授权流水号 (gen-auth-url, auth-result)' },
    code: { type: 'string', help: '电子健康卡码值 (verify-qr)' },
    type: { type: 'string', help: '01 医保电子凭证, 02 医保卡 (ec-auth)' },
    'psn-no': { type: 'string', help: '人员编号 (ec-auth)' },
    'card-no': { type: 'string', help: '卡号 (ec-auth)' },
    'insuplc-admdvs': { type: 'string', help: '参保区划 (ec-auth, 异地参保)' },
    ...identity,
    ...PLATFORM_OPTIONS,
  },
  async run(a, io) {
    const sub = EHC[a.positionals[0] ?? ''];
    if (!sub) throw new UsageError(`请给出子命令: ${Object.keys(EHC).join(', ')}`);
    const params = Object.fromEntries(Object.entries({ orgId: a.need('org-id'), ...sub.params(a) }).filter(([, v]) => v !== undefined));
    const r = await clientOf(a).call(sub.code, params);
    out(
      io,
      a,
      r,
      Object.entries(r)
        .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join('\n'),
    );
    return 0;
  },
};

const check: Command = {
  name: 'check',
  summary:
    '联调检查: 像平台一样调用本院的 ORG_001 / ORG_002 接口 (正确签名加密), 并发送伪造和无签名的请求 (应被拒绝), 报告发现的问题。\n检查使用带 MDLCHECK 标记的测试数据。',
  usage: 'check --url 本院接口地址 [选项]',
  options: {
    url: { type: 'string', help: '本院接口的基础地址 (不含 /qmdl/getOverdueResult 后缀)' },
    'trace-id': { type: 'string', help: 'ORG_001 查询用的机构跟踪号 (默认 MDLCHECK-0001)' },
    'app-id': PLATFORM_OPTIONS['app-id']!,
    secret: PLATFORM_OPTIONS.secret!,
    'org-id': PLATFORM_OPTIONS['org-id']!,
  },
  async run(a, io) {
    const r = await runConformance({
      url: a.need('url'),
      appId: a.need('app-id'),
      secret: a.need('secret'),
      orgId: a.need('org-id'),
      orgTraceId: a.get('trace-id'),
    });
    const mark = { pass: '通过', warn: '注意', fail: '失败' };
    out(
      io,
      a,
      r,
      `${r.results.map((x) => `[${mark[x.status]}] ${x.title}: ${x.detail}`).join('\n')}\n\n${r.ok ? '检查通过' : '发现问题, 请按上面的提示修改后再检查'}`,
    );
    return r.ok ? 0 : 1;
  },
};

const nightly: Command = {
  name: 'nightly',
  summary:
    '夜间上报: 上报前一自然日 (或 --day 指定日) 的欠费数据, 记录已上报状态, 中断后重新执行不会重复上报;\n未收到回调时用 ORG_MDL_005 查询结果。--schedule 则常驻并在本机构的固定时段 (02:00–05:30) 每晚执行。',
  usage: 'nightly --csv 文件 --state 状态文件 [选项]',
  options: {
    csv: { type: 'string', help: 'CSV 文件, 可含 {day} 占位符, 如 /data/unsettled-{day}.csv' },
    encoding: ENCODING_OPTION,
    state: { type: 'string', help: '状态文件 (JSON)', default: './mdl-uploader-state.json' },
    day: { type: 'string', help: '上报哪一天 (yyyy-MM-dd, 默认前一自然日)' },
    'callback-timeout': { type: 'string', help: '等待回调的秒数, 超时后查询 ORG_MDL_005', default: '1800' },
    schedule: { type: 'boolean', help: '常驻, 每晚在本机构时段执行' },
    ...PLATFORM_OPTIONS,
    ...ORG_OPTIONS,
  },
  async run(a, io) {
    const say = progress(io);
    const csv = a.need('csv');
    const u = new NightlyUploader({
      client: clientOf(a),
      org: orgOf(a),
      stateFile: a.need('state'),
      source: { csv: (day) => csv.replace('{day}', day), encoding: encodingOf(a) },
      callbackTimeoutMs: Number(a.need('callback-timeout')) * 1000,
      onProgress: (e) => say(`${e.phase === 'send' ? '发送' : '查询结果'} [${e.done}/${e.total}] ${e.orgRequestId}`),
    });
    if (a.values.schedule) {
      const s = u.schedule((e) => say(`夜间上报失败, 下次执行时继续: ${e instanceof Error ? e.message : String(e)}`));
      say(`下次执行: ${new Date(s.nextAt()).toISOString()}`);
      await new Promise<void>((resolve) => process.once('SIGTERM', resolve).once('SIGINT', resolve));
      s.stop();
      return 0;
    }
    const r = await u.run(a.get('day'));
    out(io, a, r, `${r.day}: 本次发送 ${r.sentNow} 批, 共 ${r.batches.length} 批, 待结果 ${r.pending} 批, 失败 ${r.failed} 批`);
    return r.failed > 0 ? 1 : 0;
  },
};

export const COMMANDS: Command[] = [report, update, query, status, ehc, check, serve, token, nightly];

export const PROGRAM: Program = {
  name: 'mdl-hospital',
  title: 'mdl-hospital: 福建省诊疗失信人员信息管理系统 医院端工具',
  footer: '每个命令都支持 --help 和 --json。连接参数可用环境变量 MDL_PLATFORM_URL, MDL_APP_ID, MDL_SECRET, MDL_ORG_ID 提供。',
  commands: COMMANDS,
  texts: ZH_TEXTS,
  noCommandExit: 2,
};

/** Reports a failed command: its error (as JSON too with --json), and the command's help after a usage error. */
function reportFailure(e: unknown, cmd: Command, a: Args | undefined, io: Io, argv: string[]): void {
  const info =
    e instanceof PlatformError
      ? { error: e.message, respCode: e.respCode, interface: e.interfaceCode }
      : e instanceof CsvError
        ? { error: e.message, problems: e.problems }
        : { error: e instanceof Error ? e.message : String(e) };
  if (a?.json ?? argv.includes('--json')) io.out(JSON.stringify({ ok: false, ...info }));
  const usage = e instanceof UsageError ? `\n\n${commandHelp(PROGRAM, cmd)}` : '';
  io.err(`错误: ${info.error}${e instanceof PlatformError ? ` (应答码 ${e.respCode})` : ''}${usage}`);
}

export async function main(argv: string[], io: Io = stdio, env: Record<string, string | undefined> = process.env): Promise<number> {
  return runProgram(PROGRAM, argv, io, env, {
    usage: (e, cmd, a) => reportFailure(e, cmd, a, io, argv),
    failure: (e, cmd, a) => (reportFailure(e, cmd, a, io, argv), 1),
  });
}

function invokedDirectly(): boolean {
  try {
    return !!process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
}
