// A/B of two platform builds (or two settings of one) under the same machine conditions: windows of
// ORG_MDL_002 alternate between server A and server B, several rounds, and each side's throughput and CPU per
// query are summed over its windows. The VM's speed drifts by tens of percent over minutes; alternating
// short windows puts both sides under the same drift. Not part of `npm run bench`: a tool for deciding on a lever.
//   BENCH_SKIP_LOAD=1 AB_A=/path/to/other/checkout [AB_A_ENV='K=V ...'] [AB_B_ENV=...] node bench/ab.mjs
import { fork } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { addInstitution } from '@mdl/platform/testing';
import { cpuSnapshot, cpuUsage, fmt, log, settings } from './common.mjs';
import { runLoad } from './httpload.mjs';
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
      .map((kv) => kv.split('=')),
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
const sum = { A: { n: 0, cpu: 0, s: 0, p99: [] }, B: { n: 0, cpu: 0, s: 0, p99: [] } };
for (const s of sides)
  await runLoad({
    port: s.port,
    path: QUERY_PATH,
    connections: settings.connections,
    durationMs: 4000,
    nextBody: pool.next,
    check: queryCheck(inst),
  });
for (let r = 0; r < rounds; r++) {
  for (const s of r % 2 ? [...sides].reverse() : sides) {
    const c0 = cpuSnapshot();
    const x = await runLoad({
      port: s.port,
      path: QUERY_PATH,
      connections: settings.connections,
      durationMs: windowMs,
      nextBody: pool.next,
      check: queryCheck(inst),
    });
    const cpu = cpuUsage(c0, cpuSnapshot(), new Map([[s.pid, 'server']]));
    const t = sum[s.label];
    t.n += x.rps * (windowMs / 1000);
    t.cpu += cpu.server * (windowMs / 1000);
    t.s += windowMs / 1000;
    t.p99.push(x.p99);
    log(
      `ab: round ${r + 1} ${s.label}: ${fmt(x.rps)} req/s, server ${cpu.server} cores, ${fmt((cpu.server / x.rps) * 1000, 3)} ms CPU/query, p99 ${fmt(x.p99, 1)} ms, errors ${x.errors}`,
    );
  }
}
for (const [k, t] of Object.entries(sum))
  log(
    `ab: ${k}: ${fmt(t.n / t.s)} req/s, ${fmt((t.cpu / t.n) * 1000, 3)} ms CPU/query, p99 median ${fmt(t.p99.sort((a, b) => a - b)[t.p99.length >> 1], 1)} ms`,
  );
for (const s of sides) s.child.kill();
await admin.close();
process.exit(0);
