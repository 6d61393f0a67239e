/** Argument and settings handling shared by every `mdl-hospital` command. */
import { parseArgs } from 'node:util';

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
}

export class UsageError extends Error {}

type OptionSpec = { type: 'string' | 'boolean'; short?: string; env?: string; help: string; default?: string };

/** Connection settings: flags win over environment variables. */
export const PLATFORM_OPTIONS: Record<string, OptionSpec> = {
  'platform-url': { type: 'string', env: 'MDL_PLATFORM_URL', help: '平台地址, 如 https://mdl.example.gov.cn' },
  'app-id': { type: 'string', env: 'MDL_APP_ID', help: '应用 ID (appId)' },
  secret: { type: 'string', env: 'MDL_SECRET', help: '应用密钥 (建议用环境变量, 避免出现在进程列表中)' },
  'org-id': { type: 'string', env: 'MDL_ORG_ID', help: '机构 id, 国家编码 (12 位)' },
};

export const ORG_OPTIONS: Record<string, OptionSpec> = {
  'org-name': { type: 'string', env: 'MDL_ORG_NAME', help: '机构名称' },
  'notify-url': { type: 'string', env: 'MDL_NOTIFY_URL', help: '平台回调地址 (本院 /umdl/callback 的完整 URL)' },
};

const COMMON: Record<string, OptionSpec> = {
  json: { type: 'boolean', help: '以 JSON 输出结果 (便于脚本处理)' },
  help: { type: 'boolean', short: 'h', help: '显示帮助' },
};

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options: Record<string, OptionSpec>;
  run: (args: Args, io: Io) => Promise<number>;
}

export interface Args {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  json: boolean;
  /** A setting from its flag or environment variable; throws a usage error naming both when absent. */
  need(name: string): string;
  get(name: string): string | undefined;
}

export function parseCommand(cmd: Command, argv: string[], env: Io['env']): Args {
  const all = { ...cmd.options, ...COMMON };
  const options = Object.fromEntries(
    Object.entries(all).map(([k, o]) => [k, { type: o.type, ...(o.short ? { short: o.short } : {}) }]),
  ) as Parameters<typeof parseArgs>[0] extends infer C ? (C extends { options?: infer O } ? O : never) : never;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const get = (name: string): string | undefined => {
    const v = values[name];
    if (typeof v === 'string' && v !== '') return v;
    const spec = all[name];
    return (spec?.env ? env[spec.env] : undefined) || spec?.default;
  };
  return {
    values,
    positionals: parsed.positionals,
    json: values.json === true,
    get,
    need(name) {
      const v = get(name);
      if (v === undefined) {
        const spec = all[name];
        throw new UsageError(`缺少 --${name}${spec?.env ? ` (或环境变量 ${spec.env})` : ''}: ${spec?.help ?? ''}`);
      }
      return v;
    },
  };
}

export function helpText(cmd: Command): string {
  const all = { ...cmd.options, ...COMMON };
  const lines = Object.entries(all).map(([k, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${k}${o.type === 'string' ? ' <值>' : ''}`;
    const extra = [o.env ? `环境变量 ${o.env}` : '', o.default ? `默认 ${o.default}` : ''].filter(Boolean).join(', ');
    return `  ${flag.padEnd(30)} ${o.help}${extra ? ` (${extra})` : ''}`;
  });
  return `用法: mdl-hospital ${cmd.usage}\n\n${cmd.summary}\n\n选项:\n${lines.join('\n')}\n`;
}

/** Progress for long runs goes to stderr, so stdout stays clean for --json. */
export function progress(io: Io): (msg: string) => void {
  return (msg) => io.stderr(`${msg}\n`);
}
