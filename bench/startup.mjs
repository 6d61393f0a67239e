// Start-up phase of the bench (needs no PostgreSQL): how long `mdl start` on the embedded database takes to answer
// /healthz, (a) restarted on an existing data directory and (b) as `npm ci && npm start` in a fresh clone.
// `npm run bench -- startup` runs this phase alone. Settings: BENCH_STARTUP_RUNS (restarts, default 7),
// BENCH_STARTUP_CLONES (fresh clones, default 2; 0 skips them).
import { execSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpuSnapshot, loadAverage, log } from './common.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

async function freePort() {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

/** CPU time (user + system, ms) the process has used so far. */
function cpuMs(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

/**
 * Starts `command` in `cwd` and measures until /healthz answers 200: wall time, the server's CPU time, and the
 * other work on the machine meanwhile (cores busy outside the measured processes). The server is stopped after.
 */
async function timeToHealthy(command, args, { cwd, env, timeoutMs = 300_000 }) {
  const port = await freePort();
  const before = cpuSnapshot();
  const t0 = performance.now();
  const child = spawn(command, args, {
    cwd,
    env: { ...process.env, ...env, PORT: String(port), MDL_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise((r) => child.once('exit', r));
  let wallMs;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) {
      wallMs = performance.now() - t0;
      break;
    }
    if (child.exitCode !== null) throw new Error(`${command} ${args.join(' ')} exited with ${child.exitCode}:\n${out}`);
    if (performance.now() - t0 > timeoutMs) throw new Error(`${command} ${args.join(' ')}: no answer in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const after = cpuSnapshot();
  // The server and whatever it started (npm start runs node under npm).
  const ours = new Set([child.pid]);
  for (const [pid, p] of after.procs) if (ours.has(p.ppid)) ours.add(pid);
  let serverCpuMs = 0;
  for (const pid of ours) {
    try {
      serverCpuMs += cpuMs(pid);
    } catch {
      // already gone
    }
  }
  const seconds = (after.at - before.at) / 1000;
  const otherCores = Math.max(0, (after.machine.busy - before.machine.busy) / 100 / seconds - serverCpuMs / 1000 / seconds);
  const phases = out
    .split('\n')
    .map((l) => {
      try {
        return JSON.parse(l).startupMs;
      } catch {
        return undefined;
      }
    })
    .find(Boolean);
  process.kill(-child.pid, 'SIGINT');
  await exited;
  return { wallMs: Math.round(wallMs), cpuMs: serverCpuMs, otherCores: Math.round(otherCores * 100) / 100, phases };
}

export function spread(values) {
  const s = [...values].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor((s.length - 1) / 2)], max: s[s.length - 1], n: s.length };
}

export async function measureStartup({
  runs = Number(process.env.BENCH_STARTUP_RUNS || 7),
  clones = Number(process.env.BENCH_STARTUP_CLONES ?? 2),
} = {}) {
  const result = { loadBefore: loadAverage(), restarts: [], firstStart: undefined, clones: [] };
  const dataDir = mkdtempSync(join(tmpdir(), 'mdl-bench-start-'));
  const mdl = [join(root, 'bin', 'mdl.js'), 'start'];
  try {
    log('startup: first start on an empty data directory');
    result.firstStart = await timeToHealthy(process.execPath, mdl, { cwd: root, env: { MDL_DATA_DIR: dataDir } });
    for (let i = 0; i < runs; i++) {
      const r = await timeToHealthy(process.execPath, mdl, { cwd: root, env: { MDL_DATA_DIR: dataDir } });
      log(`startup: restart ${i + 1}/${runs}: ${r.wallMs} ms to /healthz (CPU ${r.cpuMs} ms, other work ${r.otherCores} cores)`);
      result.restarts.push(r);
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  for (let i = 0; i < clones; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'mdl-bench-clone-'));
    try {
      execSync(`git clone --quiet --no-hardlinks "${root}" "${dir}/repo"`);
      const cwd = join(dir, 'repo');
      const t0 = performance.now();
      execSync('npm ci --no-audit --no-fund --loglevel=error', { cwd, stdio: 'ignore' });
      const npmCiMs = Math.round(performance.now() - t0);
      const start = await timeToHealthy('npm', ['start'], { cwd, env: { MDL_DATA_DIR: join(dir, 'data') } });
      log(`startup: fresh clone ${i + 1}/${clones}: npm ci ${npmCiMs} ms, then npm start ${start.wallMs} ms to /healthz`);
      result.clones.push({ npmCiMs, npmStartMs: start.wallMs, otherCores: start.otherCores, phases: start.phases });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  result.loadAfter = loadAverage();
  result.commit = execSync('git rev-parse --short HEAD', { cwd: root, encoding: 'utf8' }).trim();
  return result;
}

const BEGIN = '<!-- start-up phase: generated by `npm run bench -- startup` -->';
const END = '<!-- end of start-up phase -->';

/** The start-up section of docs/BENCHMARKS.md, with the hand-written analysis of bench/startup-analysis.md. */
export function startupSection(S, machine, readFile = readFileSync) {
  const ms = (x) => (Number.isFinite(x) ? `${(x / 1000).toFixed(2)} s` : 'n/a');
  const line = (label, values, target, ok, f = ms) => {
    const s = spread(values);
    return `| ${label} | ${target} | ${f(s.min)} / **${f(s.median)}** / ${f(s.max)} (${s.n}) | ${target ? (ok(s) ? '✅ met' : '❌ missed') : ''} |`;
  };
  const L = [BEGIN, '', '## Start-up (embedded database)', ''];
  L.push(
    `Run of ${machine.date} at commit ${S.commit}, ${machine.nproc} cores (${machine.cpu}), Node ${machine.node}; load average ${S.loadBefore} before, ${S.loadAfter} after. ` +
      'Figures are min / **median** / max (number of runs); "other work" is how many cores the rest of the machine kept busy meanwhile (0 = quiet).',
  );
  L.push('');
  L.push('| measure | target | min / median / max (runs) | verdict |');
  L.push('| --- | --- | --- | --- |');
  const r = S.restarts;
  L.push(
    line(
      '`node bin/mdl.js start` restarted on an existing data directory → `/healthz` 200',
      r.map((x) => x.wallMs),
      '< 2 s',
      (s) => s.median < 2000,
    ),
  );
  L.push(
    line(
      '… CPU time of the server until then',
      r.map((x) => x.cpuMs),
      '',
      () => true,
    ),
  );
  L.push(
    line(
      '… other work on the machine meanwhile (cores of 2)',
      r.map((x) => x.otherCores),
      '',
      () => true,
      (x) => x.toFixed(2),
    ),
  );
  if (S.firstStart)
    L.push(`| first start on an empty data directory (database created, migrations, demo data) | | ${ms(S.firstStart.wallMs)} | |`);
  if (S.clones.length) {
    L.push(
      line(
        'fresh clone: `npm ci`',
        S.clones.map((c) => c.npmCiMs),
        '',
        () => true,
      ),
    );
    L.push(
      line(
        'fresh clone: then `npm start` (build, first start) → `/healthz` 200',
        S.clones.map((c) => c.npmStartMs),
        '< 30 s',
        (s) => s.median < 30000,
      ),
    );
  }
  const phaseNames = [...new Set(r.flatMap((x) => Object.keys(x.phases ?? {})))].filter((p) => p !== 'total');
  if (phaseNames.length) {
    L.push('');
    L.push(
      'Where a restart spends its time (median ms per step, from the `startupMs` the server logs; `modules` is Node itself and loading the code):',
    );
    L.push('');
    L.push(`| ${phaseNames.join(' | ')} |`);
    L.push(`| ${phaseNames.map(() => '---').join(' | ')} |`);
    L.push(`| ${phaseNames.map((p) => spread(r.map((x) => x.phases?.[p] ?? NaN)).median).join(' | ')} |`);
  }
  L.push('');
  try {
    L.push(readFile(join(root, 'bench', 'startup-analysis.md'), 'utf8').trim());
    L.push('');
  } catch {
    // no analysis written yet
  }
  L.push(END);
  return L.join('\n');
}

/** Puts the start-up section into an existing docs/BENCHMARKS.md, in place of the previous one or before "## Method". */
export function spliceStartupSection(doc, section) {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a >= 0 && b > a) return doc.slice(0, a) + section + doc.slice(b + END.length);
  const m = doc.indexOf('\n## Method');
  return m >= 0 ? `${doc.slice(0, m)}\n${section}\n${doc.slice(m)}` : `${doc.trimEnd()}\n\n${section}\n`;
}

/** The start-up section of `previous` carried into `doc` (a run that skipped the start-up phase). */
export function keepStartupSection(doc, previous) {
  const a = previous.indexOf(BEGIN);
  const b = previous.indexOf(END);
  return a >= 0 && b > a ? spliceStartupSection(doc, previous.slice(a, b + END.length)) : doc;
}
