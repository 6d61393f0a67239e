import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { addInstitution, startTestPlatform, type TestInstitution, type TestPlatform } from '@mdl/platform/testing';
import { CardClient, type CardIdentity } from './support/card.js';
import { call } from './support/client.js';
import { residentId } from './support/people.js';

/**
 * Issue #12, citizen sign-in on /card over real HTTP: a code by SMS to the phone of record (read from the
 * sandbox outbox), guessing throttled per identity and per address with growing delays, every failure reads
 * the same, phone-less cards are not claimed at sign-in, CSRF on every form, sessions end on logout, and
 * only the signed-in citizen decides on an authUrl.
 */
describe('/card sign-in under attack (real HTTP)', () => {
  let t: TestPlatform;
  let base = '';
  let inst: TestInstitution;
  let n = 0;
  /** A fresh client address per client, so one test's attempts do not throttle the next. */
  const client = () => new CardClient(base, `198.51.100.${++n}`);
  const person = (seq: number, userName: string): CardIdentity => ({
    userName,
    idNo: residentId('350203', '19740321', seq),
    mobilePhone: `139000${String(seq).padStart(5, '0')}`,
  });
  const register = async (who: CardIdentity) => {
    const r = await t.platform.ehc.registry.register({ idType: '01', ...who });
    assert.ok(!('problem' in r), JSON.stringify(r));
  };

  before(async () => {
    t = await startTestPlatform({ ehcEnv: 'TEST', trustProxy: ['127.0.0.1'] }, { queue: false });
    base = await t.listen();
    t.platform.config.publicUrl = base;
    inst = await addInstitution(t.platform, 'H35020300002', { orgName: '厦门市第二医院' });
  });
  after(() => t.close());

  it('signs in with the code sent to the phone of record; the code works once', async () => {
    const owner = person(18, '陈嘉庚');
    await register(owner);
    const c = client();
    const mark = await c.mark();
    const d = await c.details(owner);
    assert.equal(d.status, 200);
    const code = await c.sentSince(mark, owner.mobilePhone);
    assert.match(String(code), /^\d{6}$/, 'a 6-digit code in the outbox');
    // Three parallel submissions of the right code: one session.
    const tries = await Promise.all([1, 2, 3].map(() => c.code(d.challenge, code!)));
    assert.equal(tries.filter((r) => r.status === 303).length, 1, JSON.stringify(tries.map((r) => r.status)));
    const card = await c.request('/card');
    assert.equal(card.status, 200, 'signed in');
    // Stored hashed: the code is nowhere in the table.
    const rows = await t.platform.db.selectFrom('card_otp').selectAll().execute();
    assert.ok(!JSON.stringify(rows).includes(code!));
  });

  it('tells no card, wrong name, wrong phone and a phone-less card apart by nothing, and sends no SMS for them', async () => {
    const owner = person(21, '林语堂');
    await register(owner);
    const orphan = person(22, '冰心');
    // A card an institution made through ORG_EHC_004: no phone of record.
    const r = await call(base, '/ehc/queryEcAuthResult', inst.appId, inst.secret, {
      orgId: inst.orgId,
      type: '01',
      psnNo: 'P-22',
      idNo: orphan.idNo,
      idType: '01',
      userName: orphan.userName,
    });
    assert.equal(r.respCode, '000000', r.respMsg);
    const attempts = [
      { ...owner, idNo: residentId('350203', '19740321', 23) },
      { ...owner, userName: '林某' },
      { ...owner, mobilePhone: '13900000099' },
      orphan,
    ];
    const firstPages: string[] = [];
    const errors: string[] = [];
    for (const who of attempts) {
      const c = client();
      const out = await c.signIn(who);
      assert.equal(out.sent, false, `no SMS for ${JSON.stringify(who)}`);
      assert.equal(out.status, 400);
      errors.push(out.error);
      // The page after the details is the same code form, whatever was wrong.
      firstPages.push(out.details.body.replace(/value="[^"]*"/g, '').replace(/\d{3}\*{4}\d{4}/g, ''));
    }
    assert.equal(new Set(errors).size, 1, JSON.stringify(errors));
    assert.match(errors[0]!, /信息不正确/);
    assert.equal(new Set(firstPages).size, 1, 'one code page for every kind of failure');
    // Nor does 领卡 give the phone-less card to whoever comes first.
    const squatter = client();
    const claim = await squatter.signIn({ ...orphan, mobilePhone: '13811112222' }, 'register');
    assert.equal(claim.sent, false);
    assert.notEqual(claim.status, 303);
    const row = await t.platform.db
      .selectFrom('person')
      .select('phone_enc')
      .where('card_no', '=', String(r.payload!.cardNo))
      .executeTakeFirstOrThrow();
    assert.equal(row.phone_enc, null, 'the card still has no phone');
  });

  it('60 wrong phone numbers (from 60 addresses) and then the right one: the right one gets no code', async () => {
    const victim = person(30, '林巧稚');
    await register(victim);
    for (let i = 0; i < 60; i++) {
      const r = await client().details({ ...victim, mobilePhone: `1390000${String(1000 + i)}` });
      assert.equal(r.status, 200, `guess ${i}`);
    }
    const c = client();
    const right = await c.signIn(victim);
    assert.equal(right.sent, false, 'the identity is in its delay: no SMS');
    assert.equal(right.status, 400);
    assert.match(right.error, /信息不正确/);
    assert.equal(c.jar.get('ehc_citizen'), undefined, 'no card cookie');
  });

  it('one address trying 61 identities is held back too, with the same message', async () => {
    const c = client();
    const known = person(40, '黄道婆');
    await register(known);
    for (let i = 0; i < 60; i++) await c.details(person(100 + i, '某某'));
    const right = await c.signIn(known);
    assert.equal(right.sent, false);
    assert.match(right.error, /信息不正确/);
    const rows = await t.platform.db.selectFrom('auth_throttle').selectAll().where('key', '=', `card-ip:${c.ip}`).execute();
    assert.ok(rows[0]!.blocked_until && new Date(rows[0]!.blocked_until).getTime() > Date.now(), 'a delay is running');
  });

  it('five wrong codes spend the challenge: the right code is then refused', async () => {
    const who = person(41, '郑成功');
    await register(who);
    const c = client();
    const mark = await c.mark();
    const d = await c.details(who);
    const code = (await c.sentSince(mark, who.mobilePhone))!;
    const wrong = code === '111111' ? '222222' : '111111';
    for (let i = 0; i < 5; i++) assert.equal((await c.code(d.challenge, wrong)).status, 400);
    const late = await c.code(d.challenge, code);
    assert.equal(late.status, 400);
    assert.match(late.error, /信息不正确/);
  });

  it('login CSRF: a form without this browser’s token is refused, and nothing is sent', async () => {
    const who = person(42, '严复');
    await register(who);
    const c = client();
    const mark = await c.mark();
    // A cross-site form: no token, or a token of its own with no matching cookie.
    const bare = await c.request('/card/login', { form: { idType: '01', ...who } as Record<string, string> });
    assert.equal(bare.status, 403);
    await c.csrf();
    const forged = await c.request('/card/login', { form: { _csrf: 'x'.repeat(32), idType: '01', ...who } as Record<string, string> });
    assert.equal(forged.status, 403);
    assert.equal(await c.sentSince(mark, who.mobilePhone), undefined, 'no SMS');
    const verify = await new CardClient(base, c.ip).request('/card/verify', { form: { challenge: 'a'.repeat(43), code: '123456' } });
    assert.equal(verify.status, 403);
    // The sandbox kiosk's forms too: a foreign page cannot make the demo kiosk call the gateway.
    for (const path of ['/card/kiosk/qr', '/card/kiosk/scan', '/card/kiosk/scan/verify'])
      assert.equal((await c.request(path, { form: { appId: inst.appId, ehealthCode: 'x' } })).status, 403, path);
  });

  it('a card cookie no longer works after logout', async () => {
    const who = person(43, '萨镇冰');
    await register(who);
    const c = client();
    const ok = await c.signIn(who);
    assert.equal(ok.status, 303);
    const kept = c.jar.get('ehc_citizen')!;
    assert.equal((await c.request('/card')).status, 200, 'signed in');
    // Logout without the token is refused; with it the session ends.
    assert.equal((await c.request('/card/logout', { form: {} })).status, 403);
    const out = await c.request('/card/logout', { form: { _csrf: c.jar.get('ehc_csrf')! } });
    assert.equal(out.status, 303);
    c.jar.set('ehc_citizen', kept);
    const replay = await c.request('/card');
    assert.equal(replay.status, 303, 'the kept cookie is refused');
    assert.match(String(replay.location), /^\/card\/login/);
  });

  it("refusing someone else's authUrl needs that person's sign-in", async () => {
    const r = await call(base, '/ehc/genAuthUrl', inst.appId, inst.secret, { orgId: inst.orgId, outAuthNo: 'DENY-1' });
    assert.equal(r.respCode, '000000', r.respMsg);
    const path = new URL(String(r.payload!.authUrl)).pathname;
    const c = client();
    const _csrf = await c.csrf(path);
    const res = await c.request(path, { form: { _csrf, decision: 'deny' } });
    assert.equal(res.status, 303);
    assert.match(String(res.location), /^\/card\/login/);
    const q = await call(base, '/ehc/queryAuthResult', inst.appId, inst.secret, { orgId: inst.orgId, outAuthNo: 'DENY-1' });
    assert.deepEqual(q.payload, { authStatus: 'ing' }, 'still open');
  });
});

describe('/card sign-in through an HTTP SMS gateway (real HTTP)', () => {
  let t: TestPlatform;
  const received: { auth: string | undefined; body: { phone: string; text: string } }[] = [];
  const gateway = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ auth: req.headers.authorization, body: JSON.parse(body) as { phone: string; text: string } });
      res.writeHead(200).end('{"ok":true}');
    });
  });

  before(async () => {
    await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
    const smsUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/send`;
    t = await startTestPlatform({ ehcEnv: 'TEST', trustProxy: ['127.0.0.1'], smsUrl, smsCredential: 'sms-cred' }, { queue: false });
    await t.listen();
  });
  after(async () => {
    await t.close();
    gateway.close();
  });

  it('the code goes to the gateway, not to an outbox, and signs in', async () => {
    const who = { userName: '陈宝琛', idType: '01', idNo: residentId('350104', '19480410', 55), mobilePhone: '13711112222' };
    assert.ok(!('problem' in (await t.platform.ehc.registry.register(who))));
    const c = new CardClient(t.url, '198.51.100.200');
    assert.equal((await c.request('/card/sandbox/sms')).status, 404, 'no outbox page with a gateway');
    const d = await c.details(who);
    const deadline = Date.now() + 5000;
    while (!received.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(received.length, 1);
    assert.equal(received[0]!.auth, 'Bearer sms-cred');
    assert.equal(received[0]!.body.phone, who.mobilePhone);
    const code = /验证码 (\d{6})/.exec(received[0]!.body.text)![1]!;
    assert.equal((await c.code(d.challenge, code)).status, 303);
    assert.equal((await t.platform.db.selectFrom('sms_outbox').selectAll().execute()).length, 0);
  });
});
