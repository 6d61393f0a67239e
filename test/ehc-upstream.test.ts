import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CityCardClient,
  CityCardUnavailable,
  DEMO_INSURED,
  DEMO_REMOTE_INSURED,
  addInstitution,
  startTestPlatform,
  type TestInstitution,
  type TestPlatform,
} from '@mdl/platform/testing';
import { CardClient } from './support/card.js';
import { call } from './support/client.js';
import { CITY_APP_ID, CITY_SECRET, startSimulator, type Simulator } from './support/ehc-simulator.js';
import { residentId } from './support/people.js';

/**
 * MDL_EHC_REGISTRY=upstream end to end (issue #13 item 9): the platform's HTTP adapter against the city
 * e-health-card simulator running as a separate process, over real HTTP on loopback, on PGlite or on the
 * PostgreSQL at DATABASE_URL. ORG_EHC_004 is checked by the city, never issued by the platform.
 */
describe('city e-health-card system (MDL_EHC_REGISTRY=upstream)', () => {
  let sim: Simulator;
  let t: TestPlatform;
  let base: string;
  let h: TestInstitution;
  const settings = (url: string, over: Partial<{ secret: string; retries: number }> = {}) => ({
    url,
    appId: CITY_APP_ID,
    secret: over.secret ?? CITY_SECRET,
    timeoutMs: 3000,
    retries: over.retries ?? 2,
  });

  before(async () => {
    sim = await startSimulator();
    t = await startTestPlatform({ ehcRegistry: 'upstream', ehcUpstream: settings(sim.url), ehcEnv: 'TEST' }, { queue: false });
    base = await t.listen();
    h = await addInstitution(t.platform, 'H35010200001', { orgName: '福州市第一医院' });
  });
  after(async () => {
    await t?.close();
    await sim?.stop();
  });

  const ec = (over: Record<string, unknown>) => {
    const p = DEMO_INSURED[0]!;
    return call(base, '/ehc/queryEcAuthResult', h.appId, h.secret, {
      orgId: h.orgId,
      type: '01',
      psnNo: p.psnNo,
      idNo: p.idNo,
      idType: '01',
      userName: p.userName,
      ...over,
    });
  };
  const people = async () =>
    Number(
      (
        await t.platform.db
          .selectFrom('person')
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  const attempts = async (action: string) =>
    t.platform.db.selectFrom('audit_event').selectAll().where('action', '=', action).orderBy('id').execute();
  const cardOf = async (idNo: string) => {
    const key = t.platform.vault.personKey('01', idNo);
    return t.platform.db.selectFrom('person').selectAll().where('id_no_bidx', '=', key).executeTakeFirst();
  };

  it('ORG_EHC_004 answers the card the city holds for the insured person, mirrored into the master index', async () => {
    const r = await ec({});
    assert.equal(r.respCode, '000000', r.respMsg);
    assert.match(String(r.payload!.ehealthCardId), /^C35[0-9A-F]{30}$/);
    assert.equal(r.payload!.idNo, DEMO_INSURED[0]!.idNo);
    assert.equal(r.payload!.userName, DEMO_INSURED[0]!.userName);
    const again = await ec({});
    assert.equal(again.payload!.ehealthCardId, r.payload!.ehealthCardId);
    const row = await cardOf(DEMO_INSURED[0]!.idNo);
    assert.equal(row?.ehealth_card_id, r.payload!.ehealthCardId);
    // The 医保 number is checked by the city and not kept, not even as a blind index nobody looks up.
    assert.equal(row?.psn_no_bidx, null);
    // One audit event per call to the city, naming the institution and the person.
    const audited = await attempts('ehc.upstream.insured');
    assert.equal(audited.length, 2);
    assert.deepEqual(
      audited.map((e) => [e.outcome, e.org_id, e.subject_bidx, e.target]),
      Array(2).fill(['ok', h.orgId, row!.id_no_bidx, `${sim.url}/card/insured`]),
    );
    // The card holds for the 强校验 of an ORG_MDL_002 query at once (the read model knows it).
    const q = await call(base, '/qmdl/queryOverdueData', h.appId, h.secret, {
      orgId: h.orgId,
      businessType: '01101',
      idNo: DEMO_INSURED[0]!.idNo,
      idType: '01',
      userName: DEMO_INSURED[0]!.userName,
      ehealthCardId: r.payload!.ehealthCardId,
    });
    assert.equal(q.respCode, '000000', q.respMsg);
  });

  it('refuses a psnNo that is not this person’s (-2) and answers no card, for a known and for a new identity', async () => {
    const before = await people();
    const other = await ec({ psnNo: DEMO_INSURED[1]!.psnNo });
    assert.equal(other.respCode, '-2');
    assert.match(other.respMsg, /人员编号 psnNo 与证件信息不一致/);
    assert.equal(other.payload, undefined);
    const r = DEMO_REMOTE_INSURED;
    const fresh = await ec({ idNo: r.idNo, userName: r.userName, psnNo: DEMO_INSURED[0]!.psnNo, insuplcAdmdvs: r.insuplcAdmdvs });
    assert.equal(fresh.respCode, '-2');
    assert.equal(await cardOf(r.idNo), undefined);
    assert.equal(await people(), before);
  });

  it('checks type, cardNo and insuplcAdmdvs against the city’s records', async () => {
    const p = DEMO_INSURED[1]!;
    const who = { idNo: p.idNo, userName: p.userName, psnNo: p.psnNo };
    assert.match((await ec({ ...who, type: '02' })).respMsg, /须填写卡号 cardNo/);
    assert.match((await ec({ ...who, type: '02', cardNo: 'M99999' })).respMsg, /卡号 cardNo 与参保信息不一致/);
    assert.match((await ec({ ...who, insuplcAdmdvs: '350500' })).respMsg, /参保区划 insuplcAdmdvs 与参保信息不一致/);
    assert.equal(await cardOf(p.idNo), undefined);
    const ok = await ec({ ...who, type: '02', cardNo: p.insuranceCardNo, insuplcAdmdvs: p.insuplcAdmdvs });
    assert.equal(ok.respCode, '000000', ok.respMsg);
  });

  it('mirrors one card once when hospitals ask for the same person at the same moment', async () => {
    const d = DEMO_INSURED[2]!;
    const before = await people();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => ec({ idNo: d.idNo, userName: d.userName, psnNo: d.psnNo, insuplcAdmdvs: d.insuplcAdmdvs })),
    );
    for (const a of answers) assert.equal(a.respCode, '000000', a.respMsg);
    assert.equal(new Set(answers.map((a) => a.payload!.ehealthCardId)).size, 1);
    assert.equal(await people(), before + 1);
  });

  it('issues a card to an insured person only through the city: 异地参保 needs insuplcAdmdvs, the uninsured get none', async () => {
    const r = DEMO_REMOTE_INSURED;
    const who = { idNo: r.idNo, userName: r.userName, psnNo: r.psnNo };
    const missing = await ec(who);
    assert.equal(missing.respCode, '-2');
    assert.match(missing.respMsg, /异地参保人员须填写参保区划/);
    const first = await ec({ ...who, insuplcAdmdvs: r.insuplcAdmdvs });
    assert.equal(first.respCode, '000000', first.respMsg);
    assert.match(String(first.payload!.ehealthCardId), /^C35/);
    assert.equal((await ec({ ...who, insuplcAdmdvs: r.insuplcAdmdvs })).payload!.ehealthCardId, first.payload!.ehealthCardId);

    // A well-formed identity the city does not know as insured: refused, where the built-in registry would issue.
    const stranger = residentId('350102', '19950101', 77);
    const before = await people();
    const refused = await ec({ idNo: stranger, userName: '路人甲', psnNo: '35000000000000000000009999' });
    assert.equal(refused.respCode, '-2');
    assert.match(refused.respMsg, /未查到该证件的参保信息/);
    assert.equal(await people(), before);
    // A malformed ID never leaves the platform.
    const calls = (await attempts('ehc.upstream.insured')).length;
    const bad = await ec({ idNo: '350102199501010770', userName: '路人甲' });
    assert.equal(bad.respCode, '000105');
    assert.equal((await attempts('ehc.upstream.insured')).length, calls);
  });

  it('serves the card pages’ 领卡 and ORG_EHC_003 with the city’s card', async () => {
    const who = { userName: '郑海', idType: '01', idNo: residentId('350203', '19880808', 12), mobilePhone: '13500000009' };
    const registered = await t.platform.ehc.registry.register(who);
    assert.ok('person' in registered && registered.created, JSON.stringify(registered));
    assert.match(registered.person.ehealth_card_id, /^C35/);
    // The city checks the phone given at 领卡 on sign-in.
    assert.deepEqual(await t.platform.ehc.registry.signIn({ ...who, mobilePhone: '13500000000' }), {
      problem: '手机号与领卡时登记的不一致',
    });
    const signedIn = await t.platform.ehc.registry.signIn(who);
    assert.ok('person' in signedIn && signedIn.person.id === registered.person.id);
    const code = t.platform.ehc.codes.issue(registered.person.id, Date.now()).code;
    const r = await call(base, '/ehc/verifyQrCode', h.appId, h.secret, { orgId: h.orgId, ehealthCode: code });
    assert.equal(r.respCode, '000000', r.respMsg);
    assert.equal(r.payload!.ehealthCardId, registered.person.ehealth_card_id);
  });

  it('ORG_EHC_001/002: a citizen signs in on /card with the city’s card and the hospital gets that card', async () => {
    const d = DEMO_INSURED[3]!;
    const open = await call(base, '/ehc/genAuthUrl', h.appId, h.secret, { orgId: h.orgId, outAuthNo: 'UP-AUTH-1' });
    assert.equal(open.respCode, '000000', open.respMsg);
    const authUrl = String(open.payload!.authUrl);
    // Over /card: the details, then the SMS code read from the sandbox outbox (test/support/card.ts).
    const c = new CardClient(base);
    const path = new URL(authUrl).pathname;
    const login = await c.signIn({ userName: d.userName, idNo: d.idNo, mobilePhone: d.mobilePhone }, 'login', path);
    assert.equal(login.status, 303, login.body);
    const allow = await c.request(path, { form: { _csrf: c.jar.get('ehc_csrf')!, decision: 'allow' } });
    assert.equal(allow.status, 303);
    const q = await call(base, '/ehc/queryAuthResult', h.appId, h.secret, { orgId: h.orgId, outAuthNo: 'UP-AUTH-1' });
    assert.equal(q.payload!.authStatus, 'succ', JSON.stringify(q));
    assert.equal(q.payload!.ehealthCardId, (await cardOf(d.idNo))!.ehealth_card_id);
    assert.match(String(q.payload!.ehealthCardId), /^C35/);
    assert.equal(
      (await attempts('ehc.upstream.find')).filter((e) => e.subject_bidx === t.platform.vault.personKey('01', d.idNo)).length,
      1,
    );
  });

  it('tries a 5xx again and takes the answer; the city’s refusal of the credential is final', async () => {
    const flaky = await startSimulator(['--fail-first', '1']);
    try {
      const deps = {
        post: t.platform.post,
        db: t.platform.db,
        vault: t.platform.vault,
        log: t.platform.log,
        deployment: 'sandbox' as const,
      };
      const client = new CityCardClient({ ...deps, settings: settings(flaky.url) });
      const p = DEMO_INSURED[2]!;
      const card = await client.findCard({ ...p, idType: '01' }, { orgId: 'RETRY-TEST' });
      assert.ok(card && 'ehealthCardId' in card);
      const audited = (await attempts('ehc.upstream.find')).filter((e) => e.org_id === 'RETRY-TEST');
      assert.deepEqual(
        audited.map((e) => [e.outcome, e.detail?.replace(/ \(\d+ ms\)$/, '')]),
        [
          ['error', 'attempt 1/3: HTTP 503'],
          ['ok', 'attempt 2/3: ok'],
        ],
      );
      // The wrong secret: the city cannot open the call (000101); trying again would not help.
      const wrong = new CityCardClient({ ...deps, settings: settings(flaky.url, { secret: 'WrongSecret0123456789' }) });
      await assert.rejects(wrong.findCard({ ...p, idType: '01' }, { orgId: 'WRONG-KEY' }), CityCardUnavailable);
      const refused = (await attempts('ehc.upstream.find')).filter((e) => e.org_id === 'WRONG-KEY');
      assert.equal(refused.length, 1);
      assert.match(refused[0]!.detail!, /respCode 000101 加密数据无法解密/);
    } finally {
      await flaky.stop();
    }
  });

  it('does not try a timed-out call again (the city may have acted)', async () => {
    const slow = await startSimulator(['--delay-ms', '1500']);
    try {
      const client = new CityCardClient({
        post: t.platform.post,
        db: t.platform.db,
        vault: t.platform.vault,
        log: t.platform.log,
        deployment: 'sandbox',
        settings: { ...settings(slow.url), timeoutMs: 300 },
      });
      const p = DEMO_INSURED[2]!;
      await assert.rejects(client.issueCard({ ...p, idType: '01' }, { orgId: 'SLOW-TEST' }), CityCardUnavailable);
      const audited = (await attempts('ehc.upstream.issue')).filter((e) => e.org_id === 'SLOW-TEST');
      assert.deepEqual(
        audited.map((e) => [e.outcome, e.detail?.replace(/ \(\d+ ms\)$/, '')]),
        [['error', 'attempt 1/3: timeout']],
      );
    } finally {
      await slow.stop();
    }
  });

  it('on production: the city’s address passes the outbound policy first, and only a signed answer counts', async () => {
    const up = { ehcRegistry: 'upstream' as const, ehcUpstream: settings(sim.url, { retries: 2 }), reconcileCron: '', reminderCron: '' };
    const d = DEMO_INSURED[0]!;
    const ask = async (p: TestPlatform) => {
      const url = await p.listen();
      const inst = await addInstitution(p.platform, 'H35010200009');
      const r = await call(url, '/ehc/queryEcAuthResult', inst.appId, inst.secret, {
        orgId: inst.orgId,
        type: '01',
        psnNo: d.psnNo,
        idNo: d.idNo,
        idType: '01',
        userName: d.userName,
      });
      const audited = await p.platform.db.selectFrom('audit_event').selectAll().where('action', '=', 'ehc.upstream.insured').execute();
      return { r, audited };
    };
    // Loopback over http is not allowed on production unless listed: refused before any connection, not retried.
    const closed = await startTestPlatform({ ...up, deployment: 'production' }, { queue: false });
    try {
      const { r, audited } = await ask(closed);
      assert.equal(r.respCode, '-3');
      assert.equal(audited.length, 1);
      assert.match(audited[0]!.detail!, /outbound call refused: loopback address 127\.0\.0\.1 is not in MDL_OUTBOUND_ALLOW_CIDRS/);
    } finally {
      await closed.close();
    }
    const listed = { outboundAllowCidrs: '127.0.0.0/8', outboundHttpCidrs: '127.0.0.0/8' };
    const open = await startTestPlatform({ ...up, ...listed, deployment: 'production' }, { queue: false });
    try {
      const { r } = await ask(open);
      assert.equal(r.respCode, '000000', r.respMsg);
      assert.match(String(r.payload!.ehealthCardId), /^C35/);
    } finally {
      await open.close();
    }
  });

  it('with the city down: ORG_EHC_004 answers -3 (retryable) and writes nothing; the pages say so in words', async () => {
    await sim.stop();
    const r = DEMO_REMOTE_INSURED;
    const before = await people();
    const calls = (await attempts('ehc.upstream.insured')).length;
    const down = await ec({ idNo: DEMO_INSURED[3]!.idNo, userName: DEMO_INSURED[3]!.userName, psnNo: DEMO_INSURED[3]!.psnNo });
    assert.equal(down.respCode, '-3');
    assert.equal(down.respMsg, '电子健康卡系统繁忙，请稍后再试');
    assert.equal(down.payload, undefined);
    assert.equal(await people(), before);
    // A refused connection is tried again (2 retries), each attempt audited as an error.
    const audited = (await attempts('ehc.upstream.insured')).slice(calls);
    assert.deepEqual(
      audited.map((e) => e.outcome),
      ['error', 'error', 'error'],
    );
    const page = await t.platform.ehc.registry.register({ idType: '01', idNo: r.idNo, userName: r.userName, mobilePhone: r.mobilePhone });
    assert.deepEqual(page, { problem: '电子健康卡系统繁忙，请稍后再试' });
    assert.equal(await people(), before);
  });
});
