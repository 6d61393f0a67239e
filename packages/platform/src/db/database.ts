import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DB } from './schema.js';
import { Mutex } from './mutex.js';
import { PGliteDialect } from './pglite-dialect.js';

export interface SqlResult {
  rows: Record<string, unknown>[];
}

/** What pg-boss needs: one function that runs SQL (its `db` option). */
export interface SqlExecutor {
  executeSql(text: string, values?: unknown[]): Promise<SqlResult>;
}

export interface Database extends SqlExecutor {
  db: Kysely<DB>;
  kind: 'pglite' | 'postgres';
  schema: string;
  close(): Promise<void>;
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

async function openPostgres(url: string, schema: string, max: number): Promise<Database> {
  const boot = new pg.Client({ connectionString: url });
  await boot.connect();
  try {
    await boot.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (e) {
    // Two processes racing to create the schema: the loser's error is harmless.
    if ((e as { code?: string }).code !== '23505') throw e;
  } finally {
    await boot.end();
  }
  const pool = new pg.Pool({ connectionString: url, max, types: pgTypes, options: `-c search_path="${schema}"` });
  pool.on('error', () => {}); // idle client errors surface on the next query instead
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'postgres',
    schema,
    async executeSql(text, values) {
      const r = await pool.query(text, values);
      return { rows: r.rows };
    },
    async close() {
      await db.destroy();
    },
  };
}

async function openPGlite(dataDir: string, schema: string): Promise<Database> {
  const memory = dataDir === 'memory://';
  const lock = memory ? undefined : takeLock(dataDir);
  let pgl: PGlite;
  try {
    pgl = new PGlite(memory ? undefined : join(dataDir, 'pglite'));
    await pgl.waitReady;
    await pgl.exec(`CREATE SCHEMA IF NOT EXISTS "${schema}"; SET search_path TO "${schema}"`);
  } catch (e) {
    lock?.release();
    throw e;
  }
  const mutex = new Mutex();
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pgl, mutex) });
  return {
    db,
    kind: 'pglite',
    schema,
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
 * PGlite files can be opened by one process only; a second opener would corrupt them. The lock file
 * names the holder so the message can say who it is.
 */
function takeLock(dataDir: string): { release(): void } {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'mdl.lock');
  if (existsSync(file)) {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (pid && pid !== process.pid && isAlive(pid)) {
      throw new DatabaseBusyError(
        `The embedded database in ${dataDir} is in use by process ${pid} (a running \`mdl serve\` or \`npm start\`). ` +
          'Stop that process first, or use PostgreSQL (DATABASE_URL) to run several processes at once.',
      );
    }
  }
  writeFileSync(file, String(process.pid));
  return { release: () => rmSync(file, { force: true }) };
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
