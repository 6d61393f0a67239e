import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Insertable } from 'kysely';
import pg from 'pg';
import { buildApp } from './app.js';
import { loadConfig, type Config } from './config.js';
import { runtimeRole } from './db/database.js';
import type { ArrearsItemTable } from './db/schema.js';
import { createApp, upsertInstitution } from './domain/credentials.js';
import { createLogger } from './log.js';
import { createPlatform, type Platform, type PlatformOptions } from './platform.js';

/**
 * A whole platform for tests: in-memory PGlite by default, or a fresh schema in the PostgreSQL at
 * DATABASE_URL (and Redis at REDIS_URL) when set, so the same tests run on both.
 */
export interface TestPlatform {
  platform: Platform;
  app: FastifyInstance;
  /** Set after listen(). */
  url: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export async function startTestPlatform(overrides: Partial<Config> = {}, opts: PlatformOptions = {}): Promise<TestPlatform> {
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const schema = databaseUrl ? `t_${randomBytes(6).toString('hex')}` : 'public';
  const config = loadConfig(
    {},
    {
      dataDir: 'memory://',
      databaseUrl,
      redisUrl: process.env.REDIS_URL || undefined,
      dbSchema: schema,
      // A sandbox (test credentials, PLAIN) on either database, unless a test asks for production.
      deployment: 'sandbox',
      masterKey: randomBytes(16).toString('hex'),
      callbackRetryDelaySeconds: 1,
      callbackRetryLimit: 3,
      callbackTimeoutMs: 10_000,
      logLevel: process.env.MDL_TEST_LOG_LEVEL ?? 'silent',
      ...overrides,
    },
  );
  const platform = await createPlatform(config, { workers: true, log: createLogger(config.logLevel), ...opts });
  const app = await buildApp(platform);
  const t: TestPlatform = {
    platform,
    app,
    url: '',
    async listen() {
      await app.listen({ port: 0, host: '127.0.0.1' });
      t.url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      // Links the platform hands out (mdrUrl, reminders) must point at where it really listens.
      if (overrides.publicUrl === undefined) platform.config.publicUrl = t.url;
      return t.url;
    },
    async close() {
      // t.app, not the first app: a test may replace it to restart the HTTP side on the same platform.
      await t.app.close();
      await platform.close();
      if (databaseUrl) await dropTestSchema(databaseUrl, schema);
    },
  };
  return t;
}

/** Removes what a platform made on PostgreSQL for a test schema: the schema, its job schema and its runtime role. */
export async function dropTestSchema(databaseUrl: string, schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    await c.query(
      `DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_jobs" CASCADE; DROP ROLE IF EXISTS "${runtimeRole(schema)}"`,
    );
  } finally {
    await c.end();
  }
}

export interface TestInstitution {
  orgId: string;
  orgName: string;
  appId: string;
  secret: string;
}

export async function addInstitution(
  platform: Platform,
  orgId: string,
  opts: {
    orgName?: string;
    env?: 'test' | 'prod';
    notifyHosts?: string[];
    endpointUrl?: string;
    paymentChannels?: unknown[];
    /** Ports the platform may call it on; a production deployment calls a loopback hospital only on these. */
    ports?: number[];
  } = {},
): Promise<TestInstitution> {
  const orgName = opts.orgName ?? `测试医院${orgId.slice(-4)}`;
  await upsertInstitution(platform.db, {
    orgId,
    orgName,
    notifyHosts: opts.notifyHosts ?? ['127.0.0.1'],
    endpointUrl: opts.endpointUrl,
    paymentChannels: opts.paymentChannels,
    ports: opts.ports,
  });
  const { appId, secret } = await createApp(platform.db, platform.vault, { kind: 'institution', orgId, env: opts.env ?? 'prod' });
  return { orgId, orgName, appId, secret };
}

/** An unpaid arrears row with plain defaults, for tests that need a record without going through a report. */
export function testItem(over: Partial<Insertable<ArrearsItemTable>> & { trace_id: string; org_id: string }): Insertable<ArrearsItemTable> {
  return {
    org_trace_id: `O-${over.trace_id}`,
    real_name: false,
    person_id: null,
    subject_bidx: `s-${over.trace_id}`,
    id_type: null,
    id_no_enc: null,
    name_enc: null,
    phone_enc: null,
    ehealth_card_id: null,
    user_type: '01',
    med_type: '11',
    fee_type: '01',
    item_name: '诊查费',
    amount_fen: 100,
    actual_time: new Date(),
    state: '0',
    report_batch_id: 0,
    last_batch_id: 0,
    settled_at: null,
    ...over,
  };
}

// What the repository's own tests (test/, bench/) drive directly besides the harness above: a deliberate
// list, so that no internal file is reachable by its path. Not an API for host applications.
export { API_HANDLERS } from './api/index.js';
export { runtimeRole } from './db/database.js';
export { createUser } from './domain/console/auth.js';
export { base32Decode, totp } from './domain/console/totp.js';
export { decideAppeal, fileAppeal } from './domain/appeals.js';
export { itemsToReconcile } from './domain/citizen/reconcile.js';
export { refreshForCitizen, refreshItem } from './domain/citizen/refresh.js';
export { rebuildSubjects } from './domain/subjects.js';
export { isQuietHour, pushReminder, quietHoursEnd, runReminderScan } from './domain/citizen/reminders.js';
export { createApp, upsertInstitution } from './domain/credentials.js';
export { DEMO_INSURED, DEMO_REMOTE_INSURED } from './demo-people.js';
export { CityCardClient } from './outbound/city-card.js';
export { CityCardUnavailable } from './domain/ehc/upstream.js';
export { RedisState } from './gateway/shared-state.js';
export { ItemRefreshJob, ReconcileScanJob, reminderEnqueuer } from './jobs/citizen.js';
export { CONSOLE_ASSETS } from './web/console/assets.js';
export { acceptedEncoding } from './web/static-assets.js';
export { startMetricsListener } from './start/metrics-listener.js';
