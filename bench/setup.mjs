// Schema reset and the orchestrator's own handle on the platform (migrations, institutions, counts).
import pg from 'pg';
import { createLogger, createPlatform, loadConfig } from '@mdl/platform';
import { settings } from './common.mjs';

export function benchConfig(extra = {}) {
  return loadConfig(
    // The test hospitals listen on loopback over plain http: a production deployment calls them only when
    // told to (issue #11's outbound policy), as an operator would for a 前置机 on the same host.
    { MDL_OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8', MDL_OUTBOUND_HTTP_CIDRS: '127.0.0.0/8' },
    {
      databaseUrl: settings.databaseUrl,
      redisUrl: settings.redisUrl || undefined,
      dbSchema: settings.schema,
      masterKey: settings.masterKey,
      dataDir: 'memory://',
      logLevel: 'warn',
      // What is measured is a production deployment (prod credentials only, no PLAIN).
      deployment: 'production',
      ...extra,
    },
  );
}

export async function resetSchema() {
  const c = new pg.Client({ connectionString: settings.databaseUrl });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS "${settings.schema}" CASCADE; DROP SCHEMA IF EXISTS "${settings.schema}_jobs" CASCADE`);
  await c.end();
}

/** Applies the migrations (createPlatform does) and returns a platform without a job queue. */
export async function adminPlatform() {
  const config = benchConfig();
  return createPlatform(config, { queue: false, log: createLogger('warn') });
}
