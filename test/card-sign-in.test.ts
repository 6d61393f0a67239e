import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addInstitution, startTestPlatform, type TestInstitution, type TestPlatform } from '@mdl/platform/testing';
import { call } from './support/client.js';
import { residentId } from './support/people.js';

/**
 * Issue #12, citizen sign-in on /card over real HTTP: guessing is throttled per identity, every failure
 * reads the same, and only the signed-in citizen decides on an authUrl.
 */
describe('/card sign-in under attack (real HTTP)', () => {
  let t: TestPlatform;
  let base = '';
  let inst: TestInstitution;
  const owner = { userName: '陈嘉庚', idType: '01', idNo: residentId('350203', '19740321', 18), mobilePhone: '13900000018' };

  before(async () => {
    t = await startTestPlatform({ ehcEnv: 'TEST' }, { queue: false });
    base = await t.listen();
    t.platform.config.publicUrl = base;
    inst = await addInstitution(t.platform, 'H35020300002', { orgName: '厦门市第二医院' });
    const r = await t.platform.ehc.registry.register(owner);
    assert.ok(!('problem' in r));
  });
  after(() => t.close());

  const signIn = async (who: Record<string, string>, ip?: string) => {
    const res = await fetch(`${base}/card/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(ip ? { 'x-forwarded-for': ip } : {}) },
      body: new URLSearchParams({ next: '/card', ...who }).toString(),
    });
    const body = await res.text();
    return {
      status: res.status,
      error: /class="[^"]*error[^"]*"[^>]*>([^<]+)</.exec(body)?.[1] ?? /(信息不正确[^<]*)/.exec(body)?.[1] ?? '',
      cookie: res.headers.get('set-cookie'),
    };
  };

  it('tells no card, wrong name and wrong phone apart by nothing', async () => {
    const messages = [
      await signIn({ ...owner, idNo: residentId('350203', '19740321', 19) }),
      await signIn({ ...owner, userName: '陈某' }),
      await signIn({ ...owner, mobilePhone: '13900000099' }),
    ];
    for (const m of messages) assert.ok(m.status >= 400 && m.error.includes('信息不正确'), JSON.stringify(m));
    assert.equal(new Set(messages.map((m) => m.error)).size, 1, 'one message');
    // The right details now: counted attempts so far are 3 of 5, so it signs in.
    const ok = await signIn(owner);
    assert.equal(ok.status, 303);
  });

  it('a card cookie no longer works after logout', async () => {
    const ok = await signIn(owner);
    assert.equal(ok.status, 303);
    const cookie = ok.cookie!.split(';')[0]!;
    const card = await fetch(`${base}/card`, { headers: { cookie }, redirect: 'manual' });
    assert.equal(card.status, 200, 'signed in');
    const out = await fetch(`${base}/card/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    assert.equal(out.status, 303);
    const replay = await fetch(`${base}/card`, { headers: { cookie }, redirect: 'manual' });
    assert.equal(replay.status, 303, 'the kept cookie is refused');
    assert.match(String(replay.headers.get('location')), /^\/card\/login/);
  });

  it('60 wrong phone numbers and then the right one: the right one is refused too', async () => {
    const victim = { userName: '林巧稚', idType: '01', idNo: residentId('350102', '19011223', 20), mobilePhone: '13900000020' };
    assert.ok(!('problem' in (await t.platform.ehc.registry.register(victim))));
    for (let i = 0; i < 60; i++) {
      const r = await signIn({ ...victim, mobilePhone: `1390000${String(1000 + i)}` });
      assert.ok(r.status >= 400, `guess ${i}`);
    }
    const right = await signIn(victim);
    assert.notEqual(right.status, 303, 'no sign-in after the guesses');
    assert.ok(right.error.includes('信息不正确'));
    assert.equal(right.cookie, null, 'no card cookie');
  });

  it("refusing someone else's authUrl needs that person's sign-in", async () => {
    const r = await call(base, '/ehc/genAuthUrl', inst.appId, inst.secret, { orgId: inst.orgId, outAuthNo: 'DENY-1' });
    assert.equal(r.respCode, '000000', r.respMsg);
    const url = String(r.payload!.authUrl);
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'decision=deny',
    });
    assert.equal(res.status, 303);
    assert.match(String(res.headers.get('location')), /^\/card\/login/);
    const q = await call(base, '/ehc/queryAuthResult', inst.appId, inst.secret, { orgId: inst.orgId, outAuthNo: 'DENY-1' });
    assert.deepEqual(q.payload, { authStatus: 'ing' }, 'still open');
  });
});
