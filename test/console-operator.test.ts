import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { chinaDate } from '@mdl/protocol';
import type { Browser, Page } from 'playwright-core';
import { type TestInstitution, type TestPlatform, createUser } from '@mdl/platform/testing';
import { TestHospital } from './support/hospital.js';
import { call } from './support/client.js';
import { desktopPage, launchBrowser, phonePage, screenshot } from './support/browser.js';
import { residentId, eventually } from './support/people.js';
import { CONSOLE_PASSWORD, answerConfirm, batchRow, cardOf, chartSizes, report, signInBrowser, waitForBatch } from './support/console.js';
import { suiteScope } from './support/scope.js';
import { startWithHospital } from './support/suite.js';

/**
 * The operator's console in headless Chromium (desktop size), against a platform whose callbacks give
 * up at once (retry limit 0) and a test hospital that is down, then recovers.
 */
describe('operator console in a real browser', () => {
  let t: TestPlatform;
  let browser: Browser;
  let page: Page;
  let staffPage: Page;
  let hospital: TestHospital;
  let inst: TestInstitution;
  let totpSecret = '';
  let staffSecret = '';
  let card = '';
  const idNo = residentId('350102', '19850612', 41);
  const userName = '陈美玲';

  const scope = suiteScope();
  before(async () => {
    const suite = await startWithHospital(scope, [{ orgId: 'H35010200001', orgName: '福州市第一医院' }], { callbackRetryLimit: 0 });
    ({ t, hospital } = suite);
    [inst] = suite.insts;
    await t.platform.db.updateTable('institution').set({ region: '350100' }).where('org_id', '=', inst.orgId).execute();
    const op = await createUser(t.platform, { username: 'op.lin', role: 'operator', password: CONSOLE_PASSWORD }, 'test');
    totpSecret = op.totpSecret!;
    staffSecret = (
      await createUser(t.platform, { username: 'fz1.staff', role: 'staff', orgId: inst.orgId, password: CONSOLE_PASSWORD }, 'test')
    ).totpSecret;
    hospital.failNext = 1000;
    card = await cardOf(t, inst, idNo, userName);
    const notify = `${hospital.url}/umdl/callback`;
    await report(t, inst, notify, 'R-001', [
      {
        idNo,
        idType: '01',
        userName,
        ehealthCardId: card,
        items: [
          { orgTraceId: 'V1', amount: '120.50', daysAgo: 20 },
          { orgTraceId: 'V2', amount: '35' },
        ],
      },
      { idNo: '', idType: '', userName: '', ehealthCardId: '', items: [{ orgTraceId: 'A1', amount: '10' }] },
    ]);
    await report(t, inst, notify, 'R-002', [
      { idNo, idType: '01', userName, ehealthCardId: card, items: [{ orgTraceId: 'V3', amount: '99' }] },
    ]);
    await report(t, inst, notify, 'R-003', [
      { idNo, idType: '01', userName, ehealthCardId: card, items: [{ orgTraceId: 'V4', amount: '8' }] },
    ]);
    for (const r of ['R-001', 'R-002', 'R-003']) await waitForBatch(t, inst.orgId, r, { callback: 'failed' });
    for (let i = 0; i < 2; i++) {
      const q = await call(t.url, '/qmdl/queryOverdueData', inst.appId, inst.secret, {
        businessType: '01101',
        idType: '01',
        idNo,
        userName,
        ehealthCardId: card,
      });
      assert.equal(q.respCode, '000000', q.respMsg);
    }
    browser = scope.add(await launchBrowser(), (b) => b.close());
    page = await desktopPage(browser);
    staffPage = await desktopPage(browser);
  });

  it('signs in with password and TOTP', async () => {
    await page.goto(`${t.url}/console/login`);
    await screenshot(page, 'console-login');
    await page.fill('#f-username', 'op.lin');
    await page.fill('#f-password', CONSOLE_PASSWORD);
    await page.click('button[type=submit]');
    assert.match(await page.locator('#login-error').innerText(), /动态口令/, 'an operator without the code is refused');
    await signInBrowser(page, t.url, 'op.lin', totpSecret);
    assert.match(await page.locator('header').innerText(), /op\.lin/);
  });

  it('shows the dashboard with its charts drawn', async () => {
    await page.goto(`${t.url}/console`);
    await page.waitForSelector('#chart-queries[data-rendered="1"] canvas');
    const sizes = await chartSizes(page);
    assert.equal(sizes.length, 5);
    for (const s of sizes) assert.ok(s.width > 200 && s.height > 200, `${s.id} is drawn (${s.width}x${s.height})`);
    assert.match(await page.locator('#kpi-persons').innerText(), /2/, 'one real-name person and one non-real-name patient');
    assert.match(await page.locator('#kpi-unpaid').innerText(), /272\.50/);
    assert.match(await page.locator('#kpi-queries').innerText(), /2/, 'two ORG_MDL_002 queries today');
    await screenshot(page, 'console-dashboard');
    // Usable on a tablet: no sideways scrolling of the page, charts fit.
    const ctx = await browser.newContext({
      viewport: { width: 820, height: 1180 },
      locale: 'zh-CN',
      storageState: await page.context().storageState(),
    });
    const tablet = await ctx.newPage();
    await tablet.goto(`${t.url}/console`);
    await tablet.waitForSelector('#chart-queries[data-rendered="1"] canvas');
    assert.ok((await tablet.evaluate(() => document.documentElement.scrollWidth)) <= 820, 'no horizontal scrolling at tablet width');
    await screenshot(tablet, 'console-dashboard-tablet');
    await ctx.close();
  });

  it('creates an institution (after a field error) and issues a credential shown once', async () => {
    await page.goto(`${t.url}/console/institutions`);
    await page.click('#new-institution');
    await page.fill('#f-orgId', 'H-BAD!');
    await page.fill('#f-orgName', '厦门市<b>测试</b>医院');
    await page.fill('#f-endpointUrl', 'ftp://nope');
    await page.click('#institution-form button[type=submit]');
    assert.match(await page.locator('#f-orgId-error').innerText(), /1 到 12 位/);
    assert.match(await page.locator('#f-endpointUrl-error').innerText(), /http/);
    await screenshot(page, 'console-institution-errors');
    await page.fill('#f-orgId', 'H35020300002');
    await page.fill('#f-endpointUrl', 'https://his.xm.example.org');
    await page.selectOption('#f-region', '350200');
    await page.fill('#f-notifyHosts', 'his.xm.example.org');
    await page.fill('#f-paymentChannels', 'phone|收费处电话|0592-1234567\nonline|线上缴费|https://pay.xm.example.org');
    await page.click('#institution-form button[type=submit]');
    await page.waitForURL(/\/console\/institutions\/H35020300002/);
    assert.equal(await page.locator('h2').innerText(), '厦门市<b>测试</b>医院（H35020300002）', 'markup in a name is shown as text');
    await page.selectOption('#new-app select[name=env]', 'prod');
    await page.click('#new-app button[type=submit]');
    const secret = await page.locator('#new-secret').innerText();
    const appId = await page.locator('#new-app-id').innerText();
    assert.equal(secret.length, 40);
    await screenshot(page, 'console-credential-secret');
    await page.goto(`${t.url}/console/institutions/H35020300002`);
    assert.match(await page.locator('#apps').innerText(), new RegExp(appId));
    assert.doesNotMatch(await page.content(), new RegExp(secret), 'the secret is never shown again');
    await screenshot(page, 'console-institution');
    const row = await t.platform.db
      .selectFrom('app_credential')
      .select(['env', 'org_id'])
      .where('app_id', '=', appId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { env: 'prod', org_id: 'H35020300002' });
    // Editing: an emptied field is cleared.
    await page.fill('#f-endpointUrl', '');
    await page.click('#institution-form button[type=submit]');
    await page.waitForURL(/saved=1/);
    const edited = await t.platform.db
      .selectFrom('institution')
      .select(['endpoint_url', 'region', 'payment_channels'])
      .where('org_id', '=', 'H35020300002')
      .executeTakeFirstOrThrow();
    assert.equal(edited.endpoint_url, null);
    assert.equal(edited.region, '350200');
    assert.equal(JSON.parse(edited.payment_channels).length, 2);
    await page.goto(`${t.url}/console/institutions`);
    await screenshot(page, 'console-institutions');
  });

  it('lists failed callbacks and resends one, then the rest in bulk, to the recovered hospital', async () => {
    hospital.failNext = 0;
    await page.goto(`${t.url}/console/callbacks`);
    assert.equal(await page.locator('#failed tbody tr').count(), 3);
    assert.match(await page.locator('#attempts').innerText(), /500/);
    await screenshot(page, 'console-callbacks-failed');
    const b1 = await batchRow(t, inst.orgId, 'R-001');
    await page.goto(`${t.url}/console/batches/${b1.id}`);
    assert.match(await page.locator('#callback-status').innerText(), /失败/);
    assert.doesNotMatch(await page.content(), new RegExp(idNo), 'ID numbers are masked');
    assert.match(await page.locator('#items').innerText(), /陈\*玲/);
    await screenshot(page, 'console-batch-failed');
    await page.click('#resend');
    await answerConfirm(page, 'ok', /重新向机构回调/);
    await hospital.waitForCallbacks(1);
    await waitForBatch(t, inst.orgId, 'R-001', { callback: 'delivered' });
    await page.reload();
    assert.match(await page.locator('#callback-status').innerText(), /已送达/);
    await screenshot(page, 'console-batch-delivered');
    await page.goto(`${t.url}/console/callbacks`);
    assert.equal(await page.locator('#failed tbody tr').count(), 2);
    await page.click('#resend-all');
    await answerConfirm(page, 'ok', /全部 2 个/);
    await hospital.waitForCallbacks(3);
    await waitForBatch(t, inst.orgId, 'R-003', { callback: 'delivered' });
    await waitForBatch(t, inst.orgId, 'R-002', { callback: 'delivered' });
    const resends = await t.platform.db
      .selectFrom('audit_event')
      .select(['actor_type', 'actor_id', 'org_id', 'target'])
      .where('action', '=', 'callback.resend')
      .orderBy('target')
      .execute();
    assert.deepEqual(
      resends,
      ['R-001', 'R-002', 'R-003'].map((target) => ({ actor_type: 'operator', actor_id: 'op.lin', org_id: inst.orgId, target })),
      'each resend names the operator who clicked',
    );
    await page.goto(`${t.url}/console/callbacks`);
    await page.waitForSelector('#no-failed');
    await screenshot(page, 'console-callbacks-resent');
    await page.goto(`${t.url}/console/batches`);
    await screenshot(page, 'console-batches');
    await page.goto(`${t.url}/console/items`);
    await screenshot(page, 'console-items');
  });

  it('the citizen appeals in the citizen app, staff answer, the operator decides, the citizen sees the outcome', async () => {
    const items = await t.platform.db
      .selectFrom('arrears_item')
      .select(['id', 'subject_bidx', 'org_trace_id'])
      .where('org_id', '=', inst.orgId)
      .execute();
    const v1 = items.find((i) => i.org_trace_id === 'V1')!;
    const v2 = items.find((i) => i.org_trace_id === 'V2')!;
    const subject = t.platform.vault.personKey('01', idNo);
    assert.equal(v1.subject_bidx, subject);

    // The citizen app (issue 4): the hospital portal asks ORG_MDL_004 for the person's link.
    const link = await call(t.url, '/qmdl/getIntoMdlUrl', inst.appId, inst.secret, {
      orgId: inst.orgId,
      idNo,
      idType: '01',
      userName,
      ehealthCardId: card,
    });
    assert.equal(link.respCode, '000000', link.respMsg);
    const citizen = await phonePage(browser);
    await citizen.goto(String(link.payload!.mdrUrl));
    const fileAppealInApp = async (itemId: number, reason: string, text: string) => {
      await citizen.locator(`#item-${itemId} a.button`, { hasText: '申诉' }).click();
      await citizen.waitForURL(/\/appeal$/);
      await citizen.selectOption('#reason', reason);
      await citizen.fill('#description', text);
      await citizen.locator('button[type=submit]').click();
      await citizen.waitForURL(/n=appealed/);
    };
    await fileAppealInApp(v1.id, 'paid', '已于窗口缴清 <img src=x onerror=alert(1)>');
    await fileAppealInApp(v2.id, 'not_me', '当天未就诊');
    const appeals = await t.platform.db.selectFrom('appeal').select(['id', 'item_id']).execute();
    const a1 = appeals.find((a) => a.item_id === v1.id)!;
    const a2 = appeals.find((a) => a.item_id === v2.id)!;

    await signInBrowser(staffPage, t.url, 'fz1.staff', staffSecret);
    await staffPage.goto(`${t.url}/console/appeals/${a1.id}`);
    assert.match(await staffPage.locator('#citizen-text').innerText(), /<img src=x/, 'the citizen text is shown as text');
    assert.equal(await staffPage.locator('#decide-form').count(), 0, 'staff cannot decide');
    await staffPage.click('#answer-form button[type=submit]');
    assert.match(await staffPage.locator('#f-reply-error').innerText(), /答复/);
    await staffPage.fill('#f-reply', '经核实，患者已于 3 月 1 日在门诊收费处缴清。');
    await staffPage.click('#answer-form button[type=submit]');
    assert.match(await staffPage.locator('#org-reply').innerText(), /已于 3 月 1 日/);
    await screenshot(staffPage, 'console-appeal-answered-staff');

    await page.goto(`${t.url}/console/appeals`);
    assert.equal(await page.locator('#appeals tbody tr').count(), 2);
    await page.selectOption('select[name=status]', 'answered');
    await page.click('form.filters button[type=submit]');
    assert.equal(await page.locator('#appeals tbody tr').count(), 1, 'one appeal answered by the institution');
    await page.goto(`${t.url}/console/appeals`);
    await screenshot(page, 'console-appeals');
    await page.goto(`${t.url}/console/appeals/${a1.id}`);
    assert.equal(await page.locator('#answer-form').count(), 0, 'the operator does not answer for the institution');
    await page.selectOption('#f-decision', 'upheld');
    await page.click('#decide-form button[type=submit]');
    await answerConfirm(page, 'ok', /撤销该欠费记录/);
    assert.match(await page.locator('#item-state').innerText(), /已撤销/);
    await screenshot(page, 'console-appeal-upheld');

    await page.goto(`${t.url}/console/appeals/${a2.id}`);
    await page.selectOption('#f-decision', 'rejected');
    await page.click('#decide-form button[type=submit]');
    await answerConfirm(page, 'ok', /裁决/);
    assert.match(await page.locator('#f-reason-error').innerText(), /理由/, 'a rejection needs a reason');
    await page.fill('#f-reason', '医院提供了就诊签字记录');
    await page.click('#decide-form button[type=submit]');
    await answerConfirm(page, 'ok', /裁决/);
    assert.match(await page.locator('#decision').innerText(), /申诉不成立：医院提供了就诊签字记录/);
    await screenshot(page, 'console-appeal-rejected');
    await page.goto(`${t.url}/console/appeals`);
    assert.equal(await page.locator('#appeals tbody tr').count(), 0, 'the queue is empty once both are decided');
    await page.goto(`${t.url}/console/appeals?status=all`);
    assert.equal(await page.locator('#appeals tbody tr').count(), 2);

    const states = await t.platform.db
      .selectFrom('arrears_item')
      .select(['org_trace_id', 'state'])
      .where('id', 'in', [v1.id, v2.id])
      .execute();
    assert.deepEqual(Object.fromEntries(states.map((s) => [s.org_trace_id, s.state])), { V1: '2', V2: '0' });
    // The citizen sees the outcome in the citizen app.
    await citizen.goto(`${t.url}/mdr/`);
    const upheld = await citizen.locator(`#item-${v1.id} .appeal`).innerText();
    assert.match(upheld, /申诉成立/);
    assert.match(upheld, /医疗机构答复：经核实，患者已于 3 月 1 日/);
    const rejected = await citizen.locator(`#item-${v2.id} .appeal`).innerText();
    assert.match(rejected, /申诉不成立/);
    assert.match(rejected, /处理意见：医院提供了就诊签字记录/);
    await screenshot(citizen, 'console-appeal-outcome-citizen');
    await citizen.context().close();
  });

  it('searches the audit trail by person (blind index), exports CSV, and audits the reading', async () => {
    await page.goto(`${t.url}/console/audit`);
    await page.fill('#f-idNo', idNo.slice(0, 17) + 'Z');
    await page.click('#audit-form button[type=submit]');
    assert.ok(await page.locator('#f-idNo-error').isVisible(), 'an invalid number is refused beside the field');
    await page.fill('#f-idNo', idNo);
    await page.click('#audit-form button[type=submit]');
    const text = await page.locator('#audit').innerText();
    for (const action of ['登记主索引', '患者提交申诉', '申诉成立（撤销记录）', '驳回申诉']) assert.ok(text.includes(action), action);
    assert.doesNotMatch(text, /登录控制台/, 'only this person');
    assert.doesNotMatch(text, /appeal\.file|"outcome"|\{"/, 'no codes or raw JSON shown by default');
    // At 1440 px the table fits its box: the columns people need are in view without scrolling sideways.
    await page.setViewportSize({ width: 1440, height: 900 });
    const fit = await page.evaluate(() => {
      const wrap = document.querySelector('#audit')!.parentElement!;
      return { table: wrap.scrollWidth, box: wrap.clientWidth };
    });
    assert.ok(fit.table <= fit.box, `the audit table fits (${fit.table} > ${fit.box})`);
    await page.check('#audit-columns input[data-col=code]');
    assert.match(await page.locator('#audit').innerText(), /appeal\.file/, 'the code column can be shown');
    await screenshot(page, 'console-audit');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csv = await (await download.createReadStream()).toArray();
    const body = Buffer.concat(csv as Buffer[]).toString('utf8');
    assert.match(body, /^\ufeff编号,时间（北京时间）,操作,操作代码/);
    assert.match(body, /驳回申诉,appeal\.reject/);
    const today = chinaDate(Date.now());
    assert.match(body, new RegExp(`\\r\\n\\d+,${today} \\d{2}:\\d{2}:\\d{2},`), 'times are China time');
    const reads = await t.platform.db
      .selectFrom('audit_event')
      .select(['action', 'subject_bidx', 'detail'])
      .where('action', 'in', ['audit.read', 'audit.export'])
      .orderBy('id')
      .execute();
    const subject = t.platform.vault.personKey('01', idNo);
    assert.ok(reads.some((r) => r.action === 'audit.read' && r.subject_bidx === subject));
    assert.ok(reads.some((r) => r.action === 'audit.export' && r.subject_bidx === subject));
    const everything = await t.platform.db.selectFrom('audit_event').select(['detail', 'target']).execute();
    assert.ok(!JSON.stringify(everything).includes(idNo), 'the ID number typed in is stored nowhere');
    await page.fill('#f-idNo', '');
    await page.fill('#f-action', 'console.');
    await page.click('#audit-form button[type=submit]');
    assert.match(await page.locator('#audit').innerText(), /登录控制台/);
    await page.fill('#f-action', '');
    await page.click('#audit-form button[type=submit]');
    assert.doesNotMatch(await page.locator('#audit').innerText(), /其他操作/, 'every action in the data has its Chinese name');
    await screenshot(page, 'console-audit-all');
  });

  it('previews a stricter policy, saves it and shows the history', async () => {
    await page.goto(`${t.url}/console/policy`);
    await page.fill('#f-maxCount', '0');
    await page.click('#policy-form button[type=submit]');
    assert.match(await page.locator('#f-maxCount-error').innerText(), /1 到 1000/);
    await page.fill('#f-maxAgeDays', '15');
    await page.fill('#f-maxTotalYuan', '100');
    await page.fill('#f-maxCount', '3');
    await page.fill('#f-note', '试点期间收紧');
    await page.click('#policy-form button[type=submit]');
    // V2 (35) + V3 (99) + V4 (8) = 142 yuan unpaid for the person, 3 items: ineligible already by count.
    // The anonymous patient (10 yuan, 1 item) stays eligible.
    assert.match(await page.locator('#preview').innerText(), /有未结清欠费的对象：2 人/);
    await screenshot(page, 'console-policy-preview');
    await page.click('#save-policy');
    await page.waitForURL(/saved=1/);
    assert.match(await page.locator('#current-policy').innerText(), /¥100\.00/);
    assert.match(await page.locator('#policy-history').innerText(), /试点期间收紧/);
    assert.equal((await t.platform.policy.get()).maxTotalFen, 10_000);
    await screenshot(page, 'console-policy');
    await page.goto(`${t.url}/console/users`);
    await screenshot(page, 'console-users');
    await page.goto(`${t.url}/console/reminders`);
    await screenshot(page, 'console-reminders');
    await page.goto(`${t.url}/console/reconciliation`);
    await screenshot(page, 'console-reconciliation');
  });

  it('signs out', async () => {
    await page.click('header button[type=submit]');
    await page.waitForURL(/\/console\/login/);
    await page.goto(`${t.url}/console/batches`);
    assert.match(page.url(), /\/console\/login/);
    await eventually(async () =>
      assert.ok(await t.platform.db.selectFrom('audit_event').select('id').where('action', '=', 'console.logout').executeTakeFirst()),
    );
  });
});
