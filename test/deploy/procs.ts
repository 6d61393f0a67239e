import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export { freePort } from '../support/ports.js';

async function isFree(port: number): Promise<boolean> {
  const s = createServer();
  const ok = await new Promise<boolean>((r) => {
    s.once('error', () => r(false));
    s.listen(port, '127.0.0.1', () => r(true));
  });
  if (ok) await new Promise<void>((r) => s.close(() => r()));
  return ok;
}

/**
 * A free four-digit loopback port whose metrics port (`1` before it, as the serve unit sets) is free too; for a
 * worker, whose instance is its metrics port, the second check costs nothing.
 */
export async function freeUnitPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 2000 + Math.floor(Math.random() * 8000);
    if (taken.has(port) || taken.has(10000 + port)) continue;
    if ((await isFree(port)) && (await isFree(10000 + port))) {
      taken.add(port).add(10000 + port);
      return port;
    }
  }
  throw new Error('no free four-digit port pair on 127.0.0.1');
}

export interface Proc {
  name: string;
  child: ChildProcess;
  /** Standard output and error as they came (shown when a test fails). */
  output: () => string;
  /** Standard output alone: a command's answer, without the log lines that go to standard error. */
  stdout: () => string;
  exited: Promise<number | null>;
}

/** Starts a process with its output kept (shown when the test fails). */
export function start(name: string, argv: string[], env: Record<string, string>, cwd: string): Proc {
  const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let stdout = '';
  child.stdout!.on('data', (c: Buffer) => ((out += c.toString()), (stdout += c.toString())));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code, signal) => r(code ?? (signal ? -1 : null))));
  return { name, child, output: () => out, stdout: () => stdout, exited };
}

/** Runs a command to its end, optionally with standard input: its standard output; throws with all its output when it fails. */
export async function run(name: string, argv: string[], env: Record<string, string>, cwd: string, stdin = ''): Promise<string> {
  const p = start(name, argv, env, cwd);
  p.child.stdin!.end(stdin);
  const code = await p.exited;
  if (code !== 0) throw new Error(`${name} exited ${code}:\n${p.output()}`);
  return p.stdout();
}

/** SIGTERM, then SIGKILL if it is still running after `graceMs`. */
export async function stop(p: Proc, graceMs = 10_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
  await p.exited;
  clearTimeout(t);
}

export async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
