// `npm run bench`: load the data set, then (a) ORG_MDL_002 vs a plain echo route and (b) ingest with
// callbacks, and write docs/BENCHMARKS.md. Settings: see bench/common.mjs (BENCH_* variables).
import { setInterval, clearInterval } from 'node:timers';
import { execSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { addInstitution, rebuildSubjects } from '@mdl/platform/testing';
import { explainHot, statStatementsReset, statStatementsTop } from './statements.mjs';
import { fmt, log, procMemory, settings } from './common.mjs';
import { loadData, vacuumSteadyState } from './load.mjs';
import { measureWorstAgainstEcho } from './interleaved.mjs';
import { measureQuery } from './query.mjs';
import { measureIngest } from './ingest.mjs';
import { awaitAuditSealed } from './seal.mjs';
import { writeReport } from './report.mjs';
import { adminPlatform, resetSchema } from './setup.mjs';
import { keepStartupSection, measureStartup, spliceStartupSection, startupSection } from './startup.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, 'out');
mkdirSync(outDir, { recursive: true });
const benchStarted = Date.now();

function sh(cmd) {
  try {
    return execSync(cmd, { encoding: 'utf8' }).trim();
  } catch {
    return '(unavailable)';
  }
}

/** Starts bench/server.mjs in its own process and samples its memory until stopped. */
async function startServer(kind, env, logName) {
  const fd = openSync(join(outDir, `${logName}.log`), 'w');
  // BENCH_CPU_PROF=1 writes a V8 CPU profile of each server to bench/out/ (open it in Chrome DevTools).
  const execArgv =
    process.env.BENCH_CPU_PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${outDir}`, `--cpu-prof-name=${logName}.cpuprofile`] : [];
  const child = fork(join(here, 'server.mjs'), [kind], { env: { ...process.env, ...env }, execArgv, stdio: ['ignore', fd, fd, 'ipc'] });
  const port = await new Promise((resolve, reject) => {
    child.once('message', (m) => (m?.ready ? resolve(m.port) : reject(new Error('unexpected message'))));
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}; see bench/out/${logName}.log`)));
  });
  let maxRss = 0;
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, procMemory(child.pid).rssMb || 0)), 250);
  log(`${kind} server (${logName}) pid ${child.pid} on port ${port}`);
  return {
    port,
    pid: child.pid,
    mem: () => procMemory(child.pid),
    async stop() {
      clearInterval(sampler);
      const m = procMemory(child.pid);
      child.send('stop');
      await new Promise((r) => child.once('exit', r));
      return { peakRssMb: Math.max(m.hwmMb || 0, maxRss), hwmMb: m.hwmMb, sampledMaxRssMb: maxRss };
    },
  };
}

const machine = {
  date: sh('date -u'),
  nproc: sh('nproc'),
  free: sh('free -h'),
  cpu: cpus()[0]?.model ?? sh("grep -m1 'model name' /proc/cpuinfo"),
  node: process.version,
  kernel: sh('uname -sr'),
};

// `npm run bench -- startup`: the start-up phase alone (no PostgreSQL needed); it rewrites only its own section
// of docs/BENCHMARKS.md. The full bench runs it first.
const startupOnly = process.argv.slice(2).includes('startup');
// BENCH_SKIP_STARTUP=1 leaves the start-up phase out (the doc keeps its last start-up section).
const skipStartup = process.env.BENCH_SKIP_STARTUP === '1' && !process.argv.slice(2).includes('startup');
let startup;
if (!skipStartup) {
  log('startup: measuring the embedded start (bench/startup.mjs)');
  startup = await measureStartup();
  writeFileSync(join(outDir, 'startup.json'), JSON.stringify({ machine, startup }, null, 2));
}
if (startupOnly) {
  const doc = join(here, '..', 'docs', 'BENCHMARKS.md');
  const old = existsSync(doc) ? readFileSync(doc, 'utf8') : '# Benchmarks\n';
  writeFileSync(doc, spliceStartupSection(old, startupSection(startup, machine)));
  log('done: wrote the start-up section of docs/BENCHMARKS.md and bench/out/startup.json');
  process.exit(0);
}

// Fail early and plainly when PostgreSQL is not there.
try {
  const c = new pg.Client({ connectionString: settings.databaseUrl });
  await c.connect();
  await c.end();
} catch (e) {
  log(`cannot reach PostgreSQL at DATABASE_URL=${settings.databaseUrl}: ${e.message}`);
  log(
    'the bench needs a PostgreSQL it may create schemas in (set DATABASE_URL); Redis is used at REDIS_URL (default redis://127.0.0.1:6379)',
  );
  process.exit(1);
}

