// What-if experiments, applied at run time inside the bench's platform process only (BENCH_EXPERIMENT).
// They do not change any platform file; they emulate a proposed change to measure what it would buy.
import { setInterval } from 'node:timers';

/**
 * batched-audit: ORG_MDL_002's audit event is queued in memory and written by a background flusher,
 * many rows per INSERT every 20 ms, instead of one INSERT (one commit, one WAL flush) per request.
 */
export function batchedAudit(platform) {
  const real = platform.db;
  let buf = [];
  const flush = async () => {
    if (buf.length === 0) return;
    const rows = buf;
    buf = [];
    for (let i = 0; i < rows.length; i += 1000)
      await real
        .insertInto('audit_event')
        .values(rows.slice(i, i + 1000))
        .execute();
  };
  setInterval(() => flush().catch((e) => console.error('audit flush', e)), 20).unref();
  platform.db = new Proxy(real, {
    get(target, key) {
      if (key === 'insertInto') {
        return (table) =>
          table === 'audit_event' ? { values: (v) => ({ execute: async () => void buf.push(...[].concat(v)) }) } : target.insertInto(table);
      }
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

export function apply(name, platform) {
  for (const n of name.split(',')) {
    if (n === 'batched-audit') batchedAudit(platform);
    else if (n) throw new Error(`unknown BENCH_EXPERIMENT ${n}`);
  }
}
