import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { appsCommand } from './apps.js';
import { usersCommand } from './users.js';
import { auditCommand } from './audit.js';
import { runServer } from '../start/server.js';
import { createPlatform, DatabaseBusyError, MasterKeyMismatchError, migrateOnly } from '../platform.js';
import { describeDemo, seedDemo } from '../demo.js';
import { cliLogger } from '../log.js';
import { DeploymentError } from '../domain/deployment.js';
import { resendCallback } from '../domain/callbacks.js';
import { runSimulator } from '../ehc-simulator/main.js';

const HELP = `mdl — 福建省诊疗失信人员信息管理系统 (platform CLI)

Usage: mdl <command> [options]

Commands:
  start              migrate, load demo data and serve (what \`npm start\` runs)
  serve              serve the interfaces and pages (runs the jobs too on the embedded database)
  worker             run background jobs only (batch processing, callbacks)
  migrate            apply database migrations
  demo               load demo institutions, credentials, persons and arrears
  apps <sub>         credentials: create | list | disable | rotate  (mdl apps --help)
  callbacks resend --batch ID   queue an ORG_002 callback again
  users <sub>        console accounts: create | list  (mdl users --help)
  audit <sub>        audit trail: verify | seal  (mdl audit --help)
  ehc-simulator      a city e-health-card system for MDL_EHC_REGISTRY=upstream in the sandbox (--help)

Options:
  --json             machine-readable output
  -h, --help         this help

Settings come from the environment: PORT (8080), HOST (127.0.0.1), PUBLIC_URL, MDL_DATA_DIR (./data),
DATABASE_URL (PostgreSQL; embedded PGlite when unset), REDIS_URL, MDL_MASTER_KEY (required with DATABASE_URL).
`;

// Io lives in io.ts so that the command modules and start/server.ts need not import this file (no cycle).
export type { Io } from './io.js';
import type { Io } from './io.js';

const stdio: Io = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') };

export async function main(argv: string[], io: Io = stdio, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    io.out(HELP);
    return command ? 0 : 1;
  }
  // The simulator stands for another system: it reads none of the platform's settings but its credential.
  if (command === 'ehc-simulator') return runSimulator(rest, env);
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (e) {
    io.err(`mdl: ${(e as Error).message}`);
    return 2;
  }
  try {
    switch (command) {
      case 'migrate':
        return await migrateCommand(config, rest, io);
      case 'demo':
        return await demoCommand(config, rest, io);
      case 'apps':
        return await appsCommand(config, rest, io);
      case 'audit':
        return await auditCommand(config, rest, io);
      case 'users':
        return await usersCommand(config, rest, io);
      case 'callbacks':
        return await callbacksCommand(config, rest, io);
      case 'serve':
      case 'start':
      case 'worker':
        return await serveCommand(command, config, rest, io);
      default:
        io.err(`mdl: unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof DatabaseBusyError || e instanceof MasterKeyMismatchError || e instanceof ConfigError || e instanceof DeploymentError) {
      io.err(`mdl: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

async function migrateCommand(config: Config, args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return (io.out('mdl migrate [--json]: apply database migrations'), 0);
  const r = await migrateOnly(config);
  io.out(values.json ? JSON.stringify(r) : r.applied.length ? `applied: ${r.applied.join(', ')}` : 'database is up to date');
  return 0;
}

async function demoCommand(config: Config, args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return (io.out('mdl demo [--json]: load demo data (idempotent)'), 0);
  const platform = await createPlatform(config, { queue: false, log: cliLogger() });
  try {
    const demo = await seedDemo(platform);
    io.out(values.json ? JSON.stringify(demo) : describeDemo(demo, config));
    return 0;
  } finally {
    await platform.close();
  }
}

async function callbacksCommand(config: Config, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { batch: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || positionals[0] !== 'resend' || !values.batch) {
    io.out('mdl callbacks resend --batch ID [--json]: queue the ORG_002 callback of a processed batch again');
    return values.help ? 0 : 2;
  }
  const platform = await createPlatform(config, { log: cliLogger() });
  try {
    const ok = await resendCallback(platform, Number(values.batch), 'cli');
    io.out(
      values.json
        ? JSON.stringify({ queued: ok })
        : ok
          ? `callback of batch ${values.batch} queued`
          : `batch ${values.batch} not found or not processed yet`,
    );
    return ok ? 0 : 1;
  } finally {
    await platform.close();
  }
}

async function serveCommand(command: 'serve' | 'start' | 'worker', config: Config, args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, 'no-jobs': { type: 'boolean' } } });
  if (values.help) {
    io.out(
      `mdl ${command}${command === 'serve' ? ' [--no-jobs]' : ''}: ${command === 'worker' ? 'run background jobs' : 'serve the platform'} until SIGINT/SIGTERM`,
    );
    return 0;
  }
  return runServer(config, { mode: command, jobs: !values['no-jobs'], io });
}

// Run only as the program (bin/launch.js sets argv[1] to this file), never when imported by tests.
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code !== 0 || !['serve', 'start', 'worker'].includes(process.argv[2] ?? '')) process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`mdl: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