const admin = await adminPlatform().catch(async (e) => {
  if (settings.skipLoad) throw e;
  await resetSchema();
  return adminPlatform();
});
machine.postgres = (await sql`SELECT version() AS v`.execute(admin.db)).rows[0].v;
machine.pgSettings = Object.fromEntries(
  (
    await sql`SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'max_connections', 'synchronous_commit', 'fsync', 'work_mem', 'max_wal_size')`.execute(
      admin.db,
    )
  ).rows.map((r) => [r.name, `${r.setting}${r.unit ? ' ' + r.unit : ''}`]),
);
// Which way the bench reached PostgreSQL: loopback TCP or a Unix socket (`?host=/var/run/postgresql`).
machine.pgConnection = /[?&]host=\//.test(settings.databaseUrl) ? 'Unix socket' : 'TCP';
machine.redis = settings.redisUrl ? sh(`redis-cli -u ${settings.redisUrl} info server | grep redis_version | tr -d '\\r'`) : 'not used';
log(`machine: ${machine.nproc} cores, ${machine.cpu}, node ${machine.node}`);

let load;
if (settings.skipLoad) {
  const c = await sql`SELECT (SELECT count(*) FROM person)::int AS persons, (SELECT count(*) FROM arrears_item)::int AS items`.execute(
    admin.db,
  );
  load = { persons: c.rows[0].persons, items: c.rows[0].items, seconds: NaN, skipped: true };
  log(
    `load: skipped (BENCH_SKIP_LOAD=1); using ${fmt(load.persons)} persons, ${fmt(load.items)} items already in schema ${settings.schema}`,
  );
} else {
  await admin.close();
  await resetSchema();
  const fresh = await adminPlatform();
  load = await loadData({
    databaseUrl: settings.databaseUrl,
    schema: settings.schema,
    vault: fresh.vault,
    persons: settings.persons,
    items: settings.items,
  });
  // The ORG_MDL_002 read model from the ledger COPY bypassed, then the steady state production tables are
  // in: hint bits set and tuples frozen (a freshly loaded table pays for them on first read), statistics fresh.
  let t = Date.now();
  await rebuildSubjects(fresh.db);
  load.readModelSeconds = (Date.now() - t) / 1000;
  log(`load: read model rebuilt in ${fmt(load.readModelSeconds, 1)} s`);
  t = Date.now();
  // The bench schema's tables only: the database is shared with other schemas.
  const warmed = await vacuumSteadyState({
    databaseUrl: settings.databaseUrl,
    schema: settings.schema,
    tables: ['person', 'arrears_item', 'arrears_subject', 'institution', 'app_credential', 'setting'],
    warm: ['arrears_subject', 'arrears_subject_pkey'],
  });
  load.prewarmedMb = warmed.prewarmedMb;
  load.vacuumSeconds = (Date.now() - t) / 1000;
  log(
    `load: VACUUM (FREEZE, ANALYZE), pg_prewarm of the read model (${fmt(load.prewarmedMb ?? 0)} MB) and CHECKPOINT in ${fmt(load.vacuumSeconds, 1)} s`,
  );
  load.readModelSize = (await sql`SELECT pg_size_pretty(pg_total_relation_size('arrears_subject')) AS s`.execute(fresh.db)).rows[0].s;
  await fresh.close();
}
const adminP = settings.skipLoad ? admin : await adminPlatform();
const results = { machine, settings: { ...settings, databaseUrl: undefined }, startup, load, query: [], ingest: [] };
// BENCH_RESULTS names the results file (default results.json); BENCH_NO_REPORT=1 leaves the doc alone
// (for diagnostic and what-if runs).
const resultsFile = resolve(outDir, process.env.BENCH_RESULTS || 'results.json');
const save = () => writeFileSync(resultsFile, JSON.stringify(results, null, 2));

