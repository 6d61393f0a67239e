import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { startTestPlatform, testItem, type TestPlatform } from '../../testing.js';
import { upsertInstitution } from '../credentials.js';
import { sql } from 'kysely';
import { createUser, IDLE_MS, LOCK_AFTER_FAILURES, LOCK_MS, SIGN_IN_FAILED } from './auth.js';
import { base32Decode, totp } from './totp.js';

const PASSWORD = 'Correct-Horse-9';

/** A browser's worth of state for app.inject: cookies and the last CSRF token seen on a page. */
class Agent {
  cookies = new Map<string, string>();
  csrf = '';
  constructor(readonly app: FastifyInstance) {}
  private cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  private keep(res: { cookies: { name: string; value: string; maxAge?: number; expires?: Date }[]; body: string }) {
    for (const c of res.cookies) {
      if (c.value === '' || (c.expires && c.expires.getTime() < Date.now())) this.cookies.delete(c.name);
      else this.cookies.set(c.name, c.value);
    }
    const m = /name="_csrf" value="([^"]+)"/.exec(res.body);
    if (m) this.csrf = m[1]!;
  }
  async get(url: string) {
    const res = await this.app.inject({ method: 'GET', url, headers: { cookie: this.cookieHeader() } });
    this.keep(res);
    return res;
  }
  async post(url: string, form: Record<string, string | string[]>, csrf: string | null = this.csrf) {
    const pairs = Object.entries({ ...form, ...(csrf !== null ? { _csrf: csrf } : {}) }).flatMap(([k, v]) =>
      (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, x]),
    );
    const body = new URLSearchParams(pairs).toString();
    const res = await this.app.inject({
      method: 'POST',
      url,
      payload: body,
      headers: { cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
    });
    this.keep(res);
    return res;
  }
  async signIn(username: string, password: string, code?: string) {
    await this.get('/console/login');
    return this.post('/console/login', { username, password, code: code ?? nextCode(username) });
  }
}

let clock = Date.parse('2026-03-02T02:00:00Z');
const secrets = new Map<string, string>();
const lastStep = new Map<string, number>();
/** A code of the user's next unused TOTP step, moving the injected clock on when the window is spent. */
function nextCode(username: string): string {
  const secret = secrets.get(username);
  if (!secret) return '';
  const step = Math.max((lastStep.get(username) ?? 0) + 1, Math.floor(clock / 30_000) - 1);
  while (step > Math.floor(clock / 30_000) + 1) clock += 30_000;
  lastStep.set(username, step);
  return totp(base32Decode(secret), step * 30_000);
}

