/**
 * Settings shared by every `mdl-hospital` command. Parsing, help and dispatch are the one CLI framework of
 * `@mdl/protocol/cli`, which the platform's `mdl` uses too.
 */
import { UsageError, type Args, type Command as CliCommand, type Io, type OptionSpec } from '@mdl/protocol/cli';

export type Command = CliCommand;
export { UsageError, type Args, type Io };

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

/** Progress for long runs goes to stderr, so stdout stays clean for --json. */
export function progress(io: Io): (msg: string) => void {
  return (msg) => io.err(msg);
}
