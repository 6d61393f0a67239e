import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../config.js';
import type { DB } from '../db/schema.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { HttpPost } from '../outbound/pinned-post.js';
import type { Vault } from '../vault.js';
import type { CoverageStore } from './coverage.js';
import type { PolicyStore } from './eligibility.js';
import type { NoticeDeps } from './notices.js';

/** A transaction, for callers outside the domain that hand one through (a job sent inside a write). */
export type Tx = Transaction<DB>;

/**
 * The settings the domain reads, and no more: not the master key, the database, Redis or SMS credentials, nor the
 * e-health-card upstream's secret (those stay with the composition root, which builds what needs them).
 */
export type DomainSettings = Pick<
  Config,
  | 'deployment'
  | 'publicUrl'
  | 'callbackTimeoutMs'
  | 'refreshTimeoutMs'
  | 'consoleLoginPerAddress'
  | 'reminderIntervalDays'
  | 'reminderPushUrl'
  | 'reminderPushAppId'
>;

/**
 * The services a domain function may be given, declared here by the domain and built once by the composition
 * root (`platform.ts`, whose `Platform` extends this). A function names the few it uses with
 * `Pick<Services, ...>`, so the domain never imports the platform and a test can build just those.
 */
export interface Services {
  config: DomainSettings;
  log: Logger;
  db: Kysely<DB>;
  vault: Vault;
  /** The eligibility policy in force (domain/eligibility.ts). */
  policy: PolicyStore;
  /** Which items are taken at all (§1.2.3), applied when a batch is processed. */
  coverage: CoverageStore;
  /** ORG_002 UPDATE notices of changes made on the platform (domain/notices.ts). */
  notices: NoticeDeps;
  /** Queue the ORG_002 callback of a batch inside the caller's transaction: the job exists if and only if the write does. */
  enqueueCallback(trx: Kysely<DB>, batchId: number, requestId?: string | null): Promise<void>;
  /** Queue a later ORG_001 re-check of one item, `delaySeconds` from now (a citizen's refresh that got no answer). */
  enqueueItemRefresh(itemId: number, opts?: { requestId?: string; delaySeconds?: number }): Promise<void>;
  metrics: Metrics;
  post: HttpPost;
  now: () => number;
}
