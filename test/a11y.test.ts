import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createUser, type TestInstitution, type TestPlatform } from '@mdl/platform/testing';
import { assertAccessible, launchBrowser, phonePage, screenshot, tabletPage } from './support/browser.js';
import { residentId } from './support/people.js';
import { CONSOLE_PASSWORD, batchRow, cardOf, report, signInBrowser, waitForBatch } from './support/console.js';
import { suiteScope } from './support/scope.js';
import { startWithHospital } from './support/suite.js';

/**
 * Every page, as each kind of user sees it, through axe-core in the same Chromium: no serious or critical
 * accessibility violation. Console pages at desktop and tablet (820 px) size, public and card pages at phone size.
 */
describe('accessibility of every page (axe-core)', () => {
  let t: TestPlatform;
  let browser: Browser;
  let inst: TestInstitution;
  let totpSecret = '';
  let staffTotp = '';
  let batchId = 0;
  let itemId = 0;
  const scope = suiteScope();

  before(async () => {
    const suite = await startWithHospital(scope, [{ orgId: 'H35010200088', orgName: '福州市第八十八医院' }], { callbackRetryLimit: 0 });
    t = suite.t;
    [inst] = suite.insts;
    const { hospital } = suite;
    const op = await createUser(t.platform, { username: 'op.a11y', role: 'operator', password: CONSOLE_PASSWORD }, 'test');
    totpSecret = op.totpSecret!;
    // Every role signs in with a second factor (issue #12).
    staffTotp = (
      await createUser(t.platform, { username: 'staff.a11y', role: 'staff', orgId: inst.orgId, password: CONSOLE_PASSWORD }, 'test')
    ).totpSecret!;
    hospital.failNext = 1000;
    const idNo = residentId('350102', '19820909', 88);
    const card = await cardOf(t, inst, idNo, '郑国平');
    await report(t, inst, `${hospital.url}/umdl/callback`, 'A-001', [
      { idNo, idType: '01', userName: '郑国平', ehealthCardId: card, items: [{ orgTraceId: 'Z1', amount: '1305.50', daysAgo: 12 }] },
    ]);
    await waitForBatch(t, inst.orgId, 'A-001', { callback: 'failed' });
    batchId = (await batchRow(t, inst.orgId, 'A-001')).id;
    itemId = (await t.platform.db.selectFrom('arrears_item').select('id').executeTakeFirstOrThrow()).id;
    browser = scope.add(await launchBrowser(), (b) => b.close());
  });

  const consolePages = (role: 'operator' | 'staff') => {
    const common = ['/console', '/console/institutions', `/console/institutions/${inst.orgId}`, '/console/batches'];
    const more = [
      `/console/batches/${batchId}`,
      '/console/items',
      `/console/items/${itemId}`,
      '/console/callbacks',
      '/console/appeals',
      '/console/reconciliation',
    ];
    const operator = ['/console/institutions/new', '/console/reminders', '/console/audit', '/console/policy', '/console/users'];
    return [...common, ...more, '/console/password', ...(role === 'operator' ? operator : [])];
  };

  async function check(page: Page, paths: string[], label: string): Promise<void> {
    for (const path of paths) {
      const res = await page.goto(t.url + path);
      assert.ok(res && res.status() < 400, `${path} opens (${res?.status()})`);
      await assertAccessible(page, `${label} ${path}`);
    }
  }

  it('console pages of an operator, at desktop size', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    await page.goto(t.url + '/console/login');
    await assertAccessible(page, 'console login');
    await signInBrowser(page, t.url, 'op.a11y', totpSecret);
    await check(page, consolePages('operator'), 'operator');
    await ctx.close();
  });

  it('console pages of institution staff, at tablet size, without sideways scrolling of the page', async () => {
    const page = await tabletPage(browser);
    await signInBrowser(page, t.url, 'staff.a11y', staffTotp);
    for (const path of consolePages('staff')) {
      await page.goto(t.url + path);
      await assertAccessible(page, `staff ${path}`);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 820, `${path} fits 820 px (${width}px)`);
    }
    await page.goto(t.url + '/console/items');
    assert.match(await page.locator('#items').innerText(), /福州市第八十八医院/, 'the institution by name');
    await screenshot(page, 'console-items-tablet');
    await page.context().close();
  });

  it('public and card pages at phone size', async () => {
    const page = await phonePage(browser);
    await check(page, ['/', '/card/login', '/card/register', '/card/terms', '/card/privacy', '/card/kiosk'], 'public');
    await page.goto(t.url + '/no-such-page');
    await assertAccessible(page, '404');
    await page.context().close();
  });
});
