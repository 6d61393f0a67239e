import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { residentId } from '@mdl/protocol';
import { main } from '../../cli/mdl.js';
import { loadConfig } from '../../config.js';
import { createPlatform, MasterKeyMismatchError, type Platform } from '../../platform.js';
import { addInstitution, createUser, dropTestSchema, rebuildSubjects, testItem } from '../../testing.js';
import { signIn } from '../console/auth.js';
import { parseAuditQuery, searchAudit } from '../console/audit-search.js';
import { base32Decode, totp } from '../console/totp.js';
import { Vault } from '../../vault.js';
import { queryArrears } from '../arrears.js';
import { audit } from '../audit.js';
import { sealAudit, verifyAudit } from '../audit-chain.js';
import { DEFAULT_POLICY } from '../eligibility.js';
import { cardView, getOrRegisterPerson } from '../persons.js';
import { rotateMasterKey, RotationError } from './rotate.js';

const idOf = (seq: number) => residentId('350102', `19${String(60 + seq).padStart(2, '0')}0101`, 100 + seq);

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

/**
 * `mdl keys rotate` (issue #12 item 4) on an embedded data directory: an interrupted rotation, a second
 * rotation refused while one runs, the platform refusing to start half-way, the CLI resuming it; then every
 * value opens under the new key and every look-up works (ID index, per-person name index, local and
 * record subjects, read model, references, console TOTP, credentials, audit seals and audit search).
 */
