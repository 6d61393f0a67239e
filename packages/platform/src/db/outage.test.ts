import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase, runtimeRole } from './database.js';
import { migrate } from './migrate.js';
import { isDatabaseAway, whileDatabaseAway } from './outage.js';

const databaseUrl = process.env.DATABASE_URL || undefined;

async function closedPort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => s.once('listening', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('database outages (issue #14)', () => {
  it('tells an unreachable server from a refused query, and waits out only the former', async () => {
    const down = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${await closedPort()}/x`,
      connectionTimeoutMillis: 2000,
    });
    const refused = await down.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isDatabaseAway(refused), String(refused));
    assert.ok(isDatabaseAway({ code: '57P01', message: 'terminating connection due to administrator command' }));
    assert.ok(!isDatabaseAway({ code: '42601', message: 'syntax error at or near "SELEC"' }));
    assert.ok(!isDatabaseAway(new Error('duplicate key value violates unique constraint')));

    let calls = 0;
    const waited: unknown[] = [];
    const value = await whileDatabaseAway(
      async () => {
        if (++calls < 4) throw refused;
        return 'back';
      },
      { maxMs: 10_000, onWait: (e) => waited.push(e), sleep: async () => {} },
    );
    assert.equal(value, 'back');
    assert.equal(calls, 4);
    assert.equal(waited.length, 1, 'told once per outage');
    await assert.rejects(
      whileDatabaseAway(
        async () => {
          throw new Error('duplicate key');
        },
        { maxMs: 10_000, sleep: async () => {} },
      ),
      /duplicate key/,
    );
    await assert.rejects(
      whileDatabaseAway(
        async () => {
          throw refused;
        },
        { maxMs: 0 },
      ),
      (e) => e === refused,
    );
  });

  it(
    'a connection ended by the server inside a transaction fails that transaction only; the process and the pool go on',
    { skip: !databaseUrl && 'needs DATABASE_URL' },
    async () => {
      const schema = `t_outage_${randomBytes(4).toString('hex')}`;
      const database = await openDatabase({ databaseUrl, dataDir: 'memory://', schema });
      await migrate(database); // the platform's queries run as the runtime role the migrations create (issue #12)
      const killer = new pg.Client({ connectionString: databaseUrl });
      await killer.connect();
      try {
        const outcome = await database.db
          .transaction()
          .execute(async (trx) => {
            const { rows } = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx);
            // What a restart does to every session: the server ends it while the client holds it, between queries.
            await killer.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
            await new Promise((r) => setTimeout(r, 300)); // the server's FATAL message arrives while nothing is asked
            await sql`SELECT 1`.execute(trx);
            return 'committed';
          })
          .catch((e: unknown) => e);
        assert.notEqual(outcome, 'committed');
        assert.ok(isDatabaseAway(outcome), String(outcome));
        const again = await sql<{ n: number }>`SELECT 41 + 1 AS n`.execute(database.db);
        assert.equal(again.rows[0]!.n, 42, 'the pool serves the next query');
      } finally {
        await database.close();
        await killer.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await killer.query(`DROP ROLE IF EXISTS "${runtimeRole(schema)}"`);
        await killer.end();
      }
    },
  );
});
