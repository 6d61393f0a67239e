/**
 * The services a fault run owns, so that stopping, freezing or emptying them disturbs nothing else on the
 * machine: a PostgreSQL cluster of its own (pg_createcluster, on a free port) and a Redis of its own.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readdirSync } from 'node:fs';
import { type Proc, freePort, start, until } from '../deploy/procs.js';

const PG_VERSION = existsSync('/etc/postgresql') ? (readdirSync('/etc/postgresql').sort().pop() ?? '15') : '15';
const PREFIX = 'mdlfault';

/** Why this machine cannot run the fault suite, or undefined. */
export function missingTools(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (pg_createcluster / pg_ctlcluster)';
  for (const tool of ['pg_createcluster', 'pg_ctlcluster', 'pg_dropcluster', 'redis-server']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `needs ${tool}`;
    }
  }
  return undefined;
}

/** A command with a time limit: a fault run never hangs on a tool. */
function sh(argv: string[], timeoutMs = 60_000): string {
  return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface Cluster {
  name: string;
  port: number;
  url: string;
  /** A real restart of the server (fast shutdown: sessions are ended), without blocking this process. */
  restart(): Promise<void>;
  drop(): void;
}

/**
 * Clusters left by a run that was killed before its clean-up (their name carries the pid of the run) are
 * dropped first. As root, pg_createcluster makes the cluster owned by `postgres` and pg_ctlcluster switches to
 * that user; --skip-systemctl-redirect keeps systemd out of it (there may be none).
 */
export async function createCluster(): Promise<Cluster> {
  for (const line of sh(['pg_lsclusters', '--no-header']).split('\n')) {
    const [version, name] = line.trim().split(/\s+/);
    const pid = Number(name?.match(new RegExp(`^${PREFIX}_(\\d+)_`))?.[1]);
    if (version && pid && !alive(pid)) dropCluster(version, name!);
  }
  const port = await freePort();
  const name = `${PREFIX}_${process.pid}_${port}`;
  // No fsync: the cluster lives for one run; trust on loopback only (listen_addresses stays localhost).
  sh(['pg_createcluster', PG_VERSION, name, '-p', String(port), '--start', '--', '--auth=trust', '--no-sync'], 120_000);
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    name,
    port,
    url,
    restart: async () =>
      void (await promisify(execFile)('pg_ctlcluster', ['--skip-systemctl-redirect', PG_VERSION, name, 'restart', '-m', 'fast'], {
        timeout: 120_000,
      })),
    drop: () => dropCluster(PG_VERSION, name),
  };
}

function dropCluster(version: string, name: string): void {
  try {
    sh(['pg_dropcluster', '--stop', version, name], 120_000);
  } catch (e) {
    // Already gone, or half made: pg_dropcluster without --stop after an immediate stop.
    try {
      sh(['pg_ctlcluster', '--skip-systemctl-redirect', version, name, 'stop', '-m', 'immediate'], 60_000);
    } catch {
      // not running
    }
    try {
      sh(['pg_dropcluster', version, name], 60_000);
    } catch {
      console.log(`could not drop cluster ${version}/${name}: ${String(e)}`);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A Redis of the run's own on a free port, without persistence: a restart of it comes back empty. */
export class OwnRedis {
  proc: Proc | undefined;
  constructor(readonly port: number) {}

  static async start(): Promise<OwnRedis> {
    const r = new OwnRedis(await freePort());
    await r.start();
    return r;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = start(
      'redis-server',
      ['redis-server', '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { PATH: process.env.PATH ?? '' },
      '/',
    );
    await until('redis', async () => (this.proc!.output().includes('Ready to accept connections') ? true : undefined), 20_000);
  }

  signal(sig: NodeJS.Signals): void {
    this.proc?.child.kill(sig);
  }

  async kill(): Promise<void> {
    if (!this.proc || this.proc.child.exitCode !== null || this.proc.child.signalCode !== null) return;
    this.proc.child.kill('SIGCONT');
    this.proc.child.kill('SIGKILL');
    await this.proc.exited;
  }
}

/** Kills the run's processes and drops its cluster when the run ends, however it ends (a time limit's SIGTERM too). */
export function killOnExit(pids: () => number[], cleanup: () => void): void {
  process.once('exit', () => {
    for (const pid of pids()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    cleanup();
  });
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => process.exit(128 + (sig === 'SIGTERM' ? 15 : 2)));
}