describe('master-key rotation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdl-keys-'));
  // On PostgreSQL (DATABASE_URL set) the key comes from MDL_MASTER_KEY and the CLI is given --new-key.
  const pgUrl = process.env.DATABASE_URL;
  const schema = `t_keys_${process.pid}_${Date.now() % 1_000_000}`;
  const PG_KEY = '00112233445566778899aabbccddeeff';
  const env: NodeJS.ProcessEnv = pgUrl
    ? { DATABASE_URL: pgUrl, MDL_DB_SCHEMA: schema, MDL_MASTER_KEY: PG_KEY, MDL_LOG_LEVEL: 'silent', MDL_DEPLOYMENT: 'sandbox' }
    : { MDL_DATA_DIR: dir, MDL_LOG_LEVEL: 'silent' };
  const ORG = 'H35010200001';
  const people = Array.from({ length: 7 }, (_, i) => ({
    idNo: idOf(i),
    userName: i % 2 ? '林晓梅' : '陈大文',
    phone: `1380000000${i}`,
  }));
  const open = (o: { keyRotation?: boolean } = {}) => createPlatform(loadConfig(env), { queue: false, ...o });
  const withPlatform = async <T>(fn: (p: Platform) => Promise<T>, o: { keyRotation?: boolean } = {}): Promise<T> => {
    const p = await open(o);
    try {
      return await fn(p);
    } finally {
      await p.close();
    }
  };
  let oldKey = '';
  const newKey = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  let app: { appId: string; secret: string };
  let totpSecret = '';
  const cards = new Map<string, string>();

  before(async () => {
    await withPlatform(async (p) => {
      const inst = await addInstitution(p, ORG);
      app = { appId: inst.appId, secret: inst.secret };
      totpSecret = (await createUser(p, { username: 'op', role: 'operator', password: 'Correct-Horse-9' }, 'test')).totpSecret;
      let n = 0;
      for (const who of people) {
        const { person } = await getOrRegisterPerson(p.db, p.vault, {
          idType: '01',
          idNo: who.idNo,
          userName: who.userName,
          mobilePhone: who.phone,
        });
        cards.set(who.idNo, person.ehealth_card_id);
        const key = p.vault.personKey('01', who.idNo);
        const sealed = { id_type: '01', id_no_enc: p.vault.encrypt(who.idNo), name_enc: p.vault.encrypt(who.userName) };
        await p.db
          .insertInto('arrears_item')
          .values([
            testItem({ trace_id: `T${n++}`, org_id: ORG, real_name: true, person_id: person.id, subject_bidx: key, ...sealed }),
            testItem({ trace_id: `T${n++}`, org_id: ORG, subject_bidx: p.vault.localKey(ORG, '01', who.idNo, who.userName), ...sealed }),
            testItem({ trace_id: `T${n}`, org_trace_id: `R${n}`, org_id: ORG, subject_bidx: p.vault.recordKey(ORG, `R${n++}`) }),
          ])
          .execute();
        await p.db.insertInto('reminder_claim').values({ subject_bidx: key, last_at: new Date() }).execute();
        await audit(p.db, {
          actor_type: 'app',
          actor_id: app.appId,
          org_id: ORG,
          subject_bidx: key,
          action: 'arrears.query',
          target: null,
          outcome: 'ok',
          resp_code: '000000',
          request_id: null,
          detail: null,
        });
      }
      // A subject key the platform never makes (a hand repair): kept and reported, not a stop half-way.
      await p.db
        .insertInto('arrears_item')
        .values(testItem({ trace_id: 'HAND', org_id: ORG, subject_bidx: 'hand-made' }))
        .execute();
      await rebuildSubjects(p.db);
      await sealAudit(p.db, p.vault);
    });
    oldKey = pgUrl ? PG_KEY : readFileSync(join(dir, 'master.key'), 'utf8').trim();
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (pgUrl) await dropTestSchema(pgUrl, schema);
  });

  it('an interrupted rotation is recorded; the platform refuses to start until it is finished', async () => {
    const stopped = await withPlatform((p) => rotateMasterKey(p.db, oldKey, newKey, { batchSize: 2, stopAfterBatches: 5 }), {
      keyRotation: true,
    });
    assert.equal(stopped, false);
    // What the CLI would have kept before starting.
    if (!pgUrl) writeFileSync(join(dir, 'master.key.next'), newKey + '\n', { mode: 0o600 });
    await assert.rejects(open(), (e: unknown) => e instanceof MasterKeyMismatchError && /unfinished/.test(e.message));
  });

  it('a second rotation at the same time is refused, and one to another key too', async () => {
    await withPlatform(
      async (p) => {
        const runs = await Promise.allSettled([
          rotateMasterKey(p.db, oldKey, newKey, { batchSize: 1, stopAfterBatches: 6, holder: 'a' }),
          rotateMasterKey(p.db, oldKey, newKey, { batchSize: 1, stopAfterBatches: 6, holder: 'b' }),
        ]);
        const refused = runs.filter((r) => r.status === 'rejected');
        assert.equal(refused.length, 1, JSON.stringify(runs));
        assert.ok((refused[0] as PromiseRejectedResult).reason instanceof RotationError);
        assert.match(String((refused[0] as PromiseRejectedResult).reason), /already running/);
        await assert.rejects(rotateMasterKey(p.db, oldKey, 'ffffffffffffffffffffffffffffffff'), /another new key/);
      },
      { keyRotation: true },
    );
  });

  it('mdl keys rotate resumes it, shows progress and replaces the key file', async () => {
    const c = capture();
    const code = await main(['keys', 'rotate', '--batch', '3', ...(pgUrl ? ['--new-key', newKey] : [])], c.io, env);
    assert.equal(code, 0, c.err.join('\n'));
    assert.ok(
      c.out.some((l) => /^person: \d+\/7/.test(l)),
      c.out.join('\n'),
    );
    assert.ok(
      c.out.some((l) => /^arrears_item: 22\/22 done$/.test(l)),
      c.out.join('\n'),
    );
    assert.match(c.err.join('\n'), /1 arrears items have a subject key the platform does not make/);
    if (pgUrl) env.MDL_MASTER_KEY = newKey;
    else {
      assert.equal(readFileSync(join(dir, 'master.key'), 'utf8').trim(), newKey);
      assert.equal(existsSync(join(dir, 'master.key.next')), false);
    }
  });

  it('after it, every value opens under the new key and every look-up works', async () => {
    await withPlatform(async (p) => {
      const old = new Vault(oldKey);
      const persons = await p.db.selectFrom('person').selectAll().execute();
      assert.equal(persons.length, people.length);
      for (const row of persons) {
        assert.throws(() => old.decrypt(row.id_no_enc), 'no value is left under the old key');
        assert.equal(row.psn_no_bidx, null);
      }
      for (const who of people) {
        const key = p.vault.personKey('01', who.idNo);
        assert.notEqual(key, old.personKey('01', who.idNo));
        const row = persons.find((r) => r.id_no_bidx === key)!;
        const view = cardView(p.vault, row);
        assert.deepEqual(
          [view.idNo, view.userName, view.mobilePhone, view.birthday],
          [who.idNo, who.userName, who.phone, who.idNo.slice(6, 14)],
        );
        const caller = { appId: app.appId, kind: 'institution' as const, orgId: ORG, env: 'prod' as const, secret: '' };
        const q = (userName: string) =>
          queryArrears(
            p.db,
            p.vault,
            p.readModel,
            caller,
            { businessType: '01101', idType: '01', idNo: who.idNo, userName, ehealthCardId: cards.get(who.idNo)! },
            DEFAULT_POLICY,
            Date.now(),
          );
        // Real-name item and the institution's local item of the same person.
        assert.equal((await q(who.userName)).decision.unpaidCount, 2);
        await assert.rejects(q(who.userName === '林晓梅' ? '陈大文' : '林晓梅'));
        const claim = await p.db.selectFrom('reminder_claim').select('subject_bidx').where('subject_bidx', '=', key).executeTakeFirst();
        assert.ok(claim, 'references follow the person to the new key');
        const { filter } = parseAuditQuery(p.vault, { idType: '01', idNo: who.idNo, orgId: '', actor: '', action: '', from: '', to: '' });
        assert.equal((await searchAudit(p.db, filter, 10)).length, 1, 'an event from before the rotation is still found by ID number');
      }
      const items = await p.db.selectFrom('arrears_item').selectAll().execute();
      for (const it of items.filter((i) => i.id_no_enc === null && i.trace_id !== 'HAND'))
        assert.equal(it.subject_bidx, p.vault.recordKey(ORG, it.org_trace_id));
      assert.equal(items.find((i) => i.trace_id === 'HAND')!.subject_bidx, 'hand-made');
      const subjects = await p.db.selectFrom('arrears_subject').select('subject_bidx').execute();
      const itemKeys = new Set([...items.map((i) => i.subject_bidx), ...persons.map((r) => r.id_no_bidx)]);
      assert.deepEqual(new Set(subjects.map((s) => s.subject_bidx)), itemKeys, 'the read model holds exactly the new keys');
      assert.equal((await p.credentials.get(app.appId))?.secret, app.secret);
      const r = await signIn(p, {
        username: 'op',
        password: 'Correct-Horse-9',
        code: totp(base32Decode(totpSecret), Date.now()),
        ip: '127.0.0.9',
      });
      assert.equal(r.ok, true);
      await sealAudit(p.db, p.vault);
      const v = await verifyAudit(p.db, p.vault, Date.now());
      assert.equal(v.ok, true, JSON.stringify(v.problem));
      assert.ok(v.seals >= 2, 'seals under the old key and the new one');
      assert.equal(await p.db.selectFrom('key_map').select('old_bidx').executeTakeFirst(), undefined);
    });
  });

  it('the old key no longer starts the platform', async () => {
    const withOld = { ...env, MDL_MASTER_KEY: oldKey };
    await assert.rejects(createPlatform(loadConfig(withOld), { queue: false }), MasterKeyMismatchError);
  });
});

