import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addInstitution, startTestPlatform, type TestPlatform } from '../../testing.js';
import { createUser } from './auth.js';
import { base32Decode, totp } from './totp.js';

const PASSWORD = 'Correct-Horse-9';

/** A browser of one: keeps the cookies the console sets, posts forms with the page's CSRF token. */
class Client {
  cookies = new Map<string, string>();
  constructor(readonly base: string) {}
  #keep(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      this.cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
  }
  get cookie() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  async get(path: string) {
    const res = await fetch(this.base + path, { headers: { cookie: this.cookie }, redirect: 'manual' });
    this.#keep(res);
    return { status: res.status, body: await res.text() };
  }
  async post(path: string, form: Record<string, string>, csrfFrom = path) {
    const page = await this.get(csrfFrom);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const res = await fetch(this.base + path, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: this.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, ...form }).toString(),
    });
    this.#keep(res);
    return { status: res.status, body: await res.text() };
  }
  signIn(username: string, password: string, code: string) {
    return this.post('/console/login', { username, password, code });
  }
}

describe('second factor per institution (issue #12 item 3, real HTTP)', () => {
  let t: TestPlatform;
  let base = '';
  const secrets = new Map<string, string>();
  const code = (user: string, offsetSteps = 0) => totp(base32Decode(secrets.get(user)!), Date.now() + offsetSteps * 30_000);

  before(async () => {
    t = await startTestPlatform({ consoleLoginPerAddress: 10_000 }, { queue: false });
    base = await t.listen();
    await addInstitution(t.platform, 'H35010200001');
    await addInstitution(t.platform, 'H35010200002');
    for (const [username, role, orgId] of [
      ['op', 'operator', null],
      ['legacy', 'staff', 'H35010200001'],
      ['enrolled', 'staff', 'H35010200001'],
      ['newbie', 'staff', 'H35010200002'],
      ['aud', 'auditor', null],
    ] as const) {
      const u = await createUser(t.platform, { username, role, password: PASSWORD, orgId }, 'test');
      secrets.set(username, u.totpSecret);
    }
    // Accounts from before every account had a factor (or whose factor was removed).
    await t.platform.db
      .updateTable('console_user')
      .set({ totp_secret_enc: null })
      .where('username', 'in', ['legacy', 'newbie', 'aud'])
      .execute();
  });
  after(() => t?.close());

  it('an operator enforces the second factor for an institution; its staff without one are then refused', async () => {
    assert.equal((await new Client(base).signIn('legacy', PASSWORD, '')).status, 303, 'not enforced: the password alone opens');
    const op = new Client(base);
    assert.equal((await op.signIn('op', PASSWORD, code('op'))).status, 303);
    const set = await op.post('/console/institutions/H35010200001/second-factor', { required: '1' }, '/console/institutions/H35010200001');
    assert.equal(set.status, 303);
    const row = await t.platform.db
      .selectFrom('institution')
      .select('require_totp')
      .where('org_id', '=', 'H35010200001')
      .executeTakeFirstOrThrow();
    assert.equal(row.require_totp, true);
    const events = await t.platform.db.selectFrom('audit_event').selectAll().where('action', '=', 'institution.require_totp').execute();
    assert.equal(events.length, 1);
    assert.equal(events[0]!.actor_id, 'op');
    assert.equal(events[0]!.org_id, 'H35010200001');

    const refused = await new Client(base).signIn('legacy', PASSWORD, '');
    assert.equal(refused.status, 401);
    assert.equal((await new Client(base).signIn('legacy', PASSWORD, '123456')).status, 401);
    // Staff with a factor: a wrong code is refused, the right one opens.
    assert.equal((await new Client(base).signIn('enrolled', PASSWORD, '000000')).status, 401);
    assert.equal((await new Client(base).signIn('enrolled', PASSWORD, code('enrolled'))).status, 303);
    // Another institution's staff are not affected.
    assert.equal((await new Client(base).signIn('newbie', PASSWORD, '')).status, 303);
  });

  it('staff may not change the setting', async () => {
    const staff = new Client(base);
    assert.equal((await staff.signIn('enrolled', PASSWORD, code('enrolled', 1))).status, 303);
    const r = await staff.post('/console/institutions/H35010200002/second-factor', { required: '1' }, '/console');
    assert.equal(r.status, 403);
    const row = await t.platform.db
      .selectFrom('institution')
      .select('require_totp')
      .where('org_id', '=', 'H35010200002')
      .executeTakeFirstOrThrow();
    assert.equal(row.require_totp, false);
  });

  it('an auditor without a factor is refused', async () => {
    assert.equal((await new Client(base).signIn('aud', PASSWORD, '')).status, 401);
  });

  it('a staff account enrols TOTP; sign-in then requires it', async () => {
    const c = new Client(base);
    assert.equal((await c.signIn('newbie', PASSWORD, '')).status, 303);
    const page = await c.get('/console/second-factor');
    const secret = /id="totp-secret">([A-Z2-7]+)</.exec(page.body)![1]!;
    const bad = await c.post(
      '/console/second-factor',
      { sealed: /name="sealed" value="([^"]+)"/.exec(page.body)![1]!, code: '000000' },
      '/console/second-factor',
    );
    assert.equal(bad.status, 400);
    // The sealed proposal names the account: another account cannot confirm it.
    const other = new Client(base);
    assert.equal((await other.signIn('op', PASSWORD, code('op', 1))).status, 303);
    const sealed = /name="sealed" value="([^"]+)"/.exec(page.body)![1]!;
    const stolen = await other.post(
      '/console/second-factor',
      { sealed, code: totp(base32Decode(secret), Date.now()) },
      '/console/second-factor',
    );
    assert.equal(stolen.status, 400);
    // A fresh proposal for newbie (the page makes a new one each time); confirm it with its code.
    const again = await c.get('/console/second-factor');
    const secret2 = /id="totp-secret">([A-Z2-7]+)</.exec(again.body)![1]!;
    const ok = await c.post(
      '/console/second-factor',
      { sealed: /name="sealed" value="([^"]+)"/.exec(again.body)![1]!, code: totp(base32Decode(secret2), Date.now()) },
      '/console/second-factor',
    );
    assert.equal(ok.status, 200);
    assert.match(ok.body, /id="totp-done"/);
    const enrol = await t.platform.db.selectFrom('audit_event').selectAll().where('action', '=', 'console.totp.enrol').execute();
    assert.equal(enrol.length, 1);
    assert.equal((await new Client(base).signIn('newbie', PASSWORD, '')).status, 401, 'the password alone no longer opens');
    assert.equal((await new Client(base).signIn('newbie', PASSWORD, totp(base32Decode(secret2), Date.now() + 30_000))).status, 303);
  });
});
