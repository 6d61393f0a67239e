import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { loadConfig } from '../config.js';
import type { DB } from '../db/schema.js';
import { createPlatform, type Platform } from '../platform.js';
import { dropTestSchema } from '../testing.js';
import { main } from './mdl.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

/**
 * Issue #12, tamper-evident audit trail. On PostgreSQL (DATABASE_URL set) the platform works as the
 * runtime role mdl_rt_<schema> and the test's owner is the role that ran the migrations; on PGlite there is
 * one (superuser) role and the triggers are what refuse.
 */
describe('audit trail: runtime role, seal chain, mdl audit verify, CLI changes audited', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdl-audit-'));
  const pgUrl = process.env.DATABASE_URL;
  const schema = `t_audit_${process.pid}_${Date.now() % 1_000_000}`;
  const env: NodeJS.ProcessEnv = pgUrl
    ? {
        DATABASE_URL: pgUrl,
        MDL_DB_SCHEMA: schema,
        MDL_MASTER_KEY: '00112233445566778899aabbccddeeff',
        MDL_LOG_LEVEL: 'silent',
        MDL_DEPLOYMENT: 'sandbox',
      }
    : { MDL_DATA_DIR: dir, MDL_LOG_LEVEL: 'silent' };
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (pgUrl) await dropTestSchema(pgUrl, schema);
  });
  const withPlatform = async <T>(fn: (p: Platform) => Promise<T>): Promise<T> => {
    const p = await createPlatform(loadConfig(env), { queue: false });
    try {
      return await fn(p);
    } finally {
      await p.close();
    }
  };
  /** As the owner: triggers off, one statement, triggers on (what the review did). */
  const asOwner = (owner: Kysely<DB>, statement: ReturnType<typeof sql>) =>
    owner.transaction().execute(async (trx) => {
      await sql`ALTER TABLE audit_event DISABLE TRIGGER USER`.execute(trx);
      await statement.execute(trx);
      await sql`ALTER TABLE audit_event ENABLE TRIGGER USER`.execute(trx);
    });
  const verify = async () => {
    const c = capture();
    const code = await main(['audit', 'verify'], c.io, env);
    return { code, out: c.out.join('\n') + c.err.join('\n') };
  };
  let appId = '';

  it('mdl apps create | rotate | disable are audited by the domain', async () => {
    const c = capture();
    const create = ['apps', 'create', '--org-id', 'H35010200001', '--org-name', '福州市第一医院', '--env', 'test', '--json'];
    assert.equal(await main(create, c.io, env), 0, c.err.join('\n'));
    appId = (JSON.parse(c.out[0]!) as { appId: string }).appId;
    assert.equal(await main(['apps', 'rotate', appId], capture().io, env), 0);
    assert.equal(await main(['apps', 'disable', appId], capture().io, env), 0);
    const events = await withPlatform((p) =>
      p.db.selectFrom('audit_event').select(['action', 'actor_id', 'target']).where('action', 'like', '%.%').orderBy('id').execute(),
    );
    const mine = events.filter((e) => /^(institution|credential)\./.test(e.action));
    assert.deepEqual(
      mine.map((e) => e.action),
      ['institution.create', 'credential.create', 'credential.rotate', 'credential.disable'],
    );
    assert.ok(mine.every((e) => e.actor_id.startsWith('cli:')));
    assert.ok(mine.slice(1).every((e) => e.target === `app:${appId}`));
  });

  it('mdl callbacks resend is audited as the CLI operator who ran it', async () => {
    // A processed batch of that credential, as report processing leaves it after the callback gave up.
    const batchId = await withPlatform(async (p) => {
      const b = await p.db
        .insertInto('batch')
        .values({
          org_id: 'H35010200001',
          org_request_id: 'R-RESEND',
          kind: 'REPORT',
          app_id: appId,
          payload_hash: 'h',
          payload_enc: 'x',
          notify_url: 'https://his.example/callback',
          item_count: 0,
          status: 'done',
          accepted_count: 0,
          rejected_count: 0,
          result_enc: null,
          callback_status: 'failed',
          request_id: 'req-of-the-report',
          processed_at: new Date(),
          delivered_at: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return b.id;
    });
    assert.equal(await main(['callbacks', 'resend', '--batch', String(batchId)], capture().io, env), 0);
    const events = await withPlatform((p) => p.db.selectFrom('audit_event').selectAll().where('action', '=', 'callback.resend').execute());
    assert.equal(events.length, 1);
    const e = events[0]!;
    assert.deepEqual(
      [e.actor_type, e.actor_id, e.org_id, e.target, e.request_id],
      ['operator', `cli:${userInfo().username}`, 'H35010200001', 'R-RESEND', 'req-of-the-report'],
    );
  });

  it('the runtime connection may not TRUNCATE, UPDATE, DELETE or disable the triggers of the audit trail', async () => {
    await withPlatform(async (p) => {
      const before = await p.db
        .selectFrom('audit_event')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      await assert.rejects(sql`TRUNCATE audit_event`.execute(p.db), /permission denied|append-only/);
      await assert.rejects(sql`UPDATE audit_event SET detail = 'x'`.execute(p.db), /permission denied|append-only/);
      await assert.rejects(sql`DELETE FROM audit_event`.execute(p.db), /permission denied|append-only/);
      await assert.rejects(sql`TRUNCATE audit_seal`.execute(p.db), /permission denied|append-only/);
      if (p.database.kind === 'postgres') {
        await assert.rejects(sql`ALTER TABLE audit_event DISABLE TRIGGER USER`.execute(p.db), /must be owner/);
        const who = await sql<{ u: string }>`SELECT current_user AS u`.execute(p.db);
        assert.equal(who.rows[0]!.u, `mdl_rt_${schema}`);
      }
      const afterwards = await p.db
        .selectFrom('audit_event')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(afterwards.n), Number(before.n), 'nothing removed');
    });
  });

  it('mdl audit verify passes a sealed trail and names the first event the owner altered, removed or back-dated', async () => {
    assert.equal(await main(['audit', 'seal'], capture().io, env), 0);
    let r = await verify();
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /intact/);
    // The embedded database has one opener at a time: each change is made and closed before `verify` opens it.
    const owner = (statement: (o: Kysely<DB>) => ReturnType<typeof sql>) =>
      withPlatform((p) => asOwner(p.database.ownerDb, statement(p.database.ownerDb)));
    const target = await withPlatform((p) =>
      p.db.selectFrom('audit_event').selectAll().where('action', '=', 'credential.rotate').executeTakeFirstOrThrow(),
    );
    // Altered: the rotation is made to look like someone else's.
    await owner(() => sql`UPDATE audit_event SET actor_id = 'someone-else' WHERE id = ${target.id}`);
    r = await verify();
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`event ${target.id} \\(altered\\)`));
    // Removed.
    await owner(() => sql`DELETE FROM audit_event WHERE id = ${target.id}`);
    r = await verify();
    assert.equal(r.code, 1);
    assert.match(r.out, new RegExp(`event ${target.id} \\(removed\\)`));
    // Put back exactly as it was: intact again (the seal covers content, not the row's storage).
    await owner(
      () => sql`INSERT INTO audit_event SELECT ${target.id}, ${target.at}, ${target.actor_type}, ${target.actor_id}, ${target.org_id},
        ${target.subject_bidx}, ${target.action}, ${target.target}, ${target.outcome}, ${target.resp_code}, ${target.request_id}, ${target.detail}`,
    );
    r = await verify();
    assert.equal(r.code, 0, r.out);
    // Inserted after sealing, back-dated so it looks old: outside every seal.
    await owner(
      () =>
        sql`INSERT INTO audit_event (at, actor_type, actor_id, action, outcome) VALUES (now() - interval '1 hour', 'operator', 'ghost', 'credential.create', 'ok')`,
    );
    r = await verify();
    assert.equal(r.code, 1);
    assert.match(r.out, /\(unsealed\)/);
  });
});