describe('mdl keys rotate on the embedded default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdl-keys-cli-'));
  const env = { MDL_DATA_DIR: dir, MDL_LOG_LEVEL: 'silent' };
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('makes the new key itself (kept in master.key.next until the end), or takes --new-key', async () => {
    const p = await createPlatform(loadConfig(env), { queue: false });
    const idNo = idOf(9);
    await getOrRegisterPerson(p.db, p.vault, { idType: '01', idNo, userName: '王芳', mobilePhone: '13900000009' });
    const event = {
      actor_type: 'system',
      actor_id: 'test',
      org_id: null,
      target: null,
      outcome: 'ok',
      resp_code: null,
      request_id: null,
      detail: null,
    } as const;
    await audit(p.db, { ...event, subject_bidx: p.vault.personKey('01', idNo), action: 'audit.read' });
    await sealAudit(p.db, p.vault);
    await p.close();
    const first = readFileSync(join(dir, 'master.key'), 'utf8').trim();
    const c = capture();
    assert.equal(await main(['keys', 'rotate'], c.io, env), 0, c.err.join('\n'));
    const second = readFileSync(join(dir, 'master.key'), 'utf8').trim();
    assert.match(second, /^[0-9a-f]{32}$/);
    assert.notEqual(second, first);
    assert.equal(existsSync(join(dir, 'master.key.next')), false);
    const given = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';
    const d = capture();
    assert.equal(await main(['keys', 'rotate', '--new-key', given], d.io, env), 0, d.err.join('\n'));
    assert.equal(readFileSync(join(dir, 'master.key'), 'utf8').trim(), given);
    const q = await createPlatform(loadConfig(env), { queue: false });
    try {
      const row = await q.db.selectFrom('person').selectAll().executeTakeFirstOrThrow();
      assert.equal(cardView(q.vault, row).idNo, idNo);
      assert.equal(row.id_no_bidx, q.vault.personKey('01', idNo));
      // Two rotations: the audit trail still verifies under the key of each seal's time, and is searched by ID number.
      await sealAudit(q.db, q.vault);
      const v = await verifyAudit(q.db, q.vault, Date.now());
      assert.equal(v.ok, true, JSON.stringify(v.problem));
      assert.ok(v.sealedEvents >= 1);
      const { filter } = parseAuditQuery(q.vault, { idType: '01', idNo, orgId: '', actor: '', action: 'audit.read', from: '', to: '' });
      assert.equal((await searchAudit(q.db, filter, 10)).length, 1);
    } finally {
      await q.close();
    }
  });
});
