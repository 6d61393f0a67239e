// A server under test, in its own process so it does not share an event loop with the load generator.
//   node bench/server.mjs platform   the real platform (createPlatform + buildApp), workers per BENCH_WORKERS
//   node bench/server.mjs echo       a minimal Fastify app with one POST /echo route
// Tells the parent its port over IPC: { ready: true, port }.
import { performance } from 'node:perf_hooks';
import { setInterval } from 'node:timers';
import Fastify from 'fastify';

const kind = process.argv[2];

async function startPlatform() {
  const { buildApp, createLogger, createPlatform } = await import('@mdl/platform');
  const { benchConfig } = await import('./setup.mjs');
  const { settings } = await import('./common.mjs');
  if (process.env.BENCH_TRACE === '1') await traceTimings();
  // The one setting the bench changes: the per-credential rate limit (default 500/s), so that a single
  // credential can be driven at full speed.
  const config = benchConfig({ rateLimitPerSecond: 1_000_000, logLevel: process.env.BENCH_SERVER_LOG_LEVEL || 'warn' });
  // No audit sealing with BENCH_AUDIT_SEAL=off (issue #12).
  const platform = await createPlatform(config, {
    workers: process.env.BENCH_WORKERS === '1',
    log: createLogger(config.logLevel),
    ...(settings.auditSeal ? {} : { auditSealEveryMs: false }),
  });
  const app = await buildApp(platform);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: app.server.address().port, close: async () => (await app.close(), await platform.close()) };
}

/** Diagnostics only (BENCH_TRACE=1): where a request waits — pool checkout, each SQL statement, Redis. */
async function traceTimings() {
  const pg = (await import('pg')).default;
  const { RedisState } = await import('@mdl/platform/testing');
  const stats = new Map();
  const add = (k, ms) => {
    const s = stats.get(k) ?? { n: 0, ms: 0, max: 0 };
    s.n++;
    s.ms += ms;
    s.max = Math.max(s.max, ms);
    stats.set(k, s);
  };
  const wrap = (proto, name, key) => {
    const orig = proto[name];
    proto[name] = function (...args) {
      const t = performance.now();
      const k = key(args);
      const r = orig.apply(this, args);
      if (r && typeof r.then === 'function')
        r.then(
          () => add(k, performance.now() - t),
          () => add(k, performance.now() - t),
        );
      return r;
    };
  };
  wrap(pg.Pool.prototype, 'connect', () => 'pool.connect');
  wrap(
    pg.Client.prototype,
    'query',
    (a) =>
      'sql ' +
      String(typeof a[0] === 'string' ? a[0] : (a[0]?.text ?? '?'))
        .replace(/\s+/g, ' ')
        .slice(0, 90),
  );
  wrap(RedisState.prototype, 'seenBefore', () => 'redis.seenBefore');
  wrap(RedisState.prototype, 'hit', () => 'redis.hit');
  setInterval(() => {
    const rows = [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 40);
    console.log(
      rows
        .map(([k, s]) => `${String(s.n).padStart(7)} × ${(s.ms / s.n).toFixed(2).padStart(7)} ms (max ${s.max.toFixed(0)})  ${k}`)
        .join('\n') + '\n--',
    );
    stats.clear();
  }, 5000).unref();
}

async function startEcho() {
  const app = Fastify({ logger: false });
  app.post('/echo', async (req) => req.body);
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { port: app.server.address().port, close: () => app.close() };
}

const s = kind === 'echo' ? await startEcho() : await startPlatform();
process.send?.({ ready: true, port: s.port });
process.on('message', async (m) => {
  if (m === 'stop') {
    await s.close().catch(() => {});
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
