/** `mdl-hospital token rotate`: a new token for the 前置机's local API (frontend-guard.ts). */
import { type Command, UsageError } from './cli-args.js';
import { rotateToken } from './frontend-guard.js';

export const DATA_DIR_OPTION = {
  type: 'string',
  env: 'MDL_DATA_DIR',
  help: '发件箱等数据的目录',
  default: './mdl-hospital-data',
} as const;

export const token: Command = {
  name: 'token',
  summary:
    '前置机本地接口令牌: rotate 生成新令牌并只显示这一次; 旧令牌立即失效, 运行中的前置机无需重启。\n令牌保存在数据目录的 local-token 文件中 (权限 0600)。',
  usage: 'token rotate --data-dir 目录',
  options: { 'data-dir': DATA_DIR_OPTION },
  async run(a, io) {
    if (a.positionals[0] !== 'rotate') throw new UsageError('请指定子命令: mdl-hospital token rotate --data-dir 目录');
    const r = rotateToken(a.need('data-dir'));
    io.out(
      a.json
        ? JSON.stringify({ ok: true, token: r.token, file: r.file })
        : `新的本地接口令牌 (只显示这一次, 已保存在 ${r.file}):\n${r.token}`,
    );
    return 0;
  },
};
