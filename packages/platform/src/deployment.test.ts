import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sealRequest, type Envelope } from '@mdl/protocol';
import { sql } from 'kysely';
import { main } from './cli/mdl.js';
import { createUser } from './domain/console/auth.js';
import { base32Decode, totp } from './domain/console/totp.js';
import { createApp, setAppStatus, upsertInstitution } from './domain/credentials.js';
import { DeploymentError } from './domain/deployment.js';
import { seedDemo } from './demo.js';
import { addInstitution, startTestPlatform, type TestInstitution, type TestPlatform } from './testing.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err, text: () => [...out, ...err].join('\n') };
}

const PASSWORD = 'Correct-Horse-9';

/**
 * Issue #11 item 1 on the production setting, over real HTTP on loopback: no test credential gets in (CLI,
 * console, domain, start-up), PLAIN is refused on every interface even for a test credential's appId, and
 * neither the kiosk demo, demo data nor the 测试环境 marker exist.
 */
describe('a production deployment', () => {
  let t: TestPlatform;
  let inst: TestInstitution;
  const testCred = { appId: 'APPTESTSLIPPEDIN0000000000000001', secret: 'T'.repeat(40) };
  const orgId = 'H35010200001';

  before(async () => {
    t = await startTestPlatform({ deployment: 'production' });
    await t.listen();
    inst = await addInstitution(t.platform, orgId);
    // A test credential written by hand (or made before this rule): the gateway must still refuse PLAIN from it.
    await t.platform.db
      .insertInto('app_credential')
      .values({
        app_id: testCred.appId,
        kind: 'institution',
        org_id: orgId,
        label: null,
        env: 'test',
        secret_enc: t.platform.vault.encrypt(testCred.secret),
        status: 'active',
      })
      .execute();
  });
  after(() => t.close());

  const post = async (path: string, body: unknown): Promise<Envelope> => {
    const res = await fetch(t.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 200);
    return (await res.json()) as Envelope;
  };
  const count = async (table: string, where = sql`true`) =>
    Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)} WHERE ${where}`.execute(t.platform.db)).rows[0]!.n);
  const report = (o: string) => ({
    orgId: o,
    orgName: '测试医院',
    notifyUrl: 'http://127.0.0.1:9/umdl/callback',
    orgRequestId: `R${Date.now()}${Math.random()}`.slice(0, 30),
    unsettleList: [
      {
        idNo: '350102199003071234',
        idType: '01',
        userName: '林晓梅',
        ehealthCardId: 'E1',
        userType: '01',
        itemList: [
          { orgTraceId: 'T1', medType: '11', feeType: '01', itemName: '诊查费', amount: '9999.00', actualTime: '2026-11-20 09:15:00' },
        ],
      },
    ],
  });

  it('refuses PLAIN with a test credential appId on every interface (000101 / 000102), unsigned, storing nothing, audited', async () => {
    const batches = await count('batch');
    const refusedBefore = await count('audit_event', sql`action = 'interface.refused'`);
    const now = () => String(Date.now());
    const plain = (data: unknown, enc = 'PLAIN', sig = 'PLAIN') => ({
      appId: testCred.appId,
      version: '1.0.0',
      timestamp: now(),
      encryptType: enc,
      signType: sig,
      data,
    });
    const calls: [string, unknown, string][] = [
      ['/umdl/reportOverdueData', plain(report(orgId)), '000101'],
      [
        '/qmdl/queryOverdueData',
        plain({ businessType: '01101', idType: '01', idNo: '350102199003071234', userName: '林晓梅', ehealthCardId: 'E1' }),
        '000101',
      ],
      ['/qmdl/getIntoMdlUrl', plain({ idType: '01', idNo: '350102199003071234', userName: '林晓梅' }, 'plain', 'plain'), '000101'],
      ['/ehc/queryEcAuthResult', plain({ orgId, idType: '01', idNo: '350102199003071234', userName: '林晓梅' }), '000101'],
      // SM4 encryption with PLAIN signing: decrypts, then the signature is refused.
      ['/umdl/reportOverdueData', { ...sealRequest(report(orgId), { ...testCred, signType: 'PLAIN' }) }, '000102'],
    ];
    for (const [path, body, code] of calls) {
      const env = await post(path, body);
      assert.equal(env.respCode, code, path);
      assert.equal(env.sign, undefined, 'no signature before authentication');
      assert.equal(env.encryptData, undefined);
      assert.equal(env.param, undefined);
    }
    // PLAIN from a production credential too.
    assert.equal(
      (await post('/umdl/reportOverdueData', sealRequest(report(orgId), { ...inst, encryptType: 'PLAIN', signType: 'PLAIN' }))).respCode,
      '000101',
    );
    assert.equal(await count('batch'), batches, 'nothing stored');
    assert.equal(await count('audit_event', sql`action = 'interface.refused'`), refusedBefore + calls.length + 1, 'each refusal audited');
  });

  it('makes no test credential: domain, CLI, activation', async () => {
    await assert.rejects(createApp(t.platform.db, t.platform.vault, { kind: 'institution', orgId, env: 'test' }), DeploymentError);
    await setAppStatus(t.platform.db, testCred.appId, 'disabled');
    await assert.rejects(setAppStatus(t.platform.db, testCred.appId, 'active'), DeploymentError, 'a test credential is not re-enabled');
    await t.platform.db.updateTable('app_credential').set({ status: 'active' }).where('app_id', '=', testCred.appId).execute();
    const dir = mkdtempSync(join(tmpdir(), 'mdl-prod-'));
    try {
      const c = capture();
      const args = ['apps', 'create', '--org-id', orgId, '--org-name', '测试医院', '--env', 'test'];
      assert.equal(await main(args, c.io, { MDL_DATA_DIR: dir, MDL_DEPLOYMENT: 'production', MDL_LOG_LEVEL: 'silent' }), 2);
      assert.match(c.text(), /test credentials belong to a sandbox/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the console offers production only and refuses a test credential', async () => {
    await createUser(t.platform, { username: 'op', role: 'operator', password: PASSWORD }, 'test').then(async (u) => {
      const jar = new Map<string, string>();
      const go = async (path: string, form?: Record<string, string>) => {
        const res = await fetch(t.url + path, {
          method: form ? 'POST' : 'GET',
          redirect: 'manual',
          headers: {
            cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
            ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
          },
          ...(form ? { body: new URLSearchParams(form).toString() } : {}),
        });
        for (const c of res.headers.getSetCookie()) {
          const [kv] = c.split(';');
          const [k, v] = kv!.split('=');
          jar.set(k!, v ?? '');
        }
        const text = await res.text();
        return { status: res.status, text, csrf: /name="_csrf" value="([^"]+)"/.exec(text)?.[1] ?? '' };
      };
      const login = await go('/console/login');
      const signed = await go('/console/login', {
        _csrf: login.csrf,
        username: 'op',
        password: PASSWORD,
        code: totp(base32Decode(u.totpSecret!), Date.now()),
      });
      assert.equal(signed.status, 303, signed.text.slice(0, 200));
      const page = await go(`/console/institutions/${orgId}`);
      assert.match(page.text, /<select name="env"><option value="prod" selected>生产<\/option><\/select>/);
      const made = await go(`/console/institutions/${orgId}/apps`, { _csrf: page.csrf, env: 'test' });
      assert.equal(made.status, 400);
      assert.match(made.text, /不能签发测试凭证/);
      assert.doesNotMatch(page.text, /id="sandbox-marker"/);
    });
  });

  it('serves no kiosk demo, loads no demo data, shows no 测试环境 marker', async () => {
    assert.equal((await fetch(`${t.url}/card/kiosk`)).status, 404);
    const home = await (await fetch(`${t.url}/`)).text();
    assert.doesNotMatch(home, /自助机演示|id="sandbox-marker"|测试环境/);
    await assert.rejects(seedDemo(t.platform), DeploymentError);
    for (const command of ['start', 'demo']) {
      const c = capture();
      const code = await main([command], c.io, { ...databaseEnv(), PORT: '0' });
      assert.equal(code, 1, c.text());
      assert.match(c.text(), /belongs to a sandbox/);
    }
    assert.equal(await count('app_credential', sql`app_id LIKE 'APPDEMO%'`), 0);
  });

  it('has no SMS outbox: no outbox page, and /card sign-in sends nothing without MDL_SMS_URL', async () => {
    assert.equal((await fetch(`${t.url}/card/sandbox/sms`)).status, 404);
    const form = await fetch(`${t.url}/card/login`);
    const cookie = form.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const _csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
    const res = await fetch(`${t.url}/card/login`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        _csrf,
        userName: '张三',
        idType: '01',
        idNo: '11010519491231002X',
        mobilePhone: '13900000001',
      }).toString(),
    });
    assert.equal(res.status, 503);
    assert.match(await res.text(), /短信服务暂不可用/);
    assert.equal(await count('sms_outbox', sql`true`), 0);
  });

  it('start-up refuses a database that holds a test credential, naming it; a production database is never opened as a sandbox', async () => {
    const c = capture();
    assert.equal(await main(['serve'], c.io, { ...databaseEnv(), PORT: '0' }), 1);
    assert.match(c.text(), new RegExp(`refusing to start a production deployment.*${testCred.appId} \\(${orgId}\\)`));
    assert.match(c.text(), /mdl apps disable/);
    const s = capture();
    assert.equal(await main(['serve'], s.io, { ...databaseEnv(), MDL_DEPLOYMENT: 'sandbox', PORT: '0' }), 1);
    assert.match(s.text(), /belongs to a production deployment and cannot be opened as a sandbox/);
  });

  /** The test platform's own database, for CLI commands: its PostgreSQL schema, or (PGlite) a data directory. */
  function databaseEnv(): Record<string, string> {
    const c = t.platform.config;
    if (!c.databaseUrl)
      return { MDL_DATA_DIR: onDisk.dir, MDL_MASTER_KEY: onDisk.key, MDL_DEPLOYMENT: 'production', MDL_LOG_LEVEL: 'silent' };
    return { DATABASE_URL: c.databaseUrl, MDL_DB_SCHEMA: c.dbSchema, MDL_MASTER_KEY: c.masterKey, MDL_LOG_LEVEL: 'silent' };
  }
  const onDisk = { dir: '', key: '' };
  before(async () => {
    if (t.platform.config.databaseUrl) return;
    // In-memory PGlite cannot be shared with a CLI command: the same production state on disk instead.
    onDisk.dir = mkdtempSync(join(tmpdir(), 'mdl-prod-db-'));
    const d = await startTestPlatform({ deployment: 'production', dataDir: onDisk.dir }, { queue: false });
    await upsertInstitution(d.platform.db, { orgId, orgName: '测试医院' });
    await d.platform.db
      .insertInto('app_credential')
      .values({
        app_id: testCred.appId,
        kind: 'institution',
        org_id: orgId,
        label: null,
        env: 'test',
        secret_enc: d.platform.vault.encrypt(testCred.secret),
        status: 'active',
      })
      .execute();
    onDisk.key = d.platform.config.masterKey;
    await d.close();
  });
  after(() => onDisk.dir && rmSync(onDisk.dir, { recursive: true, force: true }));
});
