import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { decideAppeal, upsertInstitution, ItemRefreshJob, startTestPlatform, type TestPlatform } from '@mdl/platform/testing';
import { assertAccessible, launchBrowser, phonePage, screenshot } from './support/browser.js';
import { addSite, itemId, mdrUrlFor, registerPatient, report, type Patient, type Site } from './support/citizen.js';
import { residentId } from './support/people.js';
import { suiteScope } from './support/scope.js';

/**
 * Issue #4 in a real browser at phone size: a hospital portal gets mdrUrl through ORG_MDL_004, the
 * citizen opens it, sees records across institutions, refreshes one against the hospital's ORG_001
 * (answering paid), files an appeal with script-laden text, and finds how to pay.
 */
describe('citizen app in headless Chromium', () => {
  let t: TestPlatform;
  let base: string;
  let fz: Site;
  let xm: Site;
  let browser: Browser;
  let page: Page;
  let mdrUrl = '';
  let alice: Patient;
  let bob: Patient;
  let offsetMs = 0;
  const dialogs: string[] = [];

  const scope = suiteScope();
  before(async () => {
    t = scope.add(await startTestPlatform({}, { now: () => Date.now() + offsetMs }), (t) => t.close());
    base = await t.listen();
    fz = scope.add(
      await addSite(t, 'H35010200001', '福州市第一医院', [
        { kind: 'phone', label: '收费处电话', value: '0591-88880001' },
        { kind: 'address', label: '门诊楼一层收费处', value: '福州市台江区达道路 190 号' },
      ]),
      (s) => s.hospital.stop(),
    );
    xm = scope.add(
      await addSite(t, 'H35020300002', '厦门大学附属第一医院', [
        { kind: 'online', label: '线上缴费', value: 'https://pay.example.org/xm' },
      ]),
      (s) => s.hospital.stop(),
    );
    alice = await registerPatient(base, fz, residentId('350102', '19900307', 123), '林晓梅', 'P-A');
    bob = await registerPatient(base, fz, residentId('350203', '19851112', 456), '陈建国', 'P-B');
    await report(base, fz, 'FZ-1', [
      {
        patient: alice,
        items: [
          { orgTraceId: 'FZ-A1', itemName: '诊查费', amount: '25.00', daysAgo: 3 },
          { orgTraceId: 'FZ-A2', itemName: '检查费', amount: '100.50', daysAgo: 2 },
        ],
      },
      { patient: bob, items: [{ orgTraceId: 'FZ-B1', itemName: '秘密项目乙', amount: '18.00', daysAgo: 1 }] },
    ]);
    await report(base, xm, 'XM-1', [
      { patient: alice, items: [{ orgTraceId: 'XM-A1', itemName: '住院费', amount: '1280.50', daysAgo: 20 }] },
    ]);
    browser = scope.add(await launchBrowser(), (b) => b.close());
    page = await phonePage(browser);
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });

  it('ORG_MDL_004 gives a short link under PUBLIC_URL', async () => {
    mdrUrl = await mdrUrlFor(base, fz, alice);
    assert.ok(mdrUrl.startsWith(`${base}/mdr/t/`), mdrUrl);
    assert.ok(mdrUrl.length <= 200, `mdrUrl is ${mdrUrl.length} characters`);
    const other = await mdrUrlFor(base, fz, alice);
    assert.notEqual(other, mdrUrl, 'every call gets a fresh random token');
  });

  it('opens the link and shows my records across institutions, the total and why I cannot use 先诊后付', async () => {
    const res = await page.goto(mdrUrl);
    assert.equal(res?.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/mdr/', 'the token is dropped from the address bar');
    const text = await page.locator('main').innerText();
    for (const s of ['林*梅', '福州市第一医院', '厦门大学附属第一医院', '诊查费', '检查费', '住院费', '¥25.00', '¥100.50', '¥1,280.50']) {
      assert.ok(text.includes(s), `page shows ${s}`);
    }
    assert.equal(await page.locator('#unpaid-total').innerText(), '¥1,406.00');
    assert.match(text, /暂时不能享受“先诊后付”/);
    assert.match(text, /超过 15 天未结清/);
    assert.match(text, /合计已达到 ¥500\.00/);
    assert.ok(!text.includes('秘密项目乙') && !text.includes('陈建国'), "nothing of another person's");
    // Payment first: each unpaid record's primary action is 去缴费, to its own institution's channels.
    const xmItem = await itemId(t, xm.inst.orgId, 'XM-A1');
    const pay = page.locator(`#item-${xmItem} a.button.pay`);
    assert.equal(await pay.innerText(), '去缴费');
    assert.equal(await pay.getAttribute('href'), `/mdr/pay#org-${xm.inst.orgId}`);
    assert.match(await page.locator(`#item-${xmItem} .overdue`).innerText(), /已欠 20 天，超过 15 天：这一笔使您暂停先诊后付/);
    const fzItem = await itemId(t, fz.inst.orgId, 'FZ-A2');
    assert.match(await page.locator(`#item-${fzItem} .overdue`).innerText(), /已欠 2 天，再过 13 天/);
    assert.match((await page.locator(`#item-${fzItem} button.refresh`).getAttribute('class')) ?? '', /secondary/, '状态更新 is secondary');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scrolling at phone width (${width}px)`);
    await assertAccessible(page, 'citizen-records');
    await screenshot(page, 'citizen-records');
  });

  it('refreshes one record against the hospital ORG_001, which answers paid', async () => {
    const id = await itemId(t, fz.inst.orgId, 'FZ-A1');
    fz.hospital.states.set('FZ-A1', '1');
    await page.locator(`#item-${id} button.refresh`).click();
    await page.waitForURL(/n=paid/);
    assert.match(await page.locator('.note').innerText(), /已缴清/);
    assert.equal(await page.locator(`#item-notice + #item-${id}`).count(), 1, 'the result is shown right above its record');
    assert.equal(await page.locator(`#history #item-${id} .tag`).innerText(), '已缴清');
    assert.equal(await page.locator('#unpaid-total').innerText(), '¥1,381.00');
    const row = await t.platform.db
      .selectFrom('arrears_item')
      .select(['state', 'settled_at'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.equal(row.state, '1');
    assert.ok(row.settled_at);
    const events = await t.platform.db
      .selectFrom('audit_event')
      .select(['action', 'outcome'])
      .where('action', 'in', ['org001.call', 'item.refresh'])
      .execute();
    assert.deepEqual(events.map((e) => `${e.action}:${e.outcome}`).sort(), ['item.refresh:ok', 'org001.call:ok']);
    await screenshot(page, 'citizen-refreshed');
  });

  it('a refresh the hospital answers unpaid changes nothing', async () => {
    const id = await itemId(t, fz.inst.orgId, 'FZ-A2');
    await page.locator(`#item-${id} button.refresh`).click();
    await page.waitForURL(/n=unpaid/);
    assert.match(await page.locator('.note').innerText(), /仍未结清/);
    assert.equal(await page.locator(`#unpaid #item-${id} .tag`).innerText(), '未结清');
  });

  it('a burst of refreshes on one record is slowed down, not passed on to the hospital', async () => {
    const id = await itemId(t, xm.inst.orgId, 'XM-A1');
    const csrf = await page.locator('input[name=csrf]').first().inputValue();
    // The limit counts per clock minute: a burst that straddles a minute (a slow machine) would count twice.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 40_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await page.request.post(`${base}/mdr/items/${id}/refresh`, { form: { csrf }, maxRedirects: 0 });
      seen.push(new URL(r.headers()['location']!, base).searchParams.get('n')!);
    }
    assert.deepEqual(seen, ['unpaid', 'unpaid', 'unpaid', 'slow', 'slow']);
  });

  it('a hospital that does not answer: a clear message, the record unchanged, a retry queued', async () => {
    const id = await itemId(t, fz.inst.orgId, 'FZ-A2');
    await upsertInstitution(t.platform.db, { orgId: fz.inst.orgId, orgName: fz.inst.orgName, endpointUrl: 'http://127.0.0.1:9' });
    try {
      await page.locator(`#item-${id} button.refresh`).click();
      await page.waitForURL(/n=noanswer/);
      assert.match(await page.locator('.note').innerText(), /暂时没能联系上该医院/);
      assert.equal(await page.locator(`#unpaid #item-${id} .tag`).innerText(), '未结清');
      assert.match(await page.locator(`#item-${id}`).innerText(), /平台会自动重试/);
      assert.equal(await t.platform.jobs.boss.getQueueSize(ItemRefreshJob.name), 1, 'a retry is queued');
      await screenshot(page, 'citizen-no-answer');
    } finally {
      await upsertInstitution(t.platform.db, { orgId: fz.inst.orgId, orgName: fz.inst.orgName, endpointUrl: fz.hospital.url });
    }
  });

  const scripted = '<script>alert("x")</script><img src=x onerror=alert(1)> 我已于本月在收费处缴清，请核实。';

  it('files an appeal; script-laden text is shown as text', async () => {
    const id = await itemId(t, fz.inst.orgId, 'FZ-A2');
    await page.locator(`#item-${id} a.button`, { hasText: '申诉' }).click();
    await page.waitForURL(/\/appeal$/);
    await page.locator('button[type=submit]').click();
    assert.match(await page.locator('#reason-error').innerText(), /请选择申诉原因/, 'every error at once, beside its field');
    assert.match(await page.locator('#description-error').innerText(), /请填写申诉说明/);
    assert.equal(await page.getAttribute('#description', 'aria-invalid'), 'true');
    assert.match((await page.getAttribute('#description', 'aria-describedby')) ?? '', /description-error/);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'reason', 'the first invalid field has the focus');
    await assertAccessible(page, 'citizen appeal form with errors');
    await screenshot(page, 'citizen-appeal-errors');
    await page.selectOption('#reason', 'paid');
    await page.fill('#description', scripted);
    await screenshot(page, 'citizen-appeal-form');
    await page.locator('button[type=submit]').click();
    await page.waitForURL(/n=appealed/);
    const box = page.locator(`#item-${id} .appeal`);
    assert.match(await box.innerText(), /申诉（已缴清）：待处理/);
    assert.equal(await box.locator('.appeal-text').innerText(), scripted);
    assert.equal(await page.locator(`#item-${id} img`).count(), 0, 'no element was injected');
    assert.deepEqual(dialogs, [], 'no script ran');
    assert.equal(await page.locator(`#item-${id} a.button`, { hasText: '申诉' }).count(), 0, 'no second appeal on an open one');
    const stored = await t.platform.db.selectFrom('appeal').selectAll().where('item_id', '=', id).execute();
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.description, scripted.trim());
    await assertAccessible(page, 'citizen-appealed');
    await screenshot(page, 'citizen-appealed');
  });

  it('refuses a second appeal on the same open record and an oversized one, keeping the text', async () => {
    const id = await itemId(t, fz.inst.orgId, 'FZ-A2');
    const csrf = await page.locator('input[name=csrf]').first().inputValue();
    const again = await page.request.post(`${base}/mdr/items/${id}/appeal`, { form: { csrf, reason: 'other', description: '再次申诉' } });
    assert.equal(again.status(), 422);
    assert.match(await again.text(), /已有申诉正在处理/);
    const status = await page.request.get(`${base}/mdr/items/${id}/appeal`);
    const statusText = await status.text();
    assert.match(statusText, /已有申诉正在处理[\s\S]*待处理/, 'the open appeal shows its status');
    assert.doesNotMatch(statusText, /<textarea/, 'not a blank form that would be refused');
    const other = await itemId(t, xm.inst.orgId, 'XM-A1');
    const long = await page.request.post(`${base}/mdr/items/${other}/appeal`, {
      form: { csrf, reason: 'wrong_amount', description: '<b>' + '很'.repeat(600) },
    });
    assert.equal(long.status(), 422);
    const body = await long.text();
    assert.match(body, /不能超过 500 字/);
    assert.ok(body.includes('&lt;b&gt;很很') && !body.includes('<b>很'), 'the kept text is escaped');
  });

  it("cannot touch another person's record by id", async () => {
    const bobs = await itemId(t, fz.inst.orgId, 'FZ-B1');
    const csrf = await page.locator('input[name=csrf]').first().inputValue();
    fz.hospital.states.set('FZ-B1', '1');
    const r1 = await page.request.post(`${base}/mdr/items/${bobs}/refresh`, { form: { csrf }, maxRedirects: 0 });
    assert.equal(r1.status(), 404);
    const r2 = await page.request.get(`${base}/mdr/items/${bobs}/appeal`);
    assert.equal(r2.status(), 404);
    assert.ok(!(await r2.text()).includes('秘密项目乙'));
    const r3 = await page.request.post(`${base}/mdr/items/${bobs}/appeal`, { form: { csrf, reason: 'not_me', description: 'x' } });
    assert.equal(r3.status(), 404);
    const r4 = await page.request.post(`${base}/mdr/items/${bobs}/refresh`, { form: { csrf: 'forged' }, maxRedirects: 0 });
    assert.equal(r4.status(), 403, 'a form without the session token is refused');
    const bobRow = await t.platform.db.selectFrom('arrears_item').select('state').where('id', '=', bobs).executeTakeFirstOrThrow();
    assert.equal(bobRow.state, '0');
    assert.equal((await t.platform.db.selectFrom('appeal').select('id').where('item_id', '=', bobs).execute()).length, 0);
  });

  it("shows the appeal's outcome once the operator decided", async () => {
    const id = await itemId(t, fz.inst.orgId, 'FZ-A2');
    const appeal = await t.platform.db.selectFrom('appeal').select('id').where('item_id', '=', id).executeTakeFirstOrThrow();
    await decideAppeal(t.platform.db, { appealId: appeal.id, upheld: false, reason: '医院核实：该笔费用尚未缴纳 <i>', actor: 'op1' });
    await page.goto(`${base}/mdr/`);
    const box = await page.locator(`#item-${id} .appeal`).innerText();
    assert.match(box, /申诉不成立/);
    assert.match(box, /处理意见：医院核实：该笔费用尚未缴纳 <i>/);
    assert.equal(
      await page.locator(`#item-${id} a.button`, { hasText: '申诉' }).count(),
      1,
      'a decided appeal can be followed by a new one',
    );
  });

  it('shows how to pay each institution', async () => {
    await page.goto(`${base}/mdr/pay`);
    const text = await page.locator('main').innerText();
    assert.match(text, /0591-88880001/);
    assert.match(text, /福州市台江区达道路 190 号/);
    assert.equal(await page.locator('a.button.channel[href="https://pay.example.org/xm"]').count(), 1, 'the online channel is a button');
    assert.match(await page.locator('a.button.channel[href^="tel:"]').first().innerText(), /拨打.*0591-88880001/);
    assert.equal(await page.locator(`#org-${xm.inst.orgId}`).count(), 1, '去缴费 of a record lands on its institution');
    await assertAccessible(page, 'citizen-pay');
    await screenshot(page, 'citizen-pay');
  });

  it('a used link opened elsewhere, a tampered one and an expired one get a page saying what to do', async () => {
    const elsewhere = await phonePage(browser);
    const used = await elsewhere.goto(mdrUrl);
    assert.equal(used?.status(), 410);
    assert.match(await elsewhere.locator('main').innerText(), /只能打开一次[\s\S]*闽政通/);
    await screenshot(elsewhere, 'citizen-link-used');
    const last = mdrUrl.slice(-1) === 'A' ? 'B' : 'A';
    const tampered = await elsewhere.goto(mdrUrl.slice(0, -1) + last);
    assert.equal(tampered?.status(), 404);
    assert.match(await elsewhere.locator('main').innerText(), /链接无效/);
    const forged = await elsewhere.goto(`${base}/mdr/t/${'x'.repeat(43)}`);
    assert.equal(forged?.status(), 404);
    const fresh = await mdrUrlFor(base, fz, alice);
    offsetMs = 31 * 60_000;
    try {
      const expired = await elsewhere.goto(fresh);
      assert.equal(expired?.status(), 410);
      assert.match(await elsewhere.locator('main').innerText(), /已过期/);
      const home = await elsewhere.goto(`${base}/mdr/`);
      assert.equal(home?.status(), 401, 'no session without a valid link');
      assert.ok(!(await elsewhere.locator('main').innerText()).includes('林'));
    } finally {
      offsetMs = 0;
    }
    // The browser that opened the link may reload it: same person, same session.
    const again = await page.goto(mdrUrl);
    assert.equal(again?.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/mdr/');
  });

  it('the session ends after the token lifetime', async () => {
    offsetMs = 31 * 60_000;
    try {
      const r = await page.goto(`${base}/mdr/`);
      assert.equal(r?.status(), 401);
      assert.match(await page.locator('main').innerText(), /重新进入/);
    } finally {
      offsetMs = 0;
    }
  });
});
