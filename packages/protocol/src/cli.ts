/**
 * One command-line framework for `mdl` (platform) and `mdl-hospital` (hospital kit): each command is declared
 * (name, summary, usage, options with their help text, environment variable and default), parsed with
 * node:util's parseArgs, and its help is generated from that declaration, so help and parsing cannot disagree.
 * Lives in protocol because it is the one package both programs depend on; exported as `@mdl/protocol/cli` so
 * that the guide's envelope and schemas stay the main entry.
 */
import { parseArgs } from 'node:util';

/** Where a command writes: one call, one or more lines (the newline is added). */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

export const stdio: Io = {
  out: (text) => void process.stdout.write(`${text}\n`),
  err: (text) => void process.stderr.write(`${text}\n`),
};

/** A mistake in the command line: the program says it, shows the command's help and exits 2. */
export class UsageError extends Error {}

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** A string option may come from this environment variable; the flag wins. */
  env?: string;
  help: string;
  default?: string;
  /** A string option that may be given more than once (`Args.list`). */
  multiple?: boolean;
}
export type OptionSpecs = Record<string, OptionSpec>;

export interface Args {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  json: boolean;
  /** A setting from its flag, environment variable or default. */
  get(name: string): string | undefined;
  /** Like `get`; a usage error naming the flag and its variable when absent. */
  need(name: string): string;
  /** Every value of a `multiple` option. */
  list(name: string): string[];
  /** The command's generated help. */
  help(): string;
}

export interface Command<Ctx = undefined> {
  name: string;
  summary: string;
  /** After the program name: `report --csv 文件 [选项]`; several lines for several forms. */
  usage: string | string[];
  options: OptionSpecs;
  run(a: Args, io: Io, ctx: Ctx): Promise<number>;
}

/** The words of the generated help and messages, in the program's language. */
export interface CliTexts {
  usage: string;
  options: string;
  commands: string;
  value: string;
  env: (name: string) => string;
  default: (value: string) => string;
  missing: (flag: string, env: string | undefined, help: string) => string;
  unknownCommand: (name: string) => string;
  json: string;
  help: string;
}

export const ZH_TEXTS: CliTexts = {
  usage: '用法',
  options: '选项',
  commands: '命令',
  value: ' <值>',
  env: (name) => `环境变量 ${name}`,
  default: (value) => `默认 ${value}`,
  missing: (flag, env, help) => `缺少 --${flag}${env ? ` (或环境变量 ${env})` : ''}: ${help}`,
  unknownCommand: (name) => `未知命令: ${name}`,
  json: '以 JSON 输出结果 (便于脚本处理)',
  help: '显示帮助',
};

export const EN_TEXTS: CliTexts = {
  usage: 'Usage',
  options: 'Options',
  commands: 'Commands',
  value: ' <value>',
  env: (name) => `env ${name}`,
  default: (value) => `default ${value}`,
  missing: (flag, env, help) => `--${flag}${env ? ` (or ${env})` : ''} is required: ${help}`,
  unknownCommand: (name) => `unknown command "${name}"`,
  json: 'machine-readable output',
  help: 'this help',
};

export interface Program<Ctx = undefined> {
  /** As typed: `mdl`, `mdl-hospital`. */
  name: string;
  /** The first line of the program's help. */
  title: string;
  /** After the list of commands. */
  footer?: string;
  commands: Command<Ctx>[];
  texts: CliTexts;
  /** Exit code when no command is given (the help is shown). */
  noCommandExit: number;
}

function common(texts: CliTexts): OptionSpecs {
  return { json: { type: 'boolean', help: texts.json }, help: { type: 'boolean', short: 'h', help: texts.help } };
}

export function parseCommand<Ctx>(program: Program<Ctx>, cmd: Command<Ctx>, argv: string[], env: Record<string, string | undefined>): Args {
  const all = { ...cmd.options, ...common(program.texts) };
  const options = Object.fromEntries(
    Object.entries(all).map(([k, o]) => [
      k,
      { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) },
    ]),
  ) as NonNullable<Parameters<typeof parseArgs>[0]>['options'];
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const values = parsed.values as Args['values'];
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
      if (v === undefined) throw new UsageError(program.texts.missing(name, all[name]?.env, all[name]?.help ?? ''));
      return v;
    },
    list(name) {
      const v = values[name];
      return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
    },
    help: () => commandHelp(program, cmd),
  };
}

export function commandHelp<Ctx>(program: Program<Ctx>, cmd: Command<Ctx>): string {
  const t = program.texts;
  const lines = Object.entries({ ...cmd.options, ...common(t) }).map(([k, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${k}${o.type === 'string' ? t.value : ''}`;
    const extra = [o.env ? t.env(o.env) : '', o.default ? t.default(o.default) : ''].filter(Boolean).join(', ');
    return `  ${flag.padEnd(30)} ${o.help}${extra ? ` (${extra})` : ''}`;
  });
  const usage = (Array.isArray(cmd.usage) ? cmd.usage : [cmd.usage]).map((u) => `${program.name} ${u}`);
  const head = usage.length === 1 ? `${t.usage}: ${usage[0]}` : `${t.usage}:\n${usage.map((u) => `  ${u}`).join('\n')}`;
  return `${head}\n\n${cmd.summary}\n\n${t.options}:\n${lines.join('\n')}`;
}

export function programHelp<Ctx>(program: Program<Ctx>): string {
  const width = Math.max(...program.commands.map((c) => c.name.length)) + 2;
  const list = program.commands.map((c) => `  ${c.name.padEnd(width)} ${c.summary.split('\n')[0]}`).join('\n');
  return `${program.title}\n\n${program.texts.commands}:\n${list}${program.footer ? `\n\n${program.footer}` : ''}`;
}

export interface RunHooks<Ctx> {
  /** What commands share (the platform's config), made before the command is looked up; undefined when it could
   * not be made (already reported): exit 2. Without it commands get `undefined`. */
  context?: (io: Io) => Ctx | undefined;
  /** A command's failure other than a usage error: the exit code, or undefined to let it propagate. */
  failure?: (e: unknown, cmd: Command<Ctx>, a: Args | undefined, io: Io) => number | undefined;
  /** How a usage error is reported (default: the message, then the command's help, on standard error). */
  usage?: (e: UsageError, cmd: Command<Ctx>, a: Args | undefined, io: Io) => void;
}

/** Finds the command, parses its arguments, answers `--help` and runs it. */
export async function runProgram<Ctx>(
  program: Program<Ctx>,
  argv: string[],
  io: Io,
  env: Record<string, string | undefined>,
  hooks: RunHooks<Ctx> = {},
): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(programHelp(program));
    return name ? 0 : program.noCommandExit;
  }
  const ctx = hooks.context ? hooks.context(io) : (undefined as Ctx);
  if (hooks.context && ctx === undefined) return 2;
  const cmd = program.commands.find((c) => c.name === name);
  if (!cmd) {
    io.err(`${program.texts.unknownCommand(name)}\n\n${programHelp(program)}`);
    return 2;
  }
  let a: Args | undefined;
  try {
    a = parseCommand(program, cmd, rest, env);
    if (a.values.help) {
      io.out(commandHelp(program, cmd));
      return 0;
    }
    return await cmd.run(a, io, ctx as Ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      if (hooks.usage) hooks.usage(e, cmd, a, io);
      else io.err(`${e.message}\n\n${commandHelp(program, cmd)}`);
      return 2;
    }
    const code = hooks.failure?.(e, cmd, a, io);
    if (code === undefined) throw e;
    return code;
  }
}
