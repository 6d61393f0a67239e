import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addInstitution, startTestPlatform, type TestInstitution, type TestPlatform } from '@mdl/platform/testing';
import { PlatformClient, PlatformError } from '@mdl/hospital';
import { call } from './support/client.js';
import { residentId } from './support/people.js';

/**
 * ORG_EHC_001/002/003 over real HTTP through the gateway: the rules a hospital integration meets, and
 * the bad input of issue #3. The browser flows are in ehc-flows.test.ts.
 */
describe('e-health-card interfaces: rules and bad input', () => {
  let t: TestPlatform;
  let base: string;
  let a: TestInstitution;
  let b: TestInstitution;

  before(async () => {
    t = await startTestPlatform({ ehcEnv: 'TEST' }, { queue: false });
    base = await t.listen();
    t.platform.config.publicUrl = base;
    a = await addInstitution(t.platform, 'H35010200001', { orgName: '福州市第一医院' });
    b = await addInstitution(t.platform, 'H35020300002', { orgName: '厦门市第二医院' });
  });
  after(async () => t.close());

  const gen = (who: TestInstitution, outAuthNo: string, extra: Record<string, unknown> = {}) =>
    call(base, '/ehc/genAuthUrl', who.appId, who.secret, { orgId: who.orgId, outAuthNo, ...extra });
  const query = (who: TestInstitution, outAuthNo: string, orgId = who.orgId) =>
    call(base, '/ehc/queryAuthResult', who.appId, who.secret, { orgId, outAuthNo });

  it('answers an authUrl under PUBLIC_URL, at most 200 characters, and no mini-program jump when none is configured', async () => {
    const r = await gen(a, 'A-001');
    assert.equal(r.respCode, '000000', r.respMsg);
    const url = String(r.payload!.authUrl);
    assert.ok(url.startsWith(`${base}/card/auth/`), url);
    assert.ok(url.length <= 200);
    assert.equal(r.payload!.wxMiniAppId, undefined);
    assert.equal(r.payload!.wxMiniPath, undefined);
    assert.deepEqual((await query(a, 'A-001')).payload, { authStatus: 'ing' });
  });

  it('answers the same link to the same outAuthNo while the session is open (a retried call)', async () => {
    const first = await gen(a, 'A-002');
    const again = await gen(a, 'A-002');
    assert.equal(again.respCode, '000000');
    assert.equal(again.payload!.authUrl, first.payload!.authUrl);
  });

  it('keeps outAuthNo per institution: another orgId is refused (-4), another institution does not see it', async () => {
    await gen(a, 'A-003');
    const forOther = await call(base, '/ehc/genAuthUrl', a.appId, a.secret, { orgId: b.orgId, outAuthNo: 'A-003' });
    assert.equal(forOther.respCode, '-4');
    const peek = await call(base, '/ehc/queryAuthResult', a.appId, a.secret, { orgId: b.orgId, outAuthNo: 'A-003' });
    assert.equal(peek.respCode, '-4');
    const bQuery = await query(b, 'A-003');
    assert.equal(bQuery.respCode, '-2');
    assert.match(bQuery.respMsg, /不存在/);
    assert.equal(bQuery.payload, undefined);
    // B may use the same number for a session of its own.
    const bOwn = await gen(b, 'A-003');
    assert.equal(bOwn.respCode, '000000');
    assert.notEqual(bOwn.payload!.authUrl, (await gen(a, 'A-003')).payload!.authUrl);
  });

  it('refuses an unknown outAuthNo, one over 32 characters, and a bad authSource', async () => {
    const unknown = await query(a, 'NEVER-ISSUED');
    assert.equal(unknown.respCode, '-2');
    assert.match(unknown.respMsg, /外部授权流水号 NEVER-ISSUED 不存在/);
    const long = await gen(a, 'X'.repeat(33));
    assert.equal(long.respCode, '000105');
    assert.match(long.respMsg, /outAuthNo/);
    const src = await gen(a, 'A-004', { extData: { authSource: 'ALIPAY' } });
    assert.equal(src.respCode, '000105');
    assert.match(src.respMsg, /authSource/);
    assert.equal((await query(a, 'A-004')).respCode, '-2', 'a refused call opens no session');
  });

  it('refuses malformed, 129-character, forged and other-environment codes with no identity', async () => {
    const verify = (code: string) => call(base, '/ehc/verifyQrCode', a.appId, a.secret, { orgId: a.orgId, ehealthCode: code });
    const person = await call(base, '/ehc/queryEcAuthResult', a.appId, a.secret, {
      orgId: a.orgId,
      type: '01',
      psnNo: 'P-9',
      idNo: residentId('350102', '19851212', 9),
      idType: '01',
      userName: '陈建国',
    });
    assert.equal(person.respCode, '000000');
    const row = await t.platform.db
      .selectFrom('person')
      .select('id')
      .where('ehealth_card_id', '=', String(person.payload!.ehealthCardId))
      .executeTakeFirstOrThrow();
    const good = t.platform.ehc.codes.issue(row.id, Date.now()).code;
    const ok = await verify(good);
    assert.equal(ok.respCode, '000000', ok.respMsg);
    assert.equal(ok.payload!.ehealthCardId, person.payload!.ehealthCardId);

    const cases: [string, RegExp, string][] = [
      ['not-a-code', /格式不正确/, '000105'],
      ['E'.repeat(129), /ehealthCode/, '000105'],
      [good.slice(0, -3) + (good.endsWith('AAA') ? 'BBB' : 'AAA'), /签名无效/, '-2'],
      [good.replace('.TEST.', '.PROD.'), /不属于本平台环境（码环境 PROD，本环境 TEST）/, '-2'],
    ];
    for (const [code, msg, respCode] of cases) {
      const r = await verify(code);
      assert.equal(r.respCode, respCode, code);
      assert.match(r.respMsg, msg);
      assert.equal(r.payload, undefined);
    }
    const refused = await t.platform.db
      .selectFrom('audit_event')
      .selectAll()
      .where('action', '=', 'ehc.code.verify')
      .where('outcome', '=', 'refused')
      .execute();
    assert.equal(refused.length, 3, 'refusals after the schema check are audited (the 129-character one never reaches the handler)');
  });

  it('a health code verifies once: replayed at a second hospital or in parallel it is refused; the reply holds only the required fields', async () => {
    const verify = (who: TestInstitution, code: string) =>
      call(base, '/ehc/verifyQrCode', who.appId, who.secret, { orgId: who.orgId, ehealthCode: code });
    const person = await call(base, '/ehc/queryEcAuthResult', a.appId, a.secret, {
      orgId: a.orgId,
      type: '01',
      psnNo: 'P-R',
      idNo: residentId('350102', '19800505', 55),
      idType: '01',
      userName: '林则徐',
    });
    assert.equal(person.respCode, '000000', person.respMsg);
    const row = await t.platform.db
      .selectFrom('person')
      .select('id')
      .where('ehealth_card_id', '=', String(person.payload!.ehealthCardId))
      .executeTakeFirstOrThrow();
    const code = t.platform.ehc.codes.issue(row.id, Date.now()).code;
    const first = await verify(a, code);
    assert.equal(first.respCode, '000000', first.respMsg);
    assert.deepEqual(Object.keys(first.payload!).sort(), ['cardNo', 'cardType', 'ehealthCardId', 'idNo', 'idType', 'userName']);
    const replay = await verify(b, code);
    assert.equal(replay.respCode, '-2');
    assert.match(replay.respMsg, /已被核验/);
    assert.equal(replay.payload, undefined, 'no identity for a replayed code');
    assert.equal((await verify(a, code)).respCode, '-2', 'not at the first hospital again either');
    // Three kiosks scanning one fresh code at once: one answer with the card.
    const fresh = t.platform.ehc.codes.issue(row.id, Date.now()).code;
    const parallel = await Promise.all([verify(a, fresh), verify(b, fresh), verify(a, fresh)]);
    assert.deepEqual(parallel.map((r) => r.respCode).sort(), ['-2', '-2', '000000']);
    const lifetime = t.platform.ehc.codes.issue(row.id, 0).expiresAt;
    assert.equal(lifetime, 60_000, 'a code lives 60 s by default');
  });

  it("works with the hospital kit's typed client (packages/hospital) as a hospital would call it", async () => {
    const client = new PlatformClient({ baseUrl: base, appId: a.appId, secret: a.secret, retryBaseMs: 20 });
    const link = await client.genAuthUrl({ orgId: a.orgId, outAuthNo: 'KIT-1' });
    assert.ok(link.authUrl.startsWith(`${base}/card/auth/`));
    assert.equal((await client.queryAuthResult({ orgId: a.orgId, outAuthNo: 'KIT-1' })).authStatus, 'ing');
    const card = await client.queryEcAuthResult({
      orgId: a.orgId,
      type: '01',
      psnNo: 'P-K',
      idNo: residentId('350102', '19770707', 77),
      idType: '01',
      userName: '郑成功',
    });
    const row = await t.platform.db
      .selectFrom('person')
      .select('id')
      .where('ehealth_card_id', '=', card.ehealthCardId)
      .executeTakeFirstOrThrow();
    const verified = await client.verifyQrCode({
      orgId: a.orgId,
      ehealthCode: t.platform.ehc.codes.issue(row.id, Date.now()).code,
    });
    assert.equal(verified.ehealthCardId, card.ehealthCardId);
    await assert.rejects(
      client.verifyQrCode({ orgId: a.orgId, ehealthCode: 'EHC1.TEST.x.y' }),
      (e: unknown) => e instanceof PlatformError && e.respCode === '000105',
    );
  });
});