describe('console sign-in, sessions and CSRF (inject, injected clock)', () => {
  let t: TestPlatform;
  let totpSecret = '';
  const code = () => nextCode('op');

  before(async () => {
    t = await startTestPlatform({ consoleLoginPerAddress: 10_000 }, { queue: false, now: () => clock });
    await upsertInstitution(t.platform.db, { orgId: 'H1', orgName: '甲医院' });
    await upsertInstitution(t.platform.db, { orgId: 'H2', orgName: '乙医院' });
    const op = await createUser(t.platform, { username: 'op', role: 'operator', password: PASSWORD }, 'test');
    totpSecret = op.totpSecret;
    secrets.set('op', totpSecret);
    const aud = await createUser(t.platform, { username: 'aud', role: 'auditor', password: PASSWORD }, 'test');
    secrets.set('aud', aud.totpSecret);
    const staff = await createUser(t.platform, { username: 'staff1', role: 'staff', orgId: 'H1', password: PASSWORD }, 'test');
    secrets.set('staff1', staff.totpSecret);
  });
  after(() => t.close());

  it('rejects weak passwords, staff without an institution, duplicate names', async () => {
    await assert.rejects(createUser(t.platform, { username: 'weak', role: 'auditor', password: 'short' }, 't'), /密码长度/);
    await assert.rejects(createUser(t.platform, { username: 'x1', role: 'staff', password: PASSWORD }, 't'), /机构/);
    await assert.rejects(createUser(t.platform, { username: 'x2', role: 'staff', orgId: 'NOPE', password: PASSWORD }, 't'), /不存在/);
    await assert.rejects(createUser(t.platform, { username: 'op', role: 'auditor', password: PASSWORD }, 't'), /已存在/);
    const row = await t.platform.db
      .selectFrom('console_user')
      .select(['password_hash', 'totp_secret_enc'])
      .where('username', '=', 'op')
      .executeTakeFirstOrThrow();
    assert.match(row.password_hash, /^scrypt\$131072\$8\$1\$/);
    assert.equal(row.totp_secret_enc!.includes(totpSecret), false, 'the TOTP secret is sealed');
  });

  it('pages need a session', async () => {
    const a = new Agent(t.app);
    const res = await a.get('/console/batches');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/console/login');
  });

  it('an operator needs the TOTP code, and a code is good once', async () => {
    const a = new Agent(t.app);
    let res = await a.signIn('op', PASSWORD, '');
    assert.equal(res.statusCode, 401);
    assert.match(res.body, /用户名、密码或动态口令不正确/);
    const c = totp(base32Decode(totpSecret), clock);
    lastStep.set('op', Math.floor(clock / 30_000));
    res = await a.signIn('op', PASSWORD, c);
    assert.equal(res.statusCode, 303, res.body);
    assert.equal(res.headers.location, '/console');
    assert.equal((await a.get('/console')).statusCode, 200);
    const b = new Agent(t.app);
    res = await b.signIn('op', PASSWORD, c);
    assert.equal(res.statusCode, 401, 'the same code cannot sign in twice');
    const logins = await t.platform.db
      .selectFrom('audit_event')
      .select(['outcome', 'detail'])
      .where('action', '=', 'console.login')
      .where('actor_id', '=', 'op')
      .orderBy('id')
      .execute();
    assert.deepEqual(
      logins.map((l) => l.outcome),
      ['refused', 'ok', 'refused'],
    );
    // Reset the failure counter for the next tests.
    clock += 60_000;
    assert.equal((await new Agent(t.app).signIn('op', PASSWORD, code())).statusCode, 303);
  });

  it(`locks the account after ${LOCK_AFTER_FAILURES} failures, even for the right password, until the lock ends`, async () => {
    const a = new Agent(t.app);
    for (let i = 0; i < LOCK_AFTER_FAILURES; i++) {
      // No code: counted and refused before the (slow) password hash.
      const res = await a.signIn('aud', 'Wrong-password-1', '');
      assert.equal(res.statusCode, 401);
      assert.ok(res.body.includes(SIGN_IN_FAILED), 'the same message for every failure');
    }
    let res = await a.signIn('aud', PASSWORD);
    assert.equal(res.statusCode, 401);
    assert.ok(res.body.includes(SIGN_IN_FAILED), 'locked: the same message as a wrong password');
    clock += LOCK_MS + 1000;
    res = await a.signIn('aud', PASSWORD);
    assert.equal(res.statusCode, 303, 'the lock ends after its time');
    const events = await t.platform.db
      .selectFrom('audit_event')
      .select('detail')
      .where('action', '=', 'console.login')
      .where('actor_id', '=', 'aud')
      .where('outcome', '=', 'refused')
      .execute();
    assert.ok(events.some((e) => e.detail === 'locked'));
    assert.ok(events.some((e) => /; locked/.test(e.detail ?? '')));
  });

  it('ends a session after 30 idle minutes, and keeps an active one alive', async () => {
    const a = new Agent(t.app);
    assert.equal((await a.signIn('staff1', PASSWORD)).statusCode, 303);
    clock += IDLE_MS - 60_000;
    assert.equal((await a.get('/console/batches')).statusCode, 200, 'still within 30 minutes');
    clock += IDLE_MS - 60_000;
    assert.equal((await a.get('/console/batches')).statusCode, 200, 'activity moved the idle deadline');
    clock += IDLE_MS + 1000;
    const res = await a.get('/console/batches');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/console/login?expired=1');
    assert.equal(a.cookies.has('mdl_console'), false, 'the cookie is cleared');
    const ev = await t.platform.db
      .selectFrom('audit_event')
      .select('detail')
      .where('action', '=', 'console.session.expire')
      .where('actor_id', '=', 'staff1')
      .executeTakeFirst();
    assert.equal(ev?.detail, 'idle');
  });

  it('refuses a form without the session’s CSRF token, and accepts it with', async () => {
    const a = new Agent(t.app);
    clock += 60_000;
    assert.equal((await a.signIn('op', PASSWORD, code())).statusCode, 303);
    await a.get('/console/policy');
    const form = { maxAgeDays: '20', maxTotalYuan: '800', maxCount: '4', note: '' };
    let res = await a.post('/console/policy', form, null);
    assert.equal(res.statusCode, 403);
    assert.match(res.body, /CSRF/);
    res = await a.post('/console/policy', form, 'forged-token');
    assert.equal(res.statusCode, 403);
    assert.equal((await t.platform.policy.get()).maxAgeDays, 15, 'nothing changed');
    res = await a.post('/console/policy', form);
    assert.equal(res.statusCode, 303);
    assert.equal((await t.platform.policy.get()).maxAgeDays, 20);
    const refused = await t.platform.db.selectFrom('audit_event').select('id').where('action', '=', 'console.csrf').execute();
    assert.equal(refused.length, 2);
    // The login form has its own (double-submit) token.
    const b = new Agent(t.app);
    await b.get('/console/login');
    res = await b.post('/console/login', { username: 'aud', password: PASSWORD }, 'not-the-cookie');
    assert.equal(res.statusCode, 403);
  });

  it('edits the coverage policy (§1.2.3) with a preview; an auditor may only read it', async () => {
    const a = new Agent(t.app);
    clock += 60_000;
    assert.equal((await a.signIn('op', PASSWORD, code())).statusCode, 303);
    const page = await a.get('/console/coverage');
    assert.equal(page.statusCode, 200);
    assert.doesNotMatch(/id="current-coverage">([^<]*)/.exec(page.body)![1]!, /急诊/, '急诊 is not covered by default');
    const before = await t.platform.coverage.get();
    const form = {
      medTypes: [...before.medTypes, '13'],
      feeTypes: ['01', '02'],
      maxAgeDays: '180',
      maxFutureMinutes: '5',
      minAmountYuan: '1.00',
    };
    const bad = await a.post('/console/coverage/preview', { ...form, feeTypes: [], maxAgeDays: '0' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /至少选择一个费用类别/);
    const preview = await a.post('/console/coverage/preview', form);
    assert.equal(preview.statusCode, 200);
    assert.match(preview.body, /id="coverage-refused">\d+</);
    assert.deepEqual(await t.platform.coverage.get(), before, 'a preview changes nothing');
    const saved = await a.post('/console/coverage', form);
    assert.equal(saved.statusCode, 303);
    const now = await t.platform.coverage.get();
    assert.ok(now.medTypes.includes('13'));
    assert.equal(now.maxAgeDays, 180);
    assert.equal(now.minAmountFen, 100);
    const ev = await t.platform.db.selectFrom('audit_event').select('actor_id').where('action', '=', 'coverage.update').execute();
    assert.deepEqual(
      ev.map((e) => e.actor_id),
      ['op'],
    );
    const aud = new Agent(t.app);
    assert.equal((await aud.signIn('aud', PASSWORD)).statusCode, 303);
    assert.equal((await aud.get('/console/coverage')).statusCode, 200);
    assert.equal((await aud.post('/console/coverage', form)).statusCode, 403);
  });

  it('an auditor reads but may not act; staff may not read the audit trail', async () => {
    const a = new Agent(t.app);
    assert.equal((await a.signIn('aud', PASSWORD)).statusCode, 303);
    assert.equal((await a.get('/console/policy')).statusCode, 200);
    assert.equal((await a.post('/console/policy/preview', { maxAgeDays: '1', maxTotalYuan: '1', maxCount: '1' })).statusCode, 403);
    assert.equal((await a.get('/console/institutions/new')).statusCode, 403);
    const s = new Agent(t.app);
    assert.equal((await s.signIn('staff1', PASSWORD)).statusCode, 303);
    assert.equal((await s.get('/console/audit')).statusCode, 403);
    assert.equal((await s.get('/console/institutions/H2')).statusCode, 404, 'another institution is not found');
    assert.equal((await s.get('/console/institutions/H1')).statusCode, 200);
    const list = await s.get('/console/institutions');
    assert.doesNotMatch(list.body, /乙医院/);
  });

  it('signs out', async () => {
    const a = new Agent(t.app);
    assert.equal((await a.signIn('staff1', PASSWORD)).statusCode, 303);
    await a.get('/console');
    const res = await a.post('/console/logout', {});
    assert.equal(res.statusCode, 303);
    assert.equal((await a.get('/console')).statusCode, 303);
  });

  it('an operator unlocks a locked account from the accounts page', async () => {
    const a = new Agent(t.app);
    for (let i = 0; i < LOCK_AFTER_FAILURES; i++) await a.signIn('staff1', 'Wrong-password-1', '');
    assert.ok((await a.signIn('staff1', PASSWORD)).body.includes(SIGN_IN_FAILED));
    const op = new Agent(t.app);
    clock += 60_000;
    assert.equal((await op.signIn('op', PASSWORD, code())).statusCode, 303);
    const page = await op.get('/console/users');
    assert.match(page.body, /已锁定/);
    const id = (await t.platform.db.selectFrom('console_user').select('id').where('username', '=', 'staff1').executeTakeFirstOrThrow()).id;
    assert.equal((await op.post(`/console/users/${id}/status`, { status: 'active' })).statusCode, 303);
    assert.equal((await a.signIn('staff1', PASSWORD)).statusCode, 303);
  });

  it('shows the reminder outbox and reconciliation results of the citizen app, scoped for staff', async () => {
    const op = new Agent(t.app);
    clock += 60_000;
    assert.equal((await op.signIn('op', PASSWORD, code())).statusCode, 303);
    const db = t.platform.db;
    const item = (orgId: string, trace: string) => testItem({ trace_id: trace, org_id: orgId, actual_time: new Date(clock) });
    const rows = await db
      .insertInto('arrears_item')
      .values([item('H1', 'TRC-H1'), item('H2', 'TRC-H2')])
      .returning(['id', 'org_id'])
      .execute();
    for (const r of rows) {
      await sql`INSERT INTO item_refresh (item_id, status, attempts, last_state, last_detail, last_attempt_at)
        VALUES (${r.id}, 'failed', 2, NULL, ${`timeout <b>${r.org_id}</b>`}, now())`.execute(db);
    }
    await sql`INSERT INTO reminder (subject_bidx, person_id, channel, status, unpaid_count, total_fen, org_summary, message, link, period_key)
      VALUES ('s-x', NULL, 'outbox', 'sent', 2, 12345, ${JSON.stringify([{ orgId: 'H1', orgName: '甲医院', count: 2, amountFen: 12345 }])},
              '您在甲医院有 2 笔欠费 <script>x</script>', 'http://127.0.0.1/mdr/', '2026-03-02')`.execute(db);
    const rem = await op.get('/console/reminders');
    assert.equal(rem.statusCode, 200);
    assert.match(rem.body, /123\.45/);
    assert.match(rem.body, /&lt;script&gt;x/);
    const rec = await op.get('/console/reconciliation?status=failed');
    assert.match(rec.body, /TRC-H1/);
    assert.match(rec.body, /TRC-H2/);
    assert.match(rec.body, /timeout &lt;b&gt;H1/);
    const s = new Agent(t.app);
    assert.equal((await s.signIn('staff1', PASSWORD)).statusCode, 303);
    assert.equal((await s.get('/console/reminders')).statusCode, 403, 'a reminder spans institutions: not for staff');
    const own = await s.get('/console/reconciliation');
    assert.match(own.body, /TRC-H1/);
    assert.doesNotMatch(own.body, /TRC-H2/);
  });

  it('embeds dashboard data so that no institution name can close the script element', async () => {
    await upsertInstitution(t.platform.db, { orgId: 'H1', orgName: '</script><script>alert(1)</script>' });
    const op = new Agent(t.app);
    clock += 60_000;
    assert.equal((await op.signIn('op', PASSWORD, code())).statusCode, 303);
    const res = await op.get('/console');
    assert.equal(res.statusCode, 200);
    assert.equal(res.body.includes('<script>alert(1)'), false);
    assert.match(res.body, /\\u003c\/script>\\u003cscript>alert\(1\)/);
    assert.match(String(res.headers['content-security-policy']), /script-src 'self'/);
    const data = /<script type="application\/json" id="dashboard-data">(.*?)<\/script>/s.exec(res.body)![1]!;
    const parsed = JSON.parse(data) as { byInstitution: { orgName: string }[] };
    assert.ok(
      parsed.byInstitution.some((i) => i.orgName === '</script><script>alert(1)</script>'),
      'the name survives intact as data',
    );
    const js = await op.get('/console/assets/echarts.min.js');
    assert.equal(js.statusCode, 200);
    assert.ok(js.body.length > 500_000, 'ECharts is served locally');
  });

  it('lets a user change their own password, ending their other sessions', async () => {
    const a = new Agent(t.app);
    const other = new Agent(t.app);
    clock += 60_000;
    assert.equal((await a.signIn('aud', PASSWORD)).statusCode, 303);
    assert.equal((await other.signIn('aud', PASSWORD)).statusCode, 303);
    await a.get('/console/password');
    let res = await a.post('/console/password', { current: 'nope', next: 'New-Password-77', confirm: 'New-Password-77' });
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /id="f-current-error"[^>]*>当前密码不正确/);
    res = await a.post('/console/password', { current: PASSWORD, next: 'weak', confirm: 'weak' });
    assert.match(res.body, /id="f-next-error"/);
    res = await a.post('/console/password', { current: PASSWORD, next: 'New-Password-77', confirm: 'New-Password-78' });
    assert.match(res.body, /id="f-confirm-error"/);
    res = await a.post('/console/password', { current: PASSWORD, next: 'New-Password-77', confirm: 'New-Password-77' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /密码已修改/);
    assert.equal((await a.get('/console')).statusCode, 200, 'this session goes on');
    assert.equal((await other.get('/console')).statusCode, 303, 'the other session ended');
    assert.equal((await new Agent(t.app).signIn('aud', PASSWORD)).statusCode, 401);
    assert.equal((await new Agent(t.app).signIn('aud', 'New-Password-77')).statusCode, 303);
  });
});
