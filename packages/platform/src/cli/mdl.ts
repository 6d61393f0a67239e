import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EN_TEXTS, runProgram, stdio, type Command, type Io, type Program } from '@mdl/protocol/cli';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { appsCommand } from './apps.js';
import { usersCommand } from './users.js';
import { auditCommand } from './audit.js';
import { keysCommand } from './keys.js';
import { runSimulator } from '../ehc-simulator/main.js';
import { runServer } from '../start/server.js';
import { createPlatform, DatabaseBusyError, MasterKeyMismatchError, migrateOnly } from '../platform.js';
import { describeDemo, seedDemo } from '../demo.js';
import { cliLogger } from '../log.js';
import { DeploymentError } from '../domain/deployment.js';
import { resendCallback } from '../domain/callbacks.js';
import { CLI_OPERATOR } from './actor.js';

/** The one `Io` of both command lines (protocol's CLI framework); `start/server.ts` writes through it too. */
export type { Io };

const migrateCommand: Command<Config> = {
  name: 'migrate',
  summary: 'apply database migrations',
  usage: 'migrate [--json]',
  options: {},
  async run(a, io, config) {
    const r = await migrateOnly(config);
    io.out(a.json ? JSON.stringify(r) : r.applied.length ? `applied: ${r.applied.join(', ')}` : 'database is up to date');
    return 0;
  },
};

const demoCommand: Command<Config> = {
  name: 'demo',
  summary: 'load demo institutions, credentials, persons and arrears (idempotent)',
  usage: 'demo [--json]',
  options: {},
  async run(a, io, config) {
    const platform = await createPlatform(config, { queue: false, log: cliLogger() });
    try {
      const demo = await seedDemo(platform);
      io.out(a.json ? JSON.stringify(demo) : describeDemo(demo, config));
      return 0;
    } finally {
      await platform.close();
    }
  },
};

const callbacksCommand: Command<Config> = {
  name: 'callbacks',
  summary: 'queue the ORG_002 callback of a processed batch again',
  usage: 'callbacks resend --batch ID [--json]',
  options: { batch: { type: 'string', help: 'the batch id (console: 批次)' } },
  async run(a, io, config) {
    const batch = a.get('batch');
    if (a.positionals[0] !== 'resend' || !batch) {
      io.out(a.help());
      return 2;
    }
    const platform = await createPlatform(config, { log: cliLogger() });
    try {
      const ok = await resendCallback(platform, Number(batch), CLI_OPERATOR);
      io.out(
        a.json
          ? JSON.stringify({ queued: ok })
          : ok
            ? `callback of batch ${batch} queued`
            : `batch ${batch} not found or not processed yet`,
      );
      return ok ? 0 : 1;
    } finally {
      await platform.close();
    }
  },
};

function serverCommand(mode: 'serve' | 'start' | 'worker', summary: string): Command<Config> {
  return {
    name: mode,
    summary,
    usage: `${mode}${mode === 'worker' ? '' : ' [--no-jobs]'}`,
    options: mode === 'worker' ? {} : { 'no-jobs': { type: 'boolean', help: 'serve only; another process runs the jobs' } },
    run: (a, io, config) => runServer(config, { mode, jobs: a.values['no-jobs'] !== true, io }),
  };
}

const program = (env: NodeJS.ProcessEnv): Program<Config> => ({
  name: 'mdl',
  title: 'mdl — 福建省诊疗失信人员信息管理系统 (platform CLI)\n\nUsage: mdl <command> [options]',
  footer: `Every command has --help; most have --json (machine-readable output).

Settings come from the environment: PORT (8080), HOST (127.0.0.1), PUBLIC_URL, MDL_DATA_DIR (./data),
DATABASE_URL (PostgreSQL; embedded PGlite when unset), REDIS_URL, MDL_MASTER_KEY (required with DATABASE_URL).

mdl ehc-simulator [--help] runs a city e-health-card system for MDL_EHC_REGISTRY=upstream in the sandbox.`,
  commands: [
    serverCommand('start', 'migrate, load demo data and serve (what `npm start` runs) until SIGINT/SIGTERM'),
    serverCommand('serve', 'serve the interfaces and pages (runs the jobs too on the embedded database) until SIGINT/SIGTERM'),
    serverCommand('worker', 'run background jobs only (batch processing, callbacks) until SIGINT/SIGTERM'),
    migrateCommand,
    demoCommand,
    appsCommand,
    callbacksCommand,
    usersCommand,
    auditCommand,
    keysCommand(env),
  ],
  texts: EN_TEXTS,
  noCommandExit: 1,
});

export async function main(argv: string[], io: Io = stdio, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // The simulator stands for another system: it reads none of the platform's settings but its credential.
  if (argv[0] === 'ehc-simulator') return runSimulator(argv.slice(1), env);
  return runProgram(program(env), argv, io, env, {
    context: () => {
      try {
        return loadConfig(env);
      } catch (e) {
        io.err(`mdl: ${(e as Error).message}`);
        return undefined;
      }
    },
    usage: (e, cmd, a) => io.err(`mdl ${[cmd.name, a?.positionals[0]].filter(Boolean).join(' ')}: ${e.message}`),
    failure: (e) => {
      if (
        e instanceof DatabaseBusyError ||
        e instanceof MasterKeyMismatchError ||
        e instanceof ConfigError ||
        e instanceof DeploymentError
      ) {
        io.err(`mdl: ${e.message}`);
        return 1;
      }
      return undefined;
    },
  });
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
