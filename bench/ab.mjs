// A/B of two platform builds (or two settings of one) under the same machine conditions: windows of
// ORG_MDL_002 alternate between server A and server B (bench/interleaved.mjs), several rounds, and each side's
// throughput and CPU per query are summed over its windows. Not part of `npm run bench`: a tool for deciding on a lever.
//   BENCH_SKIP_LOAD=1 AB_A=/path/to/other/checkout [AB_A_ENV='K=V ...'] [AB_B_ENV=...] node bench/ab.mjs
import { fork } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { addInstitution } from '@mdl/platform/testing';
import { fmt, log, settings } from './common.mjs';
import { alternate } from './interleaved.mjs';
import { QUERY_PATH, queryCheck, requestPool } from './query.mjs';
import { adminPlatform } from './setup.mjs';

const here = import.meta.dirname;
const rounds = Number(process.env.AB_ROUNDS || 6);
const windowMs = Number(process.env.AB_WINDOW_S || 5) * 1000;
const envOf = (s) =>
  Object.fromEntries(
    (s || '')
      .split(' ')
      .filter(Boolean)
      // At the first '=' only: a value may hold one (a URL's query string).
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );

function start(label, dir, extraEnv) {
  const fd = openSync(`/tmp/ab-${label}.log`, 'w');
  const child = fork(join(dir, 'bench', 'server.mjs'), ['platform'], {
    cwd: dir,
    env: { ...process.env, BENCH_WORKERS: '0', ...extraEnv },
    execArgv: (process.env[`AB_${label}_FLAGS`] || '').split(' ').filter(Boolean),
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ label, port: m.port, pid: child.pid, child }));
    child.once('exit', (c) => reject(new Error(`${label} exited ${c}`)));
  });
}

const admin = await adminPlatform();
const persons = Number(
  (
    await admin.db
      .selectFrom('person')
      .select((e) => e.fn.countAll().as('n'))
      .executeTakeFirst()
  ).n,
);
const inst = await addInstitution(admin, 'H35010000001', { orgName: '压测查询医院' });
const sides = [
  await start('A', process.env.AB_A || join(here, '..'), envOf(process.env.AB_A_ENV)),
  await start('B', process.env.AB_B || join(here, '..'), envOf(process.env.AB_B_ENV)),
];
const pool = requestPool(inst, persons, Math.ceil((rounds * 2 + 2) * (windowMs / 1000) * 5000), process.env.AB_MIX || 'worst');
const side = (s) => ({ port: s.port, path: QUERY_PATH, nextBody: pool.next, check: queryCheck(inst) });
const r = await alternate({
  sides: { A: side(sides[0]), B: side(sides[1]) },
  connections: settings.connections,
  warmupMs: 4000,
  rounds,
  windowMs,
  // Each server under its own label, so that a side's CPU is its own server's.
  roles: new Map(sides.map((s) => [s.pid, s.label])),
});
for (const [k, m] of Object.entries(r)) {
  log(
    `ab: ${k}: ${fmt(m.rps)} req/s (windows ${m.windowRps.map((x) => fmt(x)).join(', ')}), ${fmt((m.cpu[k] / m.rps) * 1000, 3)} ms CPU/query, p99 ${fmt(m.p99, 1)} ms, errors ${m.errors}`,
  );
}
for (const s of sides) s.child.kill();
await admin.close();
process.exit(0);
