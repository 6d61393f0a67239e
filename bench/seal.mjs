// The audit events of the query phase are sealed before the ingest clock starts. The API servers under test do not
// seal (sealing runs where the jobs run, as in `mdl serve --no-jobs`), so the ingest server found about a million
// events waiting: sealing them (8–11 µs of its CPU each) fell into the ingest window and was counted as the ingest's
// CPU, 0.04–0.06 ms per item (2026-12-08). What sealing them takes is reported on its own: it is the queries' cost,
// paid by a worker process.
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { benchClient, cpuSnapshot, cpuUsage, fmt, log } from './common.mjs';

export async function awaitAuditSealed({ pid, timeoutMs = 600_000 }) {
  const c = await benchClient();
  const pending = async () =>
    Number(
      (await c.query(`SELECT count(*) AS n FROM audit_event WHERE id > (SELECT coalesce(max(last_id), 0) FROM audit_seal)`)).rows[0].n,
    );
  try {
    const events = await pending();
    const c0 = cpuSnapshot();
    const started = performance.now();
    let left = events;
    let said = started;
    while (left > 0 && performance.now() - started < timeoutMs) {
      await delay(500);
      left = await pending();
      if (performance.now() - said >= 5000) {
        said = performance.now();
        log(`ingest: sealing the query phase's audit events before the clock starts: ${fmt(events - left)}/${fmt(events)}`);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const cpu = cpuUsage(c0, cpuSnapshot(), new Map([[pid, 'server']]));
    const perEvent = (cores) => (events > 0 ? ((cores ?? 0) * seconds * 1e6) / events : undefined);
    const r = { events, left, seconds, serverUsPerEvent: perEvent(cpu.server), postgresUsPerEvent: perEvent(cpu.postgres) };
    if (events > 0)
      log(
        `ingest: ${fmt(events)} audit events of the query phase sealed in ${fmt(seconds, 1)} s (server ${fmt(r.serverUsPerEvent, 1)} µs, PostgreSQL ${fmt(r.postgresUsPerEvent, 1)} µs of CPU per event)${left ? `; ${fmt(left)} left` : ''}`,
      );
    return r;
  } finally {
    await c.end();
  }
}
