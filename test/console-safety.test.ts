import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createUser, fileAppeal, type TestInstitution, type TestPlatform } from '@mdl/platform/testing';
import { TestHospital } from './support/hospital.js';
import { assertAccessible, launchBrowser, readQr, screenshot } from './support/browser.js';
import { CONSOLE_PASSWORD, answerConfirm, batchRow, cardOf, report, signInBrowser, waitForBatch } from './support/console.js';
import { suiteScope } from './support/scope.js';
import { startWithHospital } from './support/suite.js';
import { eventually, residentId } from './support/people.js';

/**
 * Secrets and destructive actions in the console (issue #17 item 1), in headless Chromium at desktop size:
 * a secret is shown once on a page a reload cannot repeat, every destructive or bulk action asks first and
 * 取消 changes nothing, copy buttons copy, and a new operator's TOTP secret is a QR code that signs in.
 */
describe('console: secrets shown once, destructive actions confirmed', () => {
  let t: TestPlatform;
  let browser: Browser;
  let page: Page;
  let hospital: TestHospital;
  let inst: TestInstitution;
  let totpSecret = '';
  let staffTotp = '';
  const idNo = residentId('350102', '19790305', 17);
  const userName = '林志强';

  const scope = suiteScope();
  before(async () => {
    const suite = await startWithHospital(scope, [{ orgId: 'H35010200017', orgName: '福州市第十七医院' }], { callbackRetryLimit: 0 });
    ({ t, hospital } = suite);
    [inst] = suite.insts;
    const op = await createUser(t.platform, { username: 'op.safe', role: 'operator', password: CONSOLE_PASSWORD }, 'test');
    totpSecret = op.totpSecret!;
    // Every role signs in with a second factor (issue #12).
    staffTotp = (
      await createUser(t.platform, { username: 'staff.x', role: 'staff', orgId: inst.orgId, password: CONSOLE_PASSWORD }, 'test')
    ).totpSecret!;
    hospital.failNext = 1000;
    const card = await cardOf(t, inst, idNo, userName);
    const notify = `${hospital.url}/umdl/callback`;
    for (const [r, v] of [
      ['S-001', 'W1'],
      ['S-002', 'W2'],
    ]) {
      await report(t, inst, notify, r!, [
        { idNo, idType: '01', userName, ehealthCardId: card, items: [{ orgTraceId: v!, amount: '66.60' }] },
      ]);
      await waitForBatch(t, inst.orgId, r!, { callback: 'failed' });
    }
    browser = scope.add(await launchBrowser(), (b) => b.close());
    const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'zh-CN' });
    await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
    page = await ctx.newPage();
    await signInBrowser(page, t.url, 'op.safe', totpSecret);
  });

  const appCount = async () =>
    (await t.platform.db.selectFrom('app_credential').select('app_id').where('org_id', '=', inst.orgId).execute()).length;
  const appRow = (appId: string) =>
    t.platform.db.selectFrom('app_credential').selectAll().where('app_id', '=', appId).executeTakeFirstOrThrow();

  it('issues a credential through post/redirect/get: the secret is shown once and a reload issues nothing', async () => {
    const before = await appCount();
    await page.goto(`${t.url}/console/institutions/${inst.orgId}`);
    await page.click('#new-app button[type=submit]');
    await page.waitForURL(/\/console\/once\/app$/);
    const appId = await page.locator('#new-app-id').innerText();
    const secret = await page.locator('#new-secret').innerText();
    assert.equal(secret.length, 40);
    assert.equal(await appCount(), before + 1);
    await page.click('button[data-copy="new-secret"]');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), secret, 'the copy button copies the secret');
    assert.match(await page.locator('#new-secret-status').innerText(), /已复制/);
    await page.click('button[data-copy="new-app-id"]');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), appId);
    await assertAccessible(page, 'credential secret page');
    await screenshot(page, 'console-once-secret');

    await page.reload();
    await page.locator('#once-gone').waitFor();
    assert.equal(await page.locator('#new-secret').count(), 0);
    assert.doesNotMatch(await page.content(), new RegExp(secret), 'the secret is not shown again');
    assert.equal(await appCount(), before + 1, 'reloading created no credential');
    await screenshot(page, 'console-once-gone');
    await page.goBack();
    await page.goForward();
    assert.doesNotMatch(await page.content(), new RegExp(secret), 'nor after going back and forward');
    assert.equal(await appCount(), before + 1);
  });

  it('another account cannot open a sealed secret (the cookie is bound to who issued it)', async () => {
    await page.goto(`${t.url}/console/institutions/${inst.orgId}`);
    const csrf = await page.locator('#new-app input[name=_csrf]').inputValue();
    const r = await page.request.post(`${t.url}/console/institutions/${inst.orgId}/apps`, {
      form: { _csrf: csrf, env: 'test' },
      maxRedirects: 0,
    });
    assert.equal(r.status(), 303);
    const once = (await page.context().cookies()).find((c) => c.name === 'mdl_console_once');
    assert.ok(once, 'the POST set the sealed cookie');
    const other = await browser.newContext({ locale: 'zh-CN' });
    const staff = await other.newPage();
    await signInBrowser(staff, t.url, 'staff.x', staffTotp);
    assert.match(await staff.locator('header').innerText(), /福州市第十七医院/, "staff see their institution's name, not its code");
    await other.addCookies([once]);
    await staff.goto(`${t.url}/console/once/app`);
    await staff.locator('#once-gone').waitFor();
    assert.equal(await staff.locator('#new-secret').count(), 0);
    await other.close();
    await page.context().clearCookies({ name: 'mdl_console_once' });
  });

  it('更换密钥 and 停用 ask first; 取消 changes nothing', async () => {
    const appId = inst.appId;
    const before = await appRow(appId);
    await page.goto(`${t.url}/console/institutions/${inst.orgId}`);
    const row = page.locator('#apps tr', { hasText: appId });
    await row.locator('button', { hasText: '更换密钥' }).click();
    await screenshot(page, 'console-confirm-rotate');
    await answerConfirm(page, 'cancel', /旧密钥立即失效/);
    assert.match(page.url(), new RegExp(`/console/institutions/${inst.orgId}$`));
    assert.deepEqual(await appRow(appId), before, 'cancel rotated nothing');

    await row.locator('button', { hasText: '停用' }).click();
    await answerConfirm(page, 'cancel', /停用凭证/);
    assert.equal((await appRow(appId)).status, 'active', 'cancel disabled nothing');

    await row.locator('button', { hasText: '更换密钥' }).click();
    await answerConfirm(page, 'ok', /更换/);
    await page.waitForURL(/\/console\/once\/app$/);
    assert.match(await page.locator('h2').innerText(), /已更换/);
    assert.notEqual((await appRow(appId)).secret_enc, before.secret_enc, 'confirming rotates');

    await page.goto(`${t.url}/console/institutions/${inst.orgId}`);
    await page.locator('#apps tr', { hasText: appId }).locator('button', { hasText: '停用' }).click();
    await answerConfirm(page, 'ok', /停用凭证/);
    await page.waitForURL(/saved=1/);
    assert.equal((await appRow(appId)).status, 'disabled', 'confirming disables');
  });

  it('重发所选 with nothing ticked is an error; bulk and single resends ask first', async () => {
    const attempts = async () => {
      const rows = await t.platform.db.selectFrom('callback_attempt').select('batch_id').execute();
      return rows.length;
    };
    const start = await attempts();
    await page.goto(`${t.url}/console/callbacks`);
    const attemptsText = await page.locator('#attempts').innerText();
    assert.match(attemptsText, /未送达|医院接口返回错误/, 'why an attempt failed, in Chinese');
    assert.doesNotMatch(attemptsText, /respCode|hospital answered|ECONNREFUSED|\bok\b/);
    await page.click('#resend-selected');
    assert.match(await page.locator('#resend-selected-error').innerText(), /请先勾选/);
    assert.equal(await page.locator('#confirm-dialog[open]').count(), 0, 'nothing to confirm');
    await screenshot(page, 'console-resend-none-ticked');
    // Without the script (or a crafted request) the server says the same, in red.
    const status = await page.evaluate(async () => {
      const csrf = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
      const r = await fetch('/console/callbacks/resend', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `_csrf=${encodeURIComponent(csrf)}&scope=selected`,
      });
      return { url: r.url, text: await r.text() };
    });
    assert.match(status.url, /resendError=none/);
    assert.match(status.text, /没有勾选任何回调/);
    assert.doesNotMatch(status.text, /已重新排队 0/);

    await page.locator('#failed input[type=checkbox]').first().check();
    await page.click('#resend-selected');
    await answerConfirm(page, 'cancel', /所勾选/);
    await page.click('#resend-all');
    await answerConfirm(page, 'cancel', /全部 2 个/);
    const b1 = await batchRow(t, inst.orgId, 'S-001');
    await page.goto(`${t.url}/console/batches/${b1.id}`);
    await page.click('#resend');
    await answerConfirm(page, 'cancel', /重新向机构回调/);
    assert.equal(await attempts(), start, 'no callback was sent after three cancels');
    assert.equal((await batchRow(t, inst.orgId, 'S-001')).callback_status, 'failed');

    await page.goto(`${t.url}/console/callbacks`);
    await page.locator('#failed input[type=checkbox]').first().check();
    await page.click('#resend-selected');
    await answerConfirm(page, 'ok', /所勾选/);
    await page.waitForURL(/resent=1/);
    assert.match(await page.locator('#resend-result').innerText(), /已重新排队 1 个回调/);
    await waitForBatch(t, inst.orgId, 'S-001', { callback: 'failed' });
  });

  it('the dashboard agrees with itself: callback KPI and chart are the same figures, with failures in the data', async () => {
    // The resend of the test before may still be on its way: wait for its attempt to be recorded.
    const rows = await eventually(async () => {
      const all = await t.platform.db.selectFrom('callback_attempt').select('outcome').execute();
      assert.ok(all.filter((r) => r.outcome !== 'delivered').length >= 3, 'the data has failed callback attempts');
      return all;
    });
    const failedInDb = rows.filter((r) => r.outcome !== 'delivered').length;
    const okInDb = rows.length - failedInDb;
    await page.goto(`${t.url}/console`);
    await page.waitForSelector('#chart-callbacks[data-rendered="1"] canvas');
    const drawn = await page.evaluate(() => {
      const echarts = (window as unknown as { echarts: { getInstanceByDom: (n: Element) => { getOption: () => unknown } } }).echarts;
      const option = echarts.getInstanceByDom(document.getElementById('chart-callbacks')!).getOption() as {
        series: { name: string; data: number[] }[];
      };
      const total = (name: string) => option.series.find((x) => x.name === name)!.data.reduce((a, b) => a + Number(b), 0);
      return { ok: total('成功'), bad: total('失败') };
    });
    const kpiText = await page.locator('#kpi-callbacks').innerText();
    assert.deepEqual(drawn, { ok: okInDb, bad: failedInDb }, 'the chart draws what the database holds');
    assert.match(kpiText, new RegExp(`成功 ${okInDb} 次 · 失败 ${failedInDb} 次`), 'the KPI says the same as its chart');
    const rate = okInDb + failedInDb ? `${((okInDb / (okInDb + failedInDb)) * 100).toFixed(1)}%` : '—';
    assert.ok(kpiText.includes(rate), `the rate ${rate} follows from the same figures`);
    const unpaid = await t.platform.db.selectFrom('arrears_item').select('amount_fen').where('state', '=', '0').execute();
    const fen = unpaid.reduce((a, r) => a + Number(r.amount_fen), 0);
    const yuan = `¥${Math.floor(fen / 100).toLocaleString('en-US')}.${String(fen % 100).padStart(2, '0')}`;
    assert.ok((await page.locator('#kpi-unpaid').innerText()).includes(yuan), `amounts read ${yuan}`);
    await assertAccessible(page, 'dashboard');
    await screenshot(page, 'console-dashboard-agrees');
    await page.click('#kpi-callbacks');
    await page.waitForURL(/\/console\/callbacks$/);
    await page.goto(`${t.url}/console`);
    await page.click('#kpi-unpaid');
    await page.waitForURL(/\/console\/items\?state=0$/);
  });

  it('an appeal decision asks first; 取消 leaves the appeal open and the record unpaid', async () => {
    const item = await t.platform.db
      .selectFrom('arrears_item')
      .select(['id', 'subject_bidx'])
      .where('org_trace_id', '=', 'W2')
      .executeTakeFirstOrThrow();
    const appeal = await fileAppeal(t.platform.db, {
      itemId: item.id,
      subjectBidx: item.subject_bidx,
      reason: 'not_me',
      description: '当天未就诊',
      actor: 'citizen',
    });
    await page.goto(`${t.url}/console/appeals/${appeal.id}`);
    await page.selectOption('#f-decision', 'upheld');
    await page.click('#decide-form button[type=submit]');
    await screenshot(page, 'console-confirm-appeal');
    await answerConfirm(page, 'cancel', /撤销该欠费记录/);
    const still = await t.platform.db.selectFrom('appeal').select('status').where('id', '=', appeal.id).executeTakeFirstOrThrow();
    assert.equal(still.status, 'open');
    const state = await t.platform.db.selectFrom('arrears_item').select('state').where('id', '=', item.id).executeTakeFirstOrThrow();
    assert.equal(state.state, '0', 'cancel revoked nothing');
    await page.click('#decide-form button[type=submit]');
    await answerConfirm(page, 'ok', /裁决/);
    await page.locator('#decision').waitFor();
    assert.match(await page.locator('#item-state').innerText(), /已撤销/);
  });

  it('creates an operator through post/redirect/get with the TOTP secret as a QR code that signs in; 停用 asks first', async () => {
    await page.goto(`${t.url}/console/users`);
    await page.fill('#f-username', 'op.new');
    await page.selectOption('#f-role', 'operator');
    await page.fill('#f-password', CONSOLE_PASSWORD);
    await page.click('#user-form button[type=submit]');
    await page.waitForURL(/\/console\/once\/user$/);
    const secret = await page.locator('#totp-secret').innerText();
    const uri = await readQr(page, '#totp-qr');
    assert.match(uri, /^otpauth:\/\/totp\//);
    assert.equal(new URL(uri).searchParams.get('secret'), secret, 'the QR holds the same secret');
    await assertAccessible(page, 'new operator page');
    await screenshot(page, 'console-user-totp-qr');
    await page.reload();
    await page.locator('#once-gone').waitFor();
    const users = await t.platform.db.selectFrom('console_user').select('id').where('username', '=', 'op.new').execute();
    assert.equal(users.length, 1, 'reloading created no second account');

    const ctx = await browser.newContext({ locale: 'zh-CN' });
    const newOp = await ctx.newPage();
    await signInBrowser(newOp, t.url, 'op.new', secret);
    await ctx.close();

    await page.goto(`${t.url}/console/users`);
    const row = page.locator('#users tr', { hasText: 'op.new' });
    await row.locator('button', { hasText: '停用' }).click();
    await answerConfirm(page, 'cancel', /停用账户 op\.new/);
    const active = await t.platform.db
      .selectFrom('console_user')
      .select('status')
      .where('username', '=', 'op.new')
      .executeTakeFirstOrThrow();
    assert.equal(active.status, 'active', 'cancel disabled nothing');
    await row.locator('button', { hasText: '停用' }).click();
    await answerConfirm(page, 'ok', /停用账户/);
    await page.waitForURL(/\/console\/users$/);
    const disabled = await t.platform.db
      .selectFrom('console_user')
      .select('status')
      .where('username', '=', 'op.new')
      .executeTakeFirstOrThrow();
    assert.equal(disabled.status, 'disabled');
  });
});
