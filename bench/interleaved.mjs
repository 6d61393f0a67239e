// ORG_MDL_002 (worst case) against the echo route in alternating windows. This virtual machine's speed drifts by
// tens of percent within minutes (echo alone: 16,300 to 30,400 req/s on 2026-12-07), so a 20 s window of one
// followed by a 20 s window of the other compared two machines. Alternating short windows (the order reversed each
// round) puts the same drift under both sides; each side's figures are summed over its windows.
import { cpuSnapshot, cpuUsage, fmt, loadAverage, log } from './common.mjs';
import { runLoad, summary } from './httpload.mjs';
import { QUERY_PATH, queryCheck, requestPool } from './query.mjs';

const ROUNDS = 4;

export async function measureWorstAgainstEcho({ port, echoPort, inst, persons, connections, warmupMs, durationMs, expectedRps, roles }) {
  const pool = requestPool(inst, persons, Math.ceil(((warmupMs + durationMs) / 1000) * expectedRps * 1.2));
  const echoPool = requestPool(inst, 1_000_000, 5000);
  const echoBodies = Array.from({ length: 5000 }, () => echoPool.next());
  let at = 0;
  const sides = {
    org002: { port, path: QUERY_PATH, nextBody: pool.next, check: queryCheck(inst) },
    echo: { port: echoPort, path: '/echo', nextBody: () => echoBodies[at++ % echoBodies.length], check: (_s, body) => body.length > 100 },
  };
  for (const [name, side] of Object.entries(sides)) {
    log(`query: ${name} warm-up ${warmupMs / 1000} s at ${connections} connections`);
    await runLoad({ ...side, connections, durationMs: warmupMs });
  }
  const windows = { org002: [], echo: [] };
  const load0 = loadAverage();
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of r % 2 ? ['echo', 'org002'] : ['org002', 'echo']) {
      const c0 = cpuSnapshot();
      const w = await runLoad({ ...sides[name], connections, durationMs: durationMs / ROUNDS, keepLatencies: true });
      w.cpu = cpuUsage(c0, cpuSnapshot(), roles);
      windows[name].push(w);
    }
  }
  const loadAverageSpan = `${load0} → ${loadAverage()}`;
  const org002 = { ...merge(windows.org002), loadAverage: loadAverageSpan, sealedOnTheFly: pool.extra };
  const echo = { ...merge(windows.echo), loadAverage: loadAverageSpan };
  for (const [name, r] of [
    ['ORG_MDL_002 (worst)', org002],
    ['echo', echo],
  ]) {
    log(`query: CPU in cores ${JSON.stringify(r.cpu)}`);
    log(
      `query: ${name} ${fmt(r.rps)} req/s over ${ROUNDS} windows (${r.windowRps.map((x) => fmt(x)).join(', ')})  p50 ${fmt(r.p50, 2)} ms  p99 ${fmt(r.p99, 2)} ms  errors ${r.errors}`,
    );
  }
  return { org002, echo };
}

/** One side's windows as one measurement: counts summed, percentiles over every latency, CPU averaged over time. */
function merge(ws) {
  const seconds = ws.reduce((s, w) => s + w.seconds, 0);
  const cpu = {};
  for (const w of ws) for (const [k, v] of Object.entries(w.cpu)) cpu[k] = (cpu[k] ?? 0) + (v * w.seconds) / seconds;
  for (const k of Object.keys(cpu)) cpu[k] = Math.round(cpu[k] * 100) / 100;
  return {
    ...summary({
      seconds,
      ok: ws.reduce((s, w) => s + w.ok, 0),
      errors: ws.reduce((s, w) => s + w.errors, 0),
      latencies: ws.flatMap((w) => w.latencies).sort((a, b) => a - b),
      firstErrors: ws.flatMap((w) => w.firstErrors).slice(0, 5),
    }),
    windowRps: ws.map((w) => w.rps),
    cpu,
  };
}
