/** `mdl-hospital serve`: starts the 前置机 (frontend.ts) with its local API closed by default (frontend-guard.ts). */
import { readFile } from 'node:fs/promises';
import { type Args, type Command, ORG_OPTIONS, PLATFORM_OPTIONS, UsageError, progress } from './cli-args.js';
import { DATA_DIR_OPTION } from './cli-token.js';
import { startFrontend } from './frontend.js';

const list = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 3600) throw new UsageError('--request-timeout 为 1 到 3600 的整数秒');
  return n;
}
async function tlsOf(a: Args): Promise<{ cert: string; key: string } | undefined> {
  const cert = a.get('local-tls-cert');
  const key = a.get('local-tls-key');
  if (!cert && !key) return undefined;
  if (!cert || !key) throw new UsageError('--local-tls-cert 与 --local-tls-key 须同时提供');
  return { cert: await readFile(cert, 'utf8'), key: await readFile(key, 'utf8') };
}

export const serve: Command = {
  name: 'serve',
  summary:
    '启动前置机: 为 HIS 提供不需加解密的本地 JSON 接口 (上报/更新/查询), 数据先写入本地发件箱, 平台或网络中断时自动重试直到平台接收;\n同时为平台提供 ORG_001 / ORG_002 接口。',
  usage: 'serve --data-dir 目录 [选项]',
  options: {
    'data-dir': DATA_DIR_OPTION,
    'local-host': { type: 'string', help: '本地接口监听地址 (只应对 HIS 所在网络开放)', default: '127.0.0.1' },
    'local-port': { type: 'string', help: '本地接口端口', default: '8300' },
    host: { type: 'string', help: '平台回调接口监听地址', default: '0.0.0.0' },
    port: { type: 'string', help: '平台回调接口端口', default: '8301' },
    'state-hook': { type: 'string', help: 'ORG_001 院内状态接口 URL (POST {orgId,orgTraceId,traceId} → {state})' },
    'state-table': { type: 'string', help: 'ORG_001 院内状态表 JSON 文件 ({"机构跟踪号":"1"}, 未列出的视为欠费)' },
    'callback-hook': { type: 'string', help: '把平台回调结果转发给 HIS 的 URL (可选)' },
    'local-token': {
      type: 'string',
      env: 'MDL_LOCAL_TOKEN',
      help: '本地接口访问令牌, 至少 16 个字符 (不设置则使用数据目录中首次启动时生成的令牌); HIS 须带 Authorization: Bearer 令牌',
    },
    'local-allowed-host': {
      type: 'string',
      env: 'MDL_LOCAL_ALLOWED_HOSTS',
      help: 'HIS 访问本地接口所用的主机名, 逗号分隔 (本机名称与监听地址总是允许)',
    },
    'local-allowed-origin': { type: 'string', help: '允许调用本地接口的浏览器页面来源 (Origin), 逗号分隔; 默认不允许任何页面' },
    'local-tls-cert': { type: 'string', help: '本地接口的 TLS 证书 (PEM 文件); 与 --local-tls-key 一起提供时本地接口使用 https' },
    'local-tls-key': { type: 'string', help: '本地接口的 TLS 私钥 (PEM 文件)' },
    'local-require-tls': { type: 'boolean', help: '本地接口监听非本机地址时必须使用 TLS, 否则拒绝启动' },
    'request-timeout': { type: 'string', help: '每个请求须在此秒数内完整到达, 否则断开', default: '30' },
    'allow-plain': { type: 'boolean', help: '允许 PLAIN 明文 (仅测试环境)' },
    ...PLATFORM_OPTIONS,
    ...ORG_OPTIONS,
  },
  async run(a, io) {
    if (!a.get('state-hook') && !a.get('state-table'))
      throw new UsageError('请用 --state-hook 或 --state-table 指定 ORG_001 的院内状态来源');
    const say = progress(io);
    const fe = await startFrontend({
      platform: { baseUrl: a.need('platform-url'), appId: a.need('app-id'), secret: a.need('secret') },
      org: { orgId: a.need('org-id'), orgName: a.need('org-name'), notifyUrl: a.get('notify-url') },
      dataDir: a.need('data-dir'),
      localHost: a.need('local-host'),
      localPort: Number(a.need('local-port')),
      platformHost: a.need('host'),
      platformPort: Number(a.need('port')),
      stateHook: a.get('state-hook'),
      stateTable: a.get('state-table'),
      callbackHook: a.get('callback-hook'),
      localToken: a.get('local-token'),
      localAllowedHosts: list(a.get('local-allowed-host')),
      localAllowedOrigins: list(a.get('local-allowed-origin')),
      localTls: await tlsOf(a),
      localRequireTls: a.values['local-require-tls'] === true,
      requestTimeoutMs: seconds(a.need('request-timeout')) * 1000,
      allowPlain: a.values['allow-plain'] === true,
      log: (m) => say(`${new Date().toISOString()} ${m}`),
    });
    if (a.json) io.out(JSON.stringify({ localUrl: fe.localUrl, platformUrl: fe.platformUrl }));
    await new Promise<void>((resolve) => {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => resolve());
    });
    say('正在停止前置机…');
    await fe.close();
    return 0;
  },
};
