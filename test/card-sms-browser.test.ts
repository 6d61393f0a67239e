import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '@mdl/platform/testing';
import { launchBrowser, phonePage, screenshot } from './support/browser.js';
import { residentId } from './support/people.js';
import { suiteScope } from './support/scope.js';

/**
 * Issue #12 in a real browser at phone size: a citizen signs in to the e-health card with the SMS code,
 * which the tester reads from the sandbox's outbox page (in another tab, as a person would).
 */
describe('/card sign-in with an SMS code, in Chromium', () => {
  let t: TestPlatform;
  let base: string;
  let browser: Browser;
  const who = { userName: '何香凝', idType: '01', idNo: residentId('350102', '19780627', 77), mobilePhone: '13655556666' };

  const scope = suiteScope();
  before(async () => {
    t = scope.add(await startTestPlatform({ ehcEnv: 'TEST' }, { queue: false }), (t) => t.close());
    base = await t.listen();
    t.platform.config.publicUrl = base;
    const r = await t.platform.ehc.registry.register(who);
    assert.ok(!('problem' in r));
    browser = scope.add(await launchBrowser(), (b) => b.close());
  });

  it('details, then the code from the outbox, then the card', async () => {
    const page = await phonePage(browser);
    await page.goto(`${base}/card/login`);
    await page.fill('#userName', who.userName);
    await page.fill('#idNo', who.idNo);
    await page.fill('#mobilePhone', who.mobilePhone);
    await page.click('button[type=submit]');
    await page.waitForSelector('#code');
    assert.match(await page.locator('main').innerText(), /验证码已发送至 136\*\*\*\*6666/);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'code', 'the code field has the focus');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scrolling (${width}px)`);
    await screenshot(page, 'card-sms-code');

    // The tester's "phone": the sandbox outbox, in another tab.
    const outbox = await page.context().newPage();
    await outbox.goto(`${base}/card/sandbox/sms`);
    const text = await outbox.locator('.sms').first().innerText();
    assert.match(text, /13655556666/);
    const code = /验证码 (\d{6})/.exec(text)![1]!;
    await screenshot(outbox, 'card-sms-outbox');
    await outbox.close();

    // A wrong code first: the one message, the form again.
    await page.fill('#code', code === '000000' ? '000001' : '000000');
    await page.click('button[type=submit]');
    await page.waitForSelector('[role=alert]');
    assert.match(await page.locator('[role=alert]').innerText(), /信息不正确/);
    await page.fill('#code', code);
    await Promise.all([page.waitForURL(`${base}/card`), page.click('button[type=submit]')]);
    await page.waitForSelector('#health-code');
    assert.match(await page.locator('main').innerText(), /何\*凝/);
    await screenshot(page, 'card-sms-signed-in');

    // Logout ends it: the page asks to sign in again.
    await Promise.all([page.waitForURL(/\/card\/login/), page.click('button:has-text("退出")')]);
  });
});
