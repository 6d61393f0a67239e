import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { dropTestSchema } from '@mdl/platform/testing';
import { freePort } from './support/ports.js';

/**
 * Real `mdl` processes started at the same moment (issue #14): on PostgreSQL every one of them comes up, on a
 * fresh schema and again on the schema they left; on the embedded database exactly one of two gets the files and
 * the other says who has them.
 */
const MDL = fileURLToPath(new URL('../../bin/mdl.js', import.meta.url));
const databaseUrl = process.env.DATABASE_URL || undefined;

interface Proc {
  child: ChildProcess;
  /** Standard output and error together, as a person would read them. */
  out: string;
  /** Standard output alone: what `--json` promises to keep parseable (warnings go to standard error). */
  stdout: string;
  exited: Promise<number | null>;
}

function start(args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, [MDL, ...args], { env: { ...process.env, MDL_LOG_LEVEL: 'warn', ...env } });
  const p: Proc = { child, out: '', stdout: '', exited: new Promise((r) => child.once('exit', r)) };
  child.stdout!.on('data', (d: Buffer) => ((p.out += d.toString()), (p.stdout += d.toString())));
  child.stderr!.on('data', (d: Buffer) => (p.out += d.toString()));
  return p;
}

/** Resolves when `ready` holds, fails when the process exits first or the time is up. */
async function until(p: Proc, what: string, ready: () => Promise<boolean>, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  let exited = false;
  void p.exited.then(() => (exited = true));
  while (!(await ready())) {
    if (exited) assert.fail(`${what} exited before it came up:\n${p.out}`);
    if (Date.now() > deadline) assert.fail(`${what} did not come up within ${ms / 1000} s:\n${p.out}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const healthy = (port: number) => async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok ?? false;

async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
}

describe('processes started together', () => {
  const procs: Proc[] = [];
  after(() => stopAll(procs));

  it(
    'on PostgreSQL: two servers, a worker and a CLI command at once on a fresh schema, then again on that schema',
    { skip: !databaseUrl && 'needs DATABASE_URL' },
    async () => {
      const schema = `t_start_${randomBytes(5).toString('hex')}`;
      const env = { DATABASE_URL: databaseUrl!, MDL_DB_SCHEMA: schema, MDL_MASTER_KEY: randomBytes(16).toString('hex') };
      try {
        for (const round of ['fresh schema', 'existing schema']) {
          const ports = [await freePort(), await freePort()];
          const round0 = procs.length;
          procs.push(
            start(['serve'], { ...env, PORT: String(ports[0]) }),
            start(['worker'], env),
            start(['serve'], { ...env, PORT: String(ports[1]) }),
            start(['apps', 'create', '--channel', '--label', `渠道${round0}`, '--env', 'prod', '--json'], env),
          );
          const [a, worker, b, cli] = procs.slice(round0) as [Proc, Proc, Proc, Proc];
          await Promise.all([
            until(a, `${round}: mdl serve`, healthy(ports[0]!)),
            until(b, `${round}: mdl serve`, healthy(ports[1]!)),
            until(worker, `${round}: mdl worker`, async () => worker.out.includes('mdl worker running jobs')),
          ]);
          assert.equal(await cli.exited, 0, `${round}: mdl apps create:\n${cli.out}`);
          assert.match((JSON.parse(cli.stdout) as { appId: string }).appId, /^APP/, cli.out);
          await stopAll([a, worker, b]);
          for (const p of [a, worker, b]) assert.equal(await p.exited, 0, `${round}: a clean stop:\n${p.out}`);
        }
      } finally {
        // The runtime role too: it outlives the schema otherwise (one left per run).
        await dropTestSchema(databaseUrl!, schema);
      }
    },
  );

  it('on the embedded database: of two servers started at once, one serves and the other names the process that has the files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mdl-two-'));
    try {
      const ports = [await freePort(), await freePort()];
      const pair = ports.map((port) => start(['serve'], { MDL_DATA_DIR: dir, PORT: String(port), DATABASE_URL: '', REDIS_URL: '' }));
      procs.push(...pair);
      const first = await Promise.race(pair.map((p, i) => p.exited.then(() => i)));
      const loser = pair[first]!;
      const winner = pair[1 - first]!;
      assert.equal(await loser.exited, 1, loser.out);
      assert.match(loser.out, new RegExp(`is in use by process ${winner.child.pid}`));
      await until(winner, 'the other mdl serve', healthy(ports[1 - first]!));
      await stopAll([winner]);
      assert.equal(await winner.exited, 0, winner.out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
