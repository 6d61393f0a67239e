import { startAuditSealer } from './domain/audit-chain.js';
import { assertSmAvailable } from '@mdl/protocol';
import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import { grantRuntimeUse, openDatabase, type Database } from './db/database.js';
import { migrate, type MigrateResult } from './db/migrate.js';
import type { DB } from './db/schema.js';
import { AuditWriter } from './domain/audit.js';
import type { AcceptDeps } from './domain/batches.js';
import { CredentialCache } from './domain/credentials.js';
import { CoverageStore } from './domain/coverage.js';
import { checkDeploymentMarker } from './domain/deployment.js';
import { PolicyStore } from './domain/eligibility.js';
import type { Services } from './domain/deps.js';
import { buildEhcServices, type EhcServices } from './domain/ehc/index.js';
import type { CityCardSystem } from './domain/ehc/upstream.js';
import { InstitutionNames, SubjectReader } from './domain/subjects.js';
import type { ProcessDeps } from './domain/processing.js';
import { MemoryState, RedisState, type SharedState } from './gateway/shared-state.js';
import { CallbackDeadJob, ProcessBatchDeadJob, ProcessBatchJob, deliverCallbackJob, type BatchJobData } from './jobs/definitions.js';
import { CITIZEN_JOBS, enqueueItemRefresh } from './jobs/citizen.js';
import { JobQueue, type JobType } from './queue/queue.js';
import { startWorkers } from './jobs/workers.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './metrics.js';
import { policyFromSettings } from './outbound/address-policy.js';
import { CityCardClient } from './outbound/city-card.js';
import { guardedPost, type HttpPost } from './outbound/pinned-post.js';
import { Vault } from './vault.js';
import { runDataUpgrades } from './domain/keys/upgrade.js';
import { openRotation, retiredKeys } from './domain/keys/rotate.js';

/** Everything a request, a job or a CLI command needs, built once per process (the domain's `Services` and more). */
export interface Platform extends Services {
  /** All of it, for the entry points and jobs; the domain sees the same object as its narrow `DomainSettings`. */
  config: Config;
  database: Database;
  credentials: CredentialCache;
  /** Group-committed audit writes for hot read paths. */
  auditWriter: AuditWriter;
  /** ORG_MDL_002's reads: the read model in group reads, institution names cached in the process. */
  readModel: { reader: SubjectReader; names: InstitutionNames };
  shared: SharedState;
  jobs: JobQueue;
  callbackJob: JobType<BatchJobData>;
  acceptDeps: AcceptDeps;
  processDeps: ProcessDeps;
  /** E-health-card registry, health codes and authorization sessions (domain/ehc/). */
  ehc: EhcServices;
  /** Set while shutting down: new interface calls get 000003. */
  draining: boolean;
  close(): Promise<void>;
}

export interface PlatformOptions {
  log?: Logger;
  post?: HttpPost;
  now?: () => number;
  /** Start pg-boss workers in this process (serve on the embedded default, worker, tests). */
  workers?: boolean;
  /** `mdl keys rotate`: open the database although a rotation is unfinished. */
  keyRotation?: boolean;
  /** Start the job queue at all (false for CLI commands that only touch tables). */
  queue?: boolean;
  pollingIntervalSeconds?: number;
  /** Told when each start-up step is done ('database', 'migrations', 'jobs'), for the start-up timings. */
  onPhase?: (name: string) => void;
  /**
   * With MDL_EHC_REGISTRY=upstream: the city's e-health-card system in place of the HTTP adapter MDL_EHC_UPSTREAM_*
   * describes (a city reached another way, tests).
   */
  city?: CityCardSystem;
  /**
   * How often this process seals new audit events when it runs workers (default every 5 s); `false`: never,
   * for the bench's measure of what the chain costs (the events wait for the next process that seals).
   */
  auditSealEveryMs?: number | false;
}

export class MasterKeyMismatchError extends Error {
  override name = 'MasterKeyMismatchError';
}

export { DatabaseBusyError } from './db/database.js';

/** `mdl migrate`: apply the migrations and nothing else (no vault, no queue), then close the database. */
export async function migrateOnly(config: Config): Promise<MigrateResult> {
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.dbSchema });
  try {
    return await migrate(database);
  } finally {
    await database.close();
  }
}

/** How often a running platform seals the audit events written since the last seal. */
const AUDIT_SEAL_EVERY_MS = 5000;

