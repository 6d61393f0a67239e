import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DB } from './schema.js';
import { Mutex } from './mutex.js';
import { markedByText, usePreparedStatements } from './prepared.js';
import { PGliteDialect } from './pglite-dialect.js';
import { startPGlite } from './pglite-boot.js';
import { secureDataDir } from './data-dir-modes.js';

export interface SqlResult {
  rows: Record<string, unknown>[];
}

/** What pg-boss needs: one function that runs SQL (its `db` option). */
export interface SqlExecutor {
  executeSql(text: string, values?: unknown[]): Promise<SqlResult>;
}

export interface Database extends SqlExecutor {
  /** The platform's queries. On PostgreSQL as the runtime role (`runtimeRole`): no UPDATE, DELETE or TRUNCATE of the audit trail. */
  db: Kysely<DB>;
  /** Schema changes (migrations) and the job queue's own tables, as the role that owns them. PGlite: the same as `db`. */
  ownerDb: Kysely<DB>;
  kind: 'pglite' | 'postgres';
  schema: string;
  /**
   * Runs `fn` while this process holds the set-up lock of the schema: every process that changes the schema
   * (migrations, the job queue's tables and queues) takes it first, so that any number of them may start at once.
   * On PostgreSQL an advisory lock held by a connection of its own; on PGlite nothing to take (one process owns
   * the files).
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** Connections of the pool now, for the metrics (PGlite: one connection, taken in turns). */
  poolStats(): PoolStats;
  close(): Promise<void>;
}

export interface PoolStats {
  max: number;
  open: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
}

export interface DatabaseOptions {
  databaseUrl: string | undefined;
  /** Embedded data directory; 'memory://' keeps everything in memory (tests). */
  dataDir: string;
  schema: string;
  poolSize?: number;
}

export class DatabaseBusyError extends Error {
  override name = 'DatabaseBusyError';
}

// node-postgres hands BIGINT back as a string and PGlite as a number: make both numbers, here and only here.
const INT8_OID = 20;
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format ?? 'text');
  },
} as pg.CustomTypesConfig;

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.databaseUrl ? openPostgres(opts.databaseUrl, opts.schema, opts.poolSize ?? 20) : openPGlite(opts.dataDir, opts.schema);
}

const CONNECT_TIMEOUT_MS = 5000;

/** The advisory lock of schema set-up: this number and one derived from the schema name. */
const SETUP_LOCK = 74201;
function schemaKey(schema: string): number {
  let h = 0x811c9dc5; // FNV-1a, folded into PostgreSQL's signed 32-bit int
  for (const c of Buffer.from(schema)) h = Math.imul(h ^ c, 0x01000193);
  return h | 0;
}

