// Alternating windows. This virtual machine's speed drifts by tens of percent within minutes (echo alone: 16,300 to
// 30,400 req/s on 2026-12-07), so a 20 s window of one load followed by a 20 s window of another compared two
// machines. Alternating short windows (the order reversed each round) puts the same drift under every side; each
// side's figures are summed over its windows. `npm run bench` uses it for ORG_MDL_002 against echo, `bench/ab.mjs`
// for two platform builds.
import { cpuSnapshot, cpuUsage, fmt, loadAverage, log } from './common.mjs';
import { runLoad, summary } from './httpload.mjs';
import { QUERY_PATH, queryCheck, requestPool } from './query.mjs';

const ROUNDS = 4;

/**
 * Warms every side up for `warmupMs`, then runs `rounds` rounds of one `windowMs` window per side. `sides` maps a
 * name to what `runLoad` needs (port, path, nextBody, check); `roles` labels pids for the CPU figures. Returns each
 * side's windows merged into one measurement, with the load average over the whole span.
 */
export async function alternate({ sides, connections, warmupMs, rounds, windowMs, roles }) {
  const names = Object.keys(sides);
  for (const name of names) {
    log(`${name}: warm-up ${warmupMs / 1000} s at ${connections} connections`);
    await runLoad({ ...sides[name], connections, durationMs: warmupMs });
  }
  const windows = Object.fromEntries(names.map((n) => [n, []]));
  const load0 = loadAverage();
  for (let r = 0; r < rounds; r++) {
    for (const name of r % 2 ? [...names].reverse() : names) {
      const c0 = cpuSnapshot();
      const w = await runLoad({ ...sides[name], connections, durationMs: windowMs, keepLatencies: true });
      w.cpu = cpuUsage(c0, cpuSnapshot(), roles);
      windows[name].push(w);
    }
  }
  const loadAverageSpan = `${load0} → ${loadAverage()}`;
  return Object.fromEntries(names.map((n) => [n, { ...merge(windows[n]), loadAverage: loadAverageSpan }]));
}

export async function measureWorstAgainstEcho({ port, echoPort, inst, persons, connections, warmupMs, durationMs, expectedRps, roles }) {
  const pool = requestPool(inst, persons, Math.ceil(((warmupMs + durationMs) / 1000) * expectedRps * 1.2));
  const echoPool = requestPool(inst, 1_000_000, 5000);
  const echoBodies = Array.from({ length: 5000 }, () => echoPool.next());
  let at = 0;
  const sides = {
    org002: { port, path: QUERY_PATH, nextBody: pool.next, check: queryCheck(inst) },
    echo: { port: echoPort, path: '/echo', nextBody: () => echoBodies[at++ % echoBodies.length], check: (_s, body) => body.length > 100 },
  };
  const r = await alternate({ sides, connections, warmupMs, rounds: ROUNDS, windowMs: durationMs / ROUNDS, roles });
  const org002 = { ...r.org002, sealedOnTheFly: pool.extra };
  for (const [name, m] of [
    ['ORG_MDL_002 (worst)', org002],
    ['echo', r.echo],
  ]) {
    log(`query: CPU in cores ${JSON.stringify(m.cpu)}`);
    log(
      `query: ${name} ${fmt(m.rps)} req/s over ${ROUNDS} windows (${m.windowRps.map((x) => fmt(x)).join(', ')})  p50 ${fmt(m.p50, 2)} ms  p99 ${fmt(m.p99, 2)} ms  errors ${m.errors}`,
    );
  }
  return { org002, echo: r.echo };
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
