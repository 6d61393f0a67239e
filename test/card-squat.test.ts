import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  addInstitution,
  base32Decode,
  createApp,
  createUser,
  startTestPlatform,
  totp,
  type TestInstitution,
  type TestPlatform,
} from '@mdl/platform/testing';
import { CardClient } from './support/card.js';
import { call } from './support/client.js';
import { residentId } from './support/people.js';

const PASSWORD = 'Correct-Horse-9';

/** A console session over real HTTP: the form's token, password and TOTP; returns the cookie and a page's CSRF token. */
async function consoleSession(base: string, username: string, secret: string) {
  const form = await fetch(`${base}/console/login`);
  const jar = form.headers.getSetCookie().map((c) => c.split(';')[0]);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const res = await fetch(`${base}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.join('; '), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, username, password: PASSWORD, code: totp(base32Decode(secret), Date.now()) }).toString(),
  });
  assert.equal(res.status, 303, 'console sign-in');
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

/**
 * Issue #12, the name squat: someone 领卡 with another person's ID number under a made-up name. A
 * self-registered name never blocks a verified source: ORG_EHC_004 from an institution answers with the
 * card and the real name, the squatter's phone and sessions are dropped, and the self-registration waits in
 * the console's review queue for an operator.
 */
describe('a self-registered name never blocks a verified source (real HTTP)', () => {
  let t: TestPlatform;
  let base = '';
  let inst: TestInstitution;
  const real = { userName: '谢冰莹', idNo: residentId('350102', '19060905', 61) };
  const squat = { userName: '谢某某', idNo: real.idNo, mobilePhone: '13512345678' };
  let squatter: CardClient;
  const ehc004 = (userName: string) =>
    call(base, '/ehc/queryEcAuthResult', inst.appId, inst.secret, {
      orgId: inst.orgId,
      type: '01',
      psnNo: 'P-61',
      idNo: real.idNo,
      idType: '01',
      userName,
    });

  before(async () => {
    t = await startTestPlatform({ ehcEnv: 'TEST', trustProxy: ['127.0.0.1'] }, { queue: false });
    base = await t.listen();
    t.platform.config.publicUrl = base;
    inst = await addInstitution(t.platform, 'H35010200031', { orgName: '福州市第一医院' });
  });
  after(() => t.close());

  it('ORG_EHC_004 answers with the card and the real name; the squatter loses phone and session', async () => {
    squatter = new CardClient(base, '198.51.100.7');
    const r = await squatter.signIn(squat, 'register');
    assert.equal(r.status, 303, 'the squatter registered and signed in with their own phone');
    const cardNo = /<dt>卡号<\/dt><dd>(\d+)</.exec((await squatter.request('/card')).body)![1];

    const answer = await ehc004(real.userName);
    assert.equal(answer.respCode, '000000', answer.respMsg);
    assert.equal(answer.payload!.userName, real.userName);
    assert.equal(answer.payload!.cardNo, cardNo, 'the same card');
    assert.equal(answer.payload!.mobilePhone, undefined, "hospitals no longer receive the squatter's phone");

    const after = await squatter.request('/card');
    assert.equal(after.status, 303, "the squatter's session ended");
    const again = await new CardClient(base, '198.51.100.8').signIn(squat);
    assert.equal(again.sent, false, 'the made-up name signs in no more');
    assert.equal(again.status, 400);

    // The real person keeps getting the card; a verified name is not overwritten by another verified source.
    assert.equal((await ehc004(real.userName)).respCode, '000000');
    const other = await ehc004('谢另一');
    assert.notEqual(other.respCode, '000000', 'a verified name still blocks a conflicting one');
  });

  it("the self-registration waits in the console's review queue; an operator decides once, audited", async () => {
    const u = await createUser(t.platform, { username: 'op.review', role: 'operator', password: PASSWORD }, 'test');
    const cookie = await consoleSession(base, 'op.review', u.totpSecret);
    const list = await fetch(`${base}/console/card-reviews`, { headers: { cookie } });
    const page = await list.text();
    assert.equal(list.status, 200);
    assert.ok(page.includes(squat.userName) && page.includes('135****5678'), 'the entry with its name and masked phone');
    const id = /action="\/console\/card-reviews\/(\d+)"/.exec(page)![1]!;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;
    const post = (body: Record<string, string>) =>
      fetch(`${base}/console/card-reviews/${id}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(body).toString(),
      });
    assert.equal((await post({ decision: 'restored' })).status, 403, 'no CSRF token, no decision');
    assert.equal((await post({ _csrf: csrf, decision: 'rejected', note: '电话核实为冒用' })).status, 303);
    assert.equal((await post({ _csrf: csrf, decision: 'restored' })).status, 303);
    const row = await t.platform.db.selectFrom('card_review').selectAll().where('id', '=', Number(id)).executeTakeFirstOrThrow();
    assert.equal(row.status, 'rejected', 'the first decision stands');
    const person = await t.platform.db.selectFrom('person').select('phone_enc').where('id', '=', row.person_id).executeTakeFirstOrThrow();
    assert.equal(person.phone_enc, null, 'no phone restored');
    const events = await t.platform.db
      .selectFrom('audit_event')
      .select(['action', 'actor_id'])
      .where('action', 'in', ['ehc.card.review.open', 'console.card_review.decide'])
      .execute();
    assert.deepEqual(events.map((e) => e.action).sort(), ['console.card_review.decide', 'ehc.card.review.open']);
    const open = await (await fetch(`${base}/console/card-reviews`, { headers: { cookie } })).text();
    assert.ok(!open.includes(squat.userName), 'gone from the open queue');
  });

  it('a phone-less card gets its phone only through the 闽政通 entry, proved by an SMS code', async () => {
    const orphan = { userName: '庐隐', idNo: residentId('350102', '19280504', 62), mobilePhone: '13622223333' };
    const made = await call(base, '/ehc/queryEcAuthResult', inst.appId, inst.secret, {
      orgId: inst.orgId,
      type: '01',
      psnNo: 'P-62',
      idNo: orphan.idNo,
      idType: '01',
      userName: orphan.userName,
    });
    assert.equal(made.respCode, '000000');
    const enter = async (appId: string, secret: string, extra: Record<string, string>) => {
      const r = await call(base, '/qmdl/getIntoMdlUrl', appId, secret, {
        idType: '01',
        idNo: orphan.idNo,
        userName: orphan.userName,
        ...extra,
      });
      assert.equal(r.respCode, '000000', r.respMsg);
      const res = await fetch(String(r.payload!.mdrUrl), { redirect: 'manual' });
      const cookie = res.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      return cookie;
    };
    // A hospital portal's entry is not the stronger path.
    const portal = await enter(inst.appId, inst.secret, { orgId: inst.orgId, ehealthCardId: String(made.payload!.ehealthCardId) });
    assert.equal((await fetch(`${base}/mdr/card-phone`, { headers: { cookie: portal } })).status, 403);
    assert.equal((await fetch(`${base}/mdr/card-phone`)).status, 403, 'nor no session');
    // Nor a form posted from the portal's session with that session's own token: refused before any code is sent.
    const portalPage = await (await fetch(`${base}/mdr/`, { headers: { cookie: portal } })).text();
    assert.doesNotMatch(portalPage, /id="card-phone"/, 'the portal session is not offered the page');
    const portalCsrf = /name="csrf" value="([^"]+)"/.exec(portalPage)![1]!;
    for (const [path, fields] of [
      ['/mdr/card-phone', { mobilePhone: orphan.mobilePhone }],
      ['/mdr/card-phone/verify', { challenge: 'x', code: '000000' }],
    ] as const) {
      const portalPost = await fetch(`${base}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: portal, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf: portalCsrf, ...fields }).toString(),
      });
      assert.equal(portalPost.status, 403, path);
      assert.match(await portalPost.text(), /无法绑定/, `${path}: the refusal page, not the stale-form page`);
    }

    const mzt = await createApp(t.platform.db, t.platform.vault, { kind: 'channel', env: 'prod', label: '闽政通' });
    const cookie = await enter(mzt.appId, mzt.secret, {});
    const overview = await (await fetch(`${base}/mdr/`, { headers: { cookie } })).text();
    assert.match(overview, /id="card-phone"/, 'the overview offers it');
    const form = await (await fetch(`${base}/mdr/card-phone`, { headers: { cookie } })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(form)![1]!;
    const post = async (path: string, body: Record<string, string>) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': '198.51.100.9' },
        body: new URLSearchParams(body).toString(),
      });
      return { status: res.status, body: await res.text() };
    };
    assert.equal((await post('/mdr/card-phone', { mobilePhone: orphan.mobilePhone })).status, 403, 'CSRF');
    const outbox = new CardClient(base);
    const mark = await outbox.mark();
    const sent = await post('/mdr/card-phone', { csrf, mobilePhone: orphan.mobilePhone });
    assert.equal(sent.status, 200);
    const challenge = /name="challenge" value="([^"]+)"/.exec(sent.body)![1]!;
    const code = (await outbox.sentSince(mark, orphan.mobilePhone))!;
    assert.match(code, /^\d{6}$/);
    assert.equal((await post('/mdr/card-phone/verify', { csrf, challenge, code: code === '000000' ? '000001' : '000000' })).status, 400);
    const done = await post('/mdr/card-phone/verify', { csrf, challenge, code });
    assert.equal(done.status, 200);
    assert.match(done.body, /绑定成功/);
    // Now the card signs in at /card with that phone and an SMS code.
    const signIn = await new CardClient(base, '198.51.100.10').signIn(orphan);
    assert.equal(signIn.status, 303);
    // And the page refuses a second binding.
    assert.equal((await fetch(`${base}/mdr/card-phone`, { headers: { cookie } })).status, 403);
  });
});