async function openPostgres(url: string, schema: string, max: number): Promise<Database> {
  const boot = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  boot.on('error', () => {}); // a restart while this runs ends in the awaited query's error
  await boot.connect();
  try {
    await boot.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (e) {
    // Two processes racing to create the schema: the loser's error is harmless.
    if ((e as { code?: string }).code !== '23505') throw e;
  } finally {
    await boot.end();
  }
  // Two pools: the owner's (migrations, pg-boss) and the runtime role's (everything else). The runtime
  // pool connects lazily, so its role (created by migration 008) exists by the time it is first used.
  const ownerPool = new pg.Pool({
    connectionString: url,
    max,
    types: pgTypes,
    // Not plan_cache_mode=force_generic_plan, though pg-boss's fetch and complete are then planned for every job
    // (its job table is partitioned by queue, and a custom plan prunes the partitions when planned): the generic
    // plan of its complete reads the queue's whole partition, completed jobs included (0.4–0.5 ms a job, growing
    // with the jobs kept; measured 2026-12-08).
    options: `-c search_path="${schema}"`,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  ownerPool.on('error', () => {});
  ownerPool.on('connect', (client) => client.on('error', () => {}));
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types: pgTypes,
    options: `-c search_path="${schema}" -c role=${runtimeRole(schema)}`,
    // An unreachable server fails a request in seconds (000002) instead of holding it.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  // A server restart ends every connection. node-postgres emits 'error' on an idle client through the pool, and
  // on a checked-out client (one inside a transaction, between two queries) on the client itself, where nobody
  // listens: an unhandled 'error' event would end the process. Every client gets a listener; the query in flight
  // fails with the same error, and the pool drops the broken client when it is released (issue #14).
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  usePreparedStatements(pool);
  usePreparedStatements(ownerPool);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const ownerDb = new Kysely<DB>({ dialect: new PostgresDialect({ pool: ownerPool }) });
  const lockKey = [SETUP_LOCK, schemaKey(schema)];
  return {
    db,
    ownerDb,
    kind: 'postgres',
    schema,
    async executeSql(text, values) {
      // pg-boss's statements with parameters are a few fixed texts run for every job: named, each connection parses
      // them once.
      const r = await ownerPool.query(markedByText(text, values), values);
      return { rows: r.rows };
    },
    poolStats: () => ({ max, open: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async exclusive(fn) {
      // A connection of its own, outside the pool (so that `fn` can use all of it); ending it releases the lock.
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
      client.on('error', () => {}); // a broken lock connection ends the lock; `fn`'s own queries report errors
      await client.connect();
      try {
        await client.query('SELECT pg_advisory_lock($1, $2)', lockKey);
        return await fn();
      } finally {
        await client.end().catch(() => {});
      }
    },
    async close() {
      await db.destroy();
      await ownerDb.destroy();
    },
  };
}

/**
 * Gives the runtime role the use of a schema the owner made outside the migrations (pg-boss's): its
 * tables, today's and those created later. Nothing to do on PGlite (one role).
 */
export async function grantRuntimeUse(database: Database, otherSchema: string): Promise<void> {
  if (database.kind !== 'postgres') return;
  const rt = `"${runtimeRole(database.schema)}"`;
  const s = `"${otherSchema}"`;
  for (const statement of [
    `GRANT USAGE ON SCHEMA ${s} TO ${rt}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${rt}`,
    `GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${s} TO ${rt}`,
    `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${s} TO ${rt}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${rt}`,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${s} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${rt}`,
  ])
    await database.executeSql(statement);
}

/** The role the platform works as on PostgreSQL (created by migration 008), one per schema. */
export function runtimeRole(schema: string): string {
  return `mdl_rt_${schema}`;
}

async function openPGlite(dataDir: string, schema: string): Promise<Database> {
  const memory = dataDir === 'memory://';
  if (!memory && process.platform !== 'win32') process.umask(0o077); // see secureDataDir
  const lock = memory ? undefined : takeLock(dataDir);
  let pgl: PGlite;
  try {
    if (!memory) secureDataDir(dataDir, (message) => process.emitWarning(message, 'DataDirectoryModes'));
    const files = memory ? undefined : join(dataDir, 'pglite');
    const created = files !== undefined && !existsSync(join(files, 'PG_VERSION'));
    pgl = await startPGlite(files);
    // A new cluster is unpacked with the modes its archive carries; later writes follow our umask 077.
    if (created) secureDataDir(dataDir, () => {});
    await pgl.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"; SET search_path TO "${schema}"`);
  } catch (e) {
    lock?.release();
    throw e;
  }
  const mutex = new Mutex();
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pgl, mutex) });
  return {
    db,
    ownerDb: db,
    kind: 'pglite',
    schema,
    exclusive: (fn) => fn(),
    poolStats: () => ({ max: 1, open: 1, idle: mutex.queued === 0 ? 1 : 0, waiting: Math.max(0, mutex.queued - 1) }),
    executeSql(text, values) {
      return mutex.run(async () => {
        // pg-boss sends some multi-statement scripts without parameters; only exec takes those.
        if (!values || values.length === 0) {
          const results = await pgl.exec(text);
          return { rows: (results[results.length - 1]?.rows ?? []) as Record<string, unknown>[] };
        }
        const r = await pgl.query<Record<string, unknown>>(text, values);
        return { rows: r.rows };
      });
    },
    async close() {
      await db.destroy();
      await mutex.run(() => pgl.close());
      lock?.release();
    },
  };
}

/**
 * PGlite files can be opened by one process only; a second opener would corrupt them. The lock file is
 * created exclusively (two processes started at the same moment cannot both get it) and names the holder,
 * so that the message can say who it is; a lock left by a process that is gone is taken over.
 */
function takeLock(dataDir: string): { release(): void } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'mdl.lock');
  const mine = String(process.pid);
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, mine, { flag: 'wx' });
      // Released only while it is still ours.
      return { release: () => readLock(file)?.pid === process.pid && rmSync(file, { force: true }) };
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    }
    const holder = readLock(file);
    if (!holder) continue; // released in the meantime
    const stale = holder.pid ? holder.pid === process.pid || !isAlive(holder.pid) : holder.ageMs > 5000;
    if (!stale || attempt >= 3) {
      throw new DatabaseBusyError(
        `The embedded database in ${dataDir} is in use by process ${holder.pid || '(starting)'} (a running \`mdl serve\` or \`npm start\`). ` +
          'Stop that process first, or use PostgreSQL (DATABASE_URL) to run several processes at once.',
      );
    }
    rmSync(file, { force: true });
  }
}

/** undefined: no lock file; pid 0: its creator has not written its pid yet (ageMs says since when). */
function readLock(file: string): { pid: number; ageMs: number } | undefined {
  try {
    return { pid: Number(readFileSync(file, 'utf8').trim()) || 0, ageMs: Date.now() - statSync(file).mtimeMs };
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw e;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/** The current time as the database sees it; used where clocks of several processes must agree. */
export async function dbNow(db: Kysely<DB>): Promise<Date> {
  const r = await sql<{ now: Date }>`SELECT now() AS now`.execute(db);
  return r.rows[0]!.now;
}
