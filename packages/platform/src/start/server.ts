import { buildApp } from '../app.js';
import type { Io } from '@mdl/protocol/cli';
import type { Config } from '../config.js';
import { describeDemo } from '../demo.js';
import { seedDemo } from '../demo.js';
import { assertSandbox, refuseTestCredentials } from '../domain/deployment.js';
import { createPlatform } from '../platform.js';
import { startWorkers } from '../jobs/workers.js';
import { startMetricsListener } from './metrics-listener.js';
import { keepRunningThroughOutages } from './outage-guard.js';
import { StartupPhases } from './phases.js';

/**
 * Runs until SIGINT/SIGTERM. On a signal, new interface calls get 000003 while calls in flight finish,
 * then workers stop and the database closes.
 */
export async function runServer(config: Config, opts: { mode: 'serve' | 'start' | 'worker'; jobs: boolean; io: Io }): Promise<number> {
  const embedded = !config.databaseUrl;
  // On the embedded database only one process may open the files, so the server runs the jobs too.
  const workers = opts.mode === 'worker' || (opts.jobs && (embedded || opts.mode === 'start'));
  // `mdl start` loads demo data: a sandbox's command. Checked before anything opens the database.
  if (opts.mode === 'start') assertSandbox(config, '`mdl start` (demo data, the published demo credential)');
  const phases = new StartupPhases();
  // Workers start once the server listens: their first polls would otherwise compete with the start-up for the
  // one thread (PGlite runs in it), and nothing is lost by the delay (jobs wait in their queues).
  const platform = await createPlatform(config, { workers: false, onPhase: (name) => phases.done(name) });
  try {
    await refuseTestCredentials(platform.db, config.deployment);
  } catch (e) {
    await platform.close();
    throw e;
  }
  const unguard = keepRunningThroughOutages(platform.log);
  const app = opts.mode === 'worker' ? undefined : await buildApp(platform);
  phases.done('app');
  let demo: Awaited<ReturnType<typeof seedDemo>> | undefined;
  if (opts.mode === 'start') demo = await seedDemo(platform);
  phases.done('demo');
  if (app) await app.listen({ port: config.port, host: config.host });
  const metrics = await startMetricsListener(platform);
  phases.done('listen');
  if (workers) await startWorkers(platform);
  platform.log.info({ startupMs: phases.all() }, 'started');
  const where = embedded ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL (DATABASE_URL)';
  const took = `started in ${(phases.total() / 1000).toFixed(1)} s`;
  if (app)
    opts.io.out(`福建省诊疗失信人员信息管理系统 listening on ${config.publicUrl} (${where}${workers ? ', jobs running' : ''}; ${took})`);
  else opts.io.out(`mdl worker running jobs on ${where} (${took})`);
  if (metrics) opts.io.out(`metrics (Prometheus) on ${metrics.url}`);
  if (demo) opts.io.out(describeDemo(demo, config));
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      platform.log.info({ signal }, 'shutting down');
      platform.draining = true;
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await app?.close();
  await metrics?.close();
  await platform.close();
  unguard();
  return 0;
}