// ---- (a) ORG_MDL_002 vs echo ------------------------------------------------------------------
if (settings.queryRuns > 0) {
  const inst = await addInstitution(adminP, 'H35010000001', { orgName: '压测查询医院' });
  const platform = await startServer('platform', { BENCH_WORKERS: '0' }, 'platform-query');
  const echo = await startServer('echo', {}, 'echo');
  // A second API process on the same database and Redis: the deployed layout (two \`mdl serve\` per host), for a
  // figure beside the single-process headline.
  const platform2 = await startServer('platform', { BENCH_WORKERS: '0' }, 'platform-query-2');
  const roles = new Map([
    [platform.pid, 'platform server'],
    [platform2.pid, 'platform server 2'],
    [echo.pid, 'echo server'],
    [process.pid, 'load generator'],
  ]);
  let expectedRps = 3000;
  const statStatements = await statStatementsReset();
  for (let r = 0; r < settings.queryRuns; r++) {
    log(`query: run ${r + 1}/${settings.queryRuns}`);
    // The worst case and echo in alternating windows (bench/interleaved.mjs): the ratio compares like with like.
    const { org002: q, echo: e } = await measureWorstAgainstEcho({
      port: platform.port,
      echoPort: echo.port,
      inst,
      persons: load.persons,
      connections: settings.connections,
      warmupMs: settings.warmupMs,
      durationMs: settings.durationMs,
      expectedRps,
      roles,
    });
    expectedRps = Math.max(1000, q.rps);
    // What the three measurements below share; each names its own port(s), mix and rate.
    const common = {
      inst,
      persons: load.persons,
      connections: settings.connections,
      warmupMs: settings.warmupMs,
      durationMs: settings.durationMs,
      expectedRps,
      roles,
    };
    // The realistic mix beside the worst case: 80 % persons with no arrears, 20 % with items.
    const m = await measureQuery({ ...common, port: platform.port, mix: 'mix' });
    // The worst case again, its connections spread over both API processes.
    const two = await measureQuery({ ...common, port: [platform.port, platform2.port], mix: 'worst' });
    // Latency below saturation: the worst case at a fixed rate, half this run's throughput unless BENCH_FIXED_RATE
    // sets one. A closed loop of 64 connections at saturation measures the queue (p50 = 64 / throughput), not the request.
    const half = settings.fixedRate || Math.round(q.rps / 2);
    const paced = await measureQuery({ ...common, port: platform.port, mix: 'worst', expectedRps: half, rate: half });
    results.query.push({
      run: r + 1,
      org002: q,
      mix: m,
      twoProcesses: two,
      halfRate: paced,
      echo: e,
      ratio: q.rps / e.rps,
      mixRatio: m.rps / e.rps,
      serverRssMb: platform.mem().hwmMb,
    });
    save();
  }
  results.statements = {
    source: statStatements ? 'pg_stat_statements' : 'EXPLAIN (ANALYZE, BUFFERS)',
    top: statStatements ? await statStatementsTop() : undefined,
    explain: await explainHot({ vault: adminP.vault, persons: load.persons, orgId: inst.orgId }),
  };
  results.queryServerMemory = await platform.stop();
  results.queryServer2Memory = await platform2.stop();
  await echo.stop();
  log(`query: platform server peak RSS ${fmt(results.queryServerMemory.peakRssMb)} MB`);
  save();
}

// ---- (b) ingest with callbacks -------------------------------------------------------------------
for (let k = 0; k < settings.ingestRuns; k++) {
  // Fresh institutions per run (and per invocation, so a kept data set can be re-run): H + 9 digits + 2.
  const runId = String((Math.floor(Date.now() / 1000) * 10 + k) % 1e9).padStart(9, '0');
  const server = await startServer('platform', { BENCH_WORKERS: '1', BENCH_SERVER_LOG_LEVEL: 'info' }, `platform-ingest-${k + 1}`);
  log(`ingest: run ${k + 1}/${settings.ingestRuns}`);
  // With BENCH_AUDIT_SEAL=off nothing seals: there is nothing to wait for.
  const sealedBefore = settings.auditSeal ? await awaitAuditSealed({ pid: server.pid }) : undefined;
  const ingestStatements = await statStatementsReset();
  const r = await measureIngest({
    admin: adminP,
    port: server.port,
    run: runId,
    hospitals: settings.hospitals,
    totalItems: settings.ingestItems,
    persons: load.persons,
    timeoutMs: settings.ingestTimeoutMs,
    procMem: server.mem,
    roles: new Map([
      [server.pid, 'platform server (API + workers)'],
      [process.pid, 'hospitals (bench)'],
    ]),
  });
  // Per 100-item batch, where PostgreSQL's time goes (pg_stat_statements, when the server has it loaded).
  if (ingestStatements) r.statements = await statStatementsTop();
  r.sealedBefore = sealedBefore;
  r.memory = await server.stop();
  results.ingest.push(r);
  log(`ingest: server peak RSS ${fmt(r.memory.peakRssMb)} MB`);
  save();
}

await adminP.close();
results.totalSeconds = (Date.now() - benchStarted) / 1000;
save();
if (process.env.BENCH_NO_REPORT === '1') {
  log(`done in ${fmt(results.totalSeconds / 60, 1)} min; wrote ${resultsFile}`);
} else {
  const doc = join(here, '..', 'docs', 'BENCHMARKS.md');
  const previous = existsSync(doc) ? readFileSync(doc, 'utf8') : '';
  writeReport(doc, results, readFileSync);
  if (!startup && previous) writeFileSync(doc, keepStartupSection(readFileSync(doc, 'utf8'), previous));
  log(`done in ${fmt(results.totalSeconds / 60, 1)} min; wrote docs/BENCHMARKS.md and ${resultsFile}`);
}
process.exit(0);