export async function createPlatform(config: Config, opts: PlatformOptions = {}): Promise<Platform> {
  assertSmAvailable();
  const log = opts.log ?? createLogger(config.logLevel);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, schema: config.dbSchema });
  opts.onPhase?.('database');
  const cleanups: (() => Promise<void>)[] = [() => database.close()];
  const closeAll = async () => {
    for (const c of cleanups.reverse()) await c().catch((err) => log.warn({ err }, 'error while closing'));
  };
  try {
    await migrate(database);
    opts.onPhase?.('migrations');
    const vault = new Vault(config.masterKey);
    await checkMasterKey(database.db, vault);
    // Half the indexes under one key and half under the other would miss people: finish the rotation first.
    if (!opts.keyRotation && (await openRotation(database.db))) {
      throw new MasterKeyMismatchError(
        'a master-key rotation is unfinished: run `mdl keys rotate` again (same new key) to finish it; refusing to start.',
      );
    }
    vault.retire((await retiredKeys(database.db, vault)).map((k) => new Vault(k)));
    await runDataUpgrades(database, vault);
    await checkDeploymentMarker(database.db, config.deployment);
    const shared: SharedState = config.redisUrl
      ? new RedisState(config.redisUrl, `mdl:${config.dbSchema}:`, {
          timeoutMs: config.redisTimeoutMs,
          windowMs: config.timestampToleranceMs * 2,
          log,
        })
      : new MemoryState();
    if (shared instanceof RedisState) await shared.ping();
    cleanups.push(() => shared.close());
    const bossSchema = config.dbSchema === 'public' ? 'pgboss' : `${config.dbSchema}_jobs`;
    const jobs = new JobQueue(database, bossSchema, log);
    const callbackJob = deliverCallbackJob(config);
    const now = opts.now ?? Date.now;
    const db = database.db;
    const coverage = new CoverageStore(db);
    const post = opts.post ?? guardedPost(policyFromSettings(config));
    const upstream = config.ehcUpstream;
    const city =
      opts.city ?? (upstream ? new CityCardClient({ post, db, vault, log, settings: upstream, deployment: config.deployment }) : undefined);
    const platform: Platform = {
      config,
      log,
      database,
      db,
      vault,
      credentials: new CredentialCache(db, vault),
      policy: new PolicyStore(db),
      coverage,
      auditWriter: new AuditWriter(db),
      readModel: { reader: new SubjectReader(db), names: new InstitutionNames(db) },
      shared,
      jobs,
      callbackJob,
      acceptDeps: {
        db,
        vault,
        enqueue: async (trx, batchId, requestId) => void (await jobs.send(ProcessBatchJob, { batchId, requestId }, trx)),
      },
      processDeps: {
        db,
        vault,
        now,
        enqueueCallback: async (trx, batchId, requestId) =>
          void (await jobs.send(callbackJob, { batchId, requestId: requestId ?? undefined }, trx)),
        coverage: () => coverage.get(),
      },
      notices: {
        vault,
        enqueueCallback: async (trx, batchId) => void (await jobs.send(callbackJob, { batchId }, trx)),
      },
      enqueueCallback: async (trx, batchId, requestId) =>
        void (await jobs.send(callbackJob, { batchId, requestId: requestId ?? undefined }, trx)),
      enqueueItemRefresh: (itemId, o) => enqueueItemRefresh(platform, itemId, o),
      ehc: buildEhcServices({ db, vault, config, city }),
      metrics: new Metrics(),
      post,
      now,
      draining: false,
      close: closeAll,
    };
    if (opts.queue !== false) {
      // Registered first: a start that fails half-way must still stop what it started.
      cleanups.push(() => jobs.stop());
      // Sealing is background work (≈ 16 µs of CPU per event here): it runs where the jobs run, so an API
      // process (`mdl serve --no-jobs`) spends its CPU on requests alone. Every deployment has such a process.
      const sealEvery = opts.auditSealEveryMs ?? AUDIT_SEAL_EVERY_MS;
      if (sealEvery !== false && opts.workers) {
        const sealer = startAuditSealer(db, vault, sealEvery, (err) => log.warn({ err }, 'audit sealing failed'));
        cleanups.push(() => sealer.stop());
      }
      await jobs.start([ProcessBatchDeadJob, ProcessBatchJob, CallbackDeadJob, callbackJob, ...CITIZEN_JOBS]);
      // Jobs are sent inside the platform's transactions, as the runtime role. Under the set-up lock: GRANTs
      // from processes starting together would otherwise collide ("tuple concurrently updated").
      await database.exclusive(() => grantRuntimeUse(database, bossSchema));
      if (opts.workers) await startWorkers(platform, { pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 0.5 });
      opts.onPhase?.('jobs');
    }
    return platform;
  } catch (e) {
    await closeAll();
    throw e;
  }
}

/**
 * Data encrypted under one master key is unreadable under another; refuse to start rather than write
 * a mix. The first start records the key's fingerprint.
 */
async function checkMasterKey(db: Kysely<DB>, vault: Vault): Promise<void> {
  await db
    .insertInto('setting')
    .values({ key: 'master_key_fingerprint', value: vault.fingerprint })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db.selectFrom('setting').select('value').where('key', '=', 'master_key_fingerprint').executeTakeFirstOrThrow();
  if (row.value !== vault.fingerprint) {
    throw new MasterKeyMismatchError('MDL_MASTER_KEY does not match the key this database was created with; refusing to start.');
  }
}
