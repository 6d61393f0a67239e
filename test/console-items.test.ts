import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { addInstitution, createUser, startTestPlatform, type TestInstitution, type TestPlatform } from '@mdl/platform/testing';
import { call } from './support/client.js';
import { TestHospital } from './support/hospital.js';
import { desktopPage, launchBrowser, screenshot } from './support/browser.js';
import { CONSOLE_PASSWORD, answerConfirm, cardOf, report, signInBrowser, waitForBatch } from './support/console.js';
import { suiteScope } from './support/scope.js';
import { residentId } from './support/people.js';

type Item = { orgId: string; amount: string; traceId: string };

/**
 * Record detail pages, list totals and CSV export, and staff settling or revoking their own institution's
 * records from the portal (issue #17 point 6), in a real browser over real HTTP.
 */
describe('console records: detail page, totals, CSV and staff settle/revoke', () => {
  let t: TestPlatform;
  let browser: Browser;
  let a: TestInstitution;
  let b: TestInstitution;
  // One sign-in per user: a TOTP code is taken once, so later pages reuse the session's cookies.
  const sessions: Record<string, Awaited<ReturnType<import('playwright-core').BrowserContext['storageState']>>> = {};
  const idNo = residentId('350102', '19800101', 11);
  const userName = '陈建国';
  let card = '';
  const ids: Record<string, number> = {};

  const scope = suiteScope();
  before(async () => {
    t = scope.add(await startTestPlatform(), (t) => t.close());
    await t.listen();
    a = await addInstitution(t.platform, 'H35010200031', {
      orgName: '甲市人民医院',
      paymentChannels: [
        { kind: 'phone', label: '收费处电话', value: '0591-87654321' },
        { kind: 'address', label: '门诊收费处', value: '福州市鼓楼区八一七北路 1 号' },
      ],
    });
    b = await addInstitution(t.platform, 'H35020300032', { orgName: '乙市妇幼保健院' });
    const hospitalA = scope.add(new TestHospital(a.appId, a.secret), (h) => h.stop());
    const hospitalB = scope.add(new TestHospital(b.appId, b.secret), (h) => h.stop());
    await hospitalA.start();
    await hospitalB.start();
    card = await cardOf(t, a, idNo, userName);
    await report(t, a, `${hospitalA.url}/umdl/callback`, 'A-REQ-1', [
      {
        idNo,
        idType: '01',
        userName,
        ehealthCardId: card,
        items: [
          { orgTraceId: 'A-1', amount: '1305.50', daysAgo: 3 },
          { orgTraceId: 'A-2', amount: '22.00' },
          { orgTraceId: 'A-3', amount: '33.00' },
          { orgTraceId: 'A-4', amount: '44.00' },
        ],
      },
    ]);
    await report(t, b, `${hospitalB.url}/umdl/callback`, 'B-REQ-SECRET', [
      { idNo, idType: '01', userName, ehealthCardId: card, items: [{ orgTraceId: 'B-ITEM-SECRET', amount: '999.99' }] },
    ]);
    await waitForBatch(t, a.orgId, 'A-REQ-1', { callback: 'delivered' });
    await waitForBatch(t, b.orgId, 'B-REQ-SECRET', { callback: 'delivered' });
    for (const r of await t.platform.db.selectFrom('arrears_item').select(['id', 'org_trace_id']).execute()) ids[r.org_trace_id] = r.id;
    const staff = await createUser(t.platform, { username: 'staff.a', role: 'staff', orgId: a.orgId, password: CONSOLE_PASSWORD }, 'test');
    const op = await createUser(t.platform, { username: 'op.items', role: 'operator', password: CONSOLE_PASSWORD }, 'test');
    browser = scope.add(await launchBrowser(), (b) => b.close());
    for (const [user, secret] of [
      ['staff.a', staff.totpSecret],
      ['op.items', op.totpSecret],
    ] as const) {
      const page = await desktopPage(browser);
      await signInBrowser(page, t.url, user, secret);
      sessions[user] = await page.context().storageState();
      await page.context().close();
    }
  });

  const SIZES = {
    desktop: { viewport: { width: 1366, height: 900 } },
    tablet: { viewport: { width: 820, height: 1180 } },
    phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  } as const;
  /** A page of the signed-in user at a screen size, on `path`. */
  const pageAs = async (user: 'staff.a' | 'op.items', size: keyof typeof SIZES, path = '/console') => {
    const ctx = await browser.newContext({ ...SIZES[size], locale: 'zh-CN', storageState: sessions[user] });
    const page = await ctx.newPage();
    await page.goto(t.url + path);
    return page;
  };

  const stateOf = async (id: number) =>
    (await t.platform.db.selectFrom('arrears_item').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state;
  /** ORG_MDL_002 as a hospital asks it: the patient's unpaid items across the province. */
  const org002 = async () => {
    const r = await call(t.url, '/qmdl/queryOverdueData', b.appId, b.secret, {
      businessType: '01101',
      idNo,
      idType: '01',
      userName,
      ehealthCardId: card,
    });
    assert.equal(r.respCode, '000000', `${r.respCode} ${r.respMsg}`);
    return (r.payload!.itemList as Item[]).map((i) => `${i.orgId}:${i.amount}`).sort();
  };
  /** A form POST from inside the signed-in page, as a forged or doubled request would be sent. */
  const post = (page: Page, path: string) =>
    page.evaluate(async (path) => {
      const csrf = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
      const r = await fetch(path, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `_csrf=${encodeURIComponent(csrf)}`,
      });
      return r.type === 'opaqueredirect' ? 303 : r.status;
    }, path);

  it('links every listed record to its detail page, at desktop, tablet and phone size', async () => {
    for (const size of ['desktop', 'tablet', 'phone'] as const) {
      const page = await pageAs('staff.a', size, '/console/items');
      await Promise.all([
        page.waitForURL(/\/console\/items\/\d+$/),
        page.locator('#items a[href$="/console/items/' + ids['A-1'] + '"]').click(),
      ]);
      assert.match(await page.locator('#item').innerText(), /¥1,305\.50/);
      assert.match(await page.locator('#item').innerText(), /甲市人民医院/);
      assert.match(await page.locator('#item').innerText(), /陈\*国|陈\*/);
      assert.equal(await page.locator('#item-batches a').count(), 1, 'the reporting batch is linked');
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      const viewport = page.viewportSize()!.width;
      assert.ok(width <= viewport, `the detail page fits ${viewport} px (${width})`);
      await screenshot(page, `console-item-detail-${size}`);
      await page.context().close();
    }
  });

  it('answers 404 for another institution’s record, to staff; operators see any', async () => {
    const page = await pageAs('staff.a', 'desktop');
    const res = await page.goto(`${t.url}/console/items/${ids['B-ITEM-SECRET']}`);
    assert.equal(res?.status(), 404);
    const html = await page.content();
    for (const s of ['乙市妇幼保健院', 'B-ITEM-SECRET', '999.99']) assert.ok(!html.includes(s), `404 page shows "${s}"`);
    assert.equal((await page.goto(`${t.url}/console/items/abc`))?.status(), 404);
    await page.context().close();
    const op = await pageAs('op.items', 'desktop');
    assert.equal((await op.goto(`${t.url}/console/items/${ids['B-ITEM-SECRET']}`))?.status(), 200);
    assert.equal(await op.locator('#item-actions').count(), 0, 'operators decide through appeals, not here');
    assert.equal(await post(op, `/console/items/${ids['B-ITEM-SECRET']}/revoke`), 403);
    assert.equal(await stateOf(ids['B-ITEM-SECRET']!), '0');
    await op.context().close();
  });

  it('lets staff settle their own record after a confirmation; ORG_MDL_002 stops answering it', async () => {
    const page = await pageAs('staff.a', 'desktop');
    assert.ok((await org002()).includes(`${a.orgId}:22.00`));
    await page.goto(`${t.url}/console/items/${ids['A-2']}`);
    await page.click('#settle');
    await answerConfirm(page, 'cancel', /已在院内缴清/);
    assert.equal(await stateOf(ids['A-2']!), '0', 'cancel changes nothing');
    await page.click('#settle');
    await Promise.all([page.waitForURL(/done=settled/), answerConfirm(page, 'ok', /已在院内缴清/)]);
    assert.match(await page.locator('#item-state').innerText(), /已缴清/);
    assert.equal(await page.locator('#item-actions').count(), 0, 'nothing more to do on a settled record');
    await screenshot(page, 'console-item-settled');
    assert.equal(await stateOf(ids['A-2']!), '1');
    assert.ok(!(await org002()).includes(`${a.orgId}:22.00`), 'the read model of ORG_MDL_002 follows');
    const events = await t.platform.db
      .selectFrom('audit_event')
      .select(['action', 'outcome', 'actor_id'])
      .where('action', '=', 'item.settle.staff')
      .execute();
    assert.deepEqual(events, [{ action: 'item.settle.staff', outcome: 'ok', actor_id: 'staff.a' }]);
    const notice = await t.platform.db
      .selectFrom('batch')
      .select('org_request_id')
      .where('org_id', '=', a.orgId)
      .where('org_request_id', 'like', 'PLT%')
      .execute();
    assert.equal(notice.length, 1, 'the hospital is told (ORG_002 UPDATE notice)');
    // Paid cannot become revoked: the ORG_MDL_003 state machine.
    assert.equal(await post(page, `/console/items/${ids['A-2']}/revoke`), 409);
    assert.equal(await stateOf(ids['A-2']!), '1');
    await page.context().close();
  });

  it('refuses staff revoking another institution’s record, and audits the attempt', async () => {
    const page = await pageAs('staff.a', 'desktop');
    await page.goto(`${t.url}/console/items/${ids['A-3']}`);
    assert.equal(await post(page, `/console/items/${ids['B-ITEM-SECRET']}/revoke`), 404);
    assert.equal(await stateOf(ids['B-ITEM-SECRET']!), '0');
    assert.ok((await org002()).includes(`${b.orgId}:999.99`));
    const refused = await t.platform.db
      .selectFrom('audit_event')
      .select(['outcome', 'org_id', 'subject_bidx'])
      .where('action', '=', 'item.revoke.staff')
      .where('target', '=', `item:${ids['B-ITEM-SECRET']}`)
      .execute();
    // Audited under the staff member's institution, without B's subject.
    assert.deepEqual(refused, [{ outcome: 'refused', org_id: a.orgId, subject_bidx: null }]);
    await page.context().close();
  });

  it('takes exactly one of a settle and a revoke sent at the same time', async () => {
    const page = await pageAs('staff.a', 'desktop');
    await page.goto(`${t.url}/console/items/${ids['A-4']}`);
    const statuses = await Promise.all([
      post(page, `/console/items/${ids['A-4']}/settle`),
      post(page, `/console/items/${ids['A-4']}/revoke`),
    ]);
    assert.deepEqual([...statuses].sort(), [303, 409], `one wins, one is refused (${statuses.join(', ')})`);
    const state = await stateOf(ids['A-4']!);
    assert.equal(state, statuses[0] === 303 ? '1' : '2');
    const ok = await t.platform.db
      .selectFrom('audit_event')
      .select('action')
      .where(
        'target',
        '=',
        (await t.platform.db.selectFrom('arrears_item').select('trace_id').where('id', '=', ids['A-4']!).executeTakeFirstOrThrow())
          .trace_id,
      )
      .where('outcome', '=', 'ok')
      .where('action', 'like', 'item.%.staff')
      .execute();
    assert.equal(ok.length, 1);
    await page.context().close();
  });

  it('shows totals over the filter and exports the same rows as CSV in Chinese, China time and ¥', async () => {
    const page = await pageAs('staff.a', 'desktop');
    await page.goto(`${t.url}/console/items?state=0`);
    const totals = await page.locator('#list-totals').innerText();
    // are still unpaid (A-2 settled, A-4 settled or revoked above).
    assert.match(totals, /共 2 条，合计 ¥1,338\.50/);
    await screenshot(page, 'console-items-totals');
    const href = await page.locator('#export-csv').getAttribute('href');
    assert.equal(href, '/console/items.csv?state=0');
    const csv = await page.evaluate(async (href) => (await fetch(href)).text(), href!);
    const lines = csv
      .replace(/^\ufeff/, '')
      .trim()
      .split('\r\n');
    assert.match(lines[0]!, /^患者,金额,状态,项目,机构,机构编码,发生时间（北京时间）/);
    assert.equal(lines.length, 3, csv);
    assert.ok(lines.some((l) => l.includes('"¥1,305.50"') && l.includes('甲市人民医院') && l.includes('欠费')));
    assert.ok(
      lines.every((l, i) => i === 0 || /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/.test(l)),
      'China time, not ISO UTC',
    );
    assert.ok(!csv.includes('B-ITEM-SECRET') && !csv.includes('999.99'), 'nothing of another institution');
    assert.ok(!csv.includes(idNo), 'ID numbers stay masked');
    await page.goto(`${t.url}/console/batches`);
    assert.match(await page.locator('#list-totals').innerText(), /共 \d+ 个批次/);
    // The BOM (for Excel) is there; fetch's text() would hide it.
    const batches = await page.evaluate(async () => Array.from(new Uint8Array(await (await fetch('/console/batches.csv')).arrayBuffer())));
    const text = Buffer.from(batches).toString('utf8');
    assert.match(text, /^\ufeff编号,机构,机构编码,请求批次号/);
    assert.ok(text.includes('A-REQ-1') && !text.includes('B-REQ-SECRET'));
    await page.goto(`${t.url}/console/appeals?status=all`);
    assert.match(await page.locator('#list-totals').innerText(), /共 0 件申诉/);
    const exports = await t.platform.db.selectFrom('audit_event').select('action').where('action', 'like', 'console.%.export').execute();
    assert.deepEqual(exports.map((e) => e.action).sort(), ['console.batches.export', 'console.items.export']);
    await page.context().close();
  });

  it('shows the institution’s payment channels readably and its name, not its code', async () => {
    const page = await pageAs('staff.a', 'tablet');
    await page.goto(`${t.url}/console/institutions/${a.orgId}`);
    const channels = await page.locator('#payment-channels').innerText();
    assert.match(channels, /电话\s*收费处电话：0591-87654321/);
    assert.match(channels, /地址\s*门诊收费处：福州市鼓楼区八一七北路 1 号\s*地图/);
    assert.ok(!channels.includes('|'), 'not the storage form');
    assert.match(await page.locator('.user').innerText(), /甲市人民医院/);
    await screenshot(page, 'console-institution-channels-tablet');
    await page.context().close();
  });

  it('folds the side menu behind 菜单 on a tablet and a phone, and lets a desktop fold it away', async () => {
    for (const size of ['tablet', 'phone'] as const) {
      const page = await pageAs('staff.a', size, '/console/items');
      assert.equal(await page.locator('nav.cnav').isVisible(), false, 'folded on a narrow screen');
      await page.click('#nav-toggle');
      assert.equal(await page.locator('nav.cnav').isVisible(), true);
      await screenshot(page, `console-nav-open-${page.viewportSize()!.width}`);
      await Promise.all([page.waitForURL(/\/console\/batches$/), page.locator('nav.cnav').getByText('批次').click()]);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= page.viewportSize()!.width, `no sideways scrolling (${width})`);
      await page.context().close();
    }
    const page = await pageAs('staff.a', 'desktop');
    const navBox = await page.locator('nav.cnav').boundingBox();
    const heading = await page.locator('.cmain h2').boundingBox();
    assert.ok(navBox && heading && navBox.x + navBox.width <= heading.x, 'a side column on a desktop');
    await page.click('#nav-toggle');
    assert.equal(await page.locator('nav.cnav').isVisible(), false);
    const wider = await page.locator('.cmain h2').boundingBox();
    assert.ok(wider!.x < heading!.x, 'the page takes the room');
    await page.goto(`${t.url}/console/items`);
    assert.equal(await page.locator('nav.cnav').isVisible(), false, 'stays folded');
    await screenshot(page, 'console-nav-folded-desktop');
    await page.click('#nav-toggle');
    await page.context().close();
  });
});
