import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../../testing.js';
import { createUser, LOCK_AFTER_FAILURES, SIGN_IN_FAILED } from './auth.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import { base32Decode, totp } from './totp.js';
import { scryptSync, randomBytes } from 'node:crypto';

const PASSWORD = 'Correct-Horse-9';

/** One sign-in over real HTTP: fetch the form (its double-submit token), post it, return status and message. */
async function signInHttp(base: string, username: string, password: string, code: string) {
  const form = await fetch(`${base}/console/login`);
  const cookie = form.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const res = await fetch(`${base}/console/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf, username, password, code }).toString(),
  });
  const body = await res.text();
  return { status: res.status, message: /id="login-error">([^<]*)</.exec(body)?.[1] };
}

describe('console sign-in under attack (real HTTP)', () => {
  let t: TestPlatform;
  let base = '';
  const secrets = new Map<string, string>();
  const code = (user: string, offsetSteps = 0) => totp(base32Decode(secrets.get(user)!), Date.now() + offsetSteps * 30_000);

  before(async () => {
    t = await startTestPlatform({ consoleLoginPerAddress: 10_000 }, { queue: false });
    base = await t.listen();
    for (const [username, role] of [
      ['victim', 'auditor'],
      ['totp.user', 'operator'],
      ['plain', 'auditor'],
      ['gone', 'auditor'],
    ] as const) {
      const u = await createUser(t.platform, { username, role, password: PASSWORD }, 'test');
      secrets.set(username, u.totpSecret);
    }
  });
  after(() => t.close());

  it('12 parallel wrong passwords lock the account; the right password is then refused', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => signInHttp(base, 'victim', `Wrong-password-${i}`, code('victim'))),
    );
    assert.ok(results.every((r) => r.status === 401));
    const row = await t.platform.db
      .selectFrom('console_user')
      .select(['locked_until'])
      .where('username', '=', 'victim')
      .executeTakeFirstOrThrow();
    assert.ok(row.locked_until && row.locked_until.getTime() > Date.now(), 'the account is locked');
    const right = await signInHttp(base, 'victim', PASSWORD, code('victim', 1));
    assert.equal(right.status, 401, 'the right password does not open a locked account');
    const refused = await t.platform.db
      .selectFrom('audit_event')
      .select('detail')
      .where('action', '=', 'console.login')
      .where('actor_id', '=', 'victim')
      .execute();
    const checked = refused.filter((e) => !/^locked$/.test(e.detail ?? ''));
    assert.equal(checked.length, LOCK_AFTER_FAILURES, 'only as many attempts as the limit reached the checks');
    assert.equal(refused.length, 13);
  });

  it('one TOTP code in 3 parallel sign-ins opens one session', async () => {
    const c = code('totp.user');
    const results = await Promise.all([1, 2, 3].map(() => signInHttp(base, 'totp.user', PASSWORD, c)));
    assert.deepEqual(results.map((r) => r.status).sort(), [303, 401, 401]);
    const sessions = await t.platform.db
      .selectFrom('console_session as s')
      .innerJoin('console_user as u', 'u.id', 's.user_id')
      .select('s.token_hash')
      .where('u.username', '=', 'totp.user')
      .execute();
    assert.equal(sessions.length, 1);
  });

  it('answers every failure with one message: unknown user, wrong password, missing code, disabled, locked', async () => {
    await t.platform.db.updateTable('console_user').set({ status: 'disabled' }).where('username', '=', 'gone').execute();
    const messages = [
      await signInHttp(base, 'nobody-here', PASSWORD, '123456'),
      await signInHttp(base, 'plain', 'Wrong-password-1', code('plain')),
      await signInHttp(base, 'plain', PASSWORD, ''),
      await signInHttp(base, 'gone', PASSWORD, code('gone')),
      await signInHttp(base, 'victim', PASSWORD, code('victim', -1)),
    ];
    for (const m of messages) {
      assert.equal(m.status, 401);
      assert.equal(m.message, SIGN_IN_FAILED);
    }
    // An auditor without the code is refused even with the right password; with it, signed in.
    assert.equal((await signInHttp(base, 'plain', PASSWORD, code('plain', 1))).status, 303);
  });
});

describe('console sign-in: per-address limit (real HTTP)', () => {
  let t: TestPlatform;
  after(() => t?.close());

  it('refuses an address past its limit before the password is checked, with the same message', async () => {
    t = await startTestPlatform({ consoleLoginPerAddress: 3 }, { queue: false });
    const base = await t.listen();
    const u = await createUser(t.platform, { username: 'busy', role: 'auditor', password: PASSWORD }, 'test');
    for (let i = 0; i < 3; i++) assert.equal((await signInHttp(base, `someone${i}`, PASSWORD, '000000')).status, 401);
    const r = await signInHttp(base, 'busy', PASSWORD, totp(base32Decode(u.totpSecret), Date.now()));
    assert.equal(r.status, 401, 'the right credentials from a throttled address are refused');
    assert.equal(r.message, SIGN_IN_FAILED);
    const ev = await t.platform.db.selectFrom('audit_event').select('detail').where('actor_id', '=', 'busy').executeTakeFirstOrThrow();
    assert.equal(ev.detail, 'address limit');
  });
});

describe('password hashes', () => {
  it('new hashes use N=2^17; an old N=2^15 hash verifies and asks for a re-hash', async () => {
    const fresh = await hashPassword(PASSWORD);
    assert.match(fresh, /^scrypt\$131072\$8\$1\$/);
    assert.equal(needsRehash(fresh), false);
    const salt = randomBytes(16);
    const oldKey = scryptSync(PASSWORD, salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    const old = `scrypt$32768$8$1$${salt.toString('base64')}$${oldKey.toString('base64')}`;
    assert.equal(await verifyPassword(PASSWORD, old), true);
    assert.equal(needsRehash(old), true);
  });

  it('refuses parameters out of bounds read back from a stored hash, without deriving', async () => {
    const salt = randomBytes(16).toString('base64');
    const key = randomBytes(32).toString('base64');
    for (const planted of [
      `scrypt$1073741824$8$1$${salt}$${key}`,
      `scrypt$131072$64$1$${salt}$${key}`,
      `scrypt$131072$8$99$${salt}$${key}`,
      `scrypt$1000$8$1$${salt}$${key}`,
    ]) {
      assert.equal(await verifyPassword(PASSWORD, planted), false, planted);
    }
  });

  it('an old hash is replaced on sign-in', async () => {
    const t = await startTestPlatform({}, { queue: false });
    try {
      const u = await createUser(t.platform, { username: 'old', role: 'auditor', password: PASSWORD }, 'test');
      const salt = randomBytes(16);
      const oldKey = scryptSync(PASSWORD, salt, 32, { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
      const old = `scrypt$32768$8$1$${salt.toString('base64')}$${oldKey.toString('base64')}`;
      await t.platform.db.updateTable('console_user').set({ password_hash: old }).where('id', '=', u.user.id).execute();
      const base = await t.listen();
      assert.equal((await signInHttp(base, 'old', PASSWORD, totp(base32Decode(u.totpSecret), Date.now()))).status, 303);
      const row = await t.platform.db
        .selectFrom('console_user')
        .select('password_hash')
        .where('id', '=', u.user.id)
        .executeTakeFirstOrThrow();
      assert.match(row.password_hash, /^scrypt\$131072\$/);
    } finally {
      await t.close();
    }
  });
});
