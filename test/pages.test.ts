import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '@mdl/platform/testing';
import { assertAccessible, drawsCjk, launchBrowser, phonePage, screenshot } from './support/browser.js';
import { residentId } from './support/people.js';
import { suiteScope } from './support/scope.js';
import { submitWithSmsCode } from './support/card.js';

describe('landing page, error pages and the card form in a real browser', () => {
  let t: TestPlatform;
  let browser: Browser;
  const scope = suiteScope();
  before(async () => {
    t = scope.add(await startTestPlatform({}, { queue: false }), (t) => t.close());
    await t.listen();
    browser = scope.add(await launchBrowser(), (b) => b.close());
  });

  it('renders in Chinese at phone size with an entry for patients, institutions and operators, and a footer', async () => {
    const page = await phonePage(browser);
    const res = await page.goto(t.url + '/');
    assert.equal(res?.status(), 200);
    assert.equal(await page.locator('h1').innerText(), '福建省诊疗失信人员信息管理系统');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scrolling at phone width (${width}px)`);
    assert.equal(await page.locator('#entry-patient a[href="/card"]').count(), 1);
    assert.equal(await page.locator('#entry-hospital a[href="/console/login"]').count(), 1);
    assert.equal(await page.locator('#entry-operator a[href="/console/login"]').count(), 1);
    assert.match(await page.locator('#site-footer').innerText(), /主办单位/);
    assert.doesNotMatch(await page.locator('main').innerText(), /\/umdl\/|\/qmdl\//, 'no interface paths for people to read');
    const icon = await page.request.get(t.url + '/favicon.ico');
    assert.equal(icon.status(), 200);
    assert.match(icon.headers()['content-type'] ?? '', /image\/svg/);
    assert.equal(await page.locator('link[rel=icon]').count(), 1);
    await assertAccessible(page, 'landing page');
    // The test platform is a sandbox: every page it serves says so, visibly (issue #11).
    assert.ok(await page.locator('#sandbox-marker').isVisible());
    assert.match(await page.locator('#sandbox-marker').innerText(), /^测试环境/);
    await screenshot(page, 'landing-phone');
  });

  it('has a font for Chinese: characters are drawn, not shown as missing-glyph boxes', async () => {
    assert.ok(await drawsCjk(await phonePage(browser)));
  });

  it('an unknown address is a styled page with a viewport tag and a way back', async () => {
    const page = await phonePage(browser);
    const res = await page.goto(t.url + '/no/such/page');
    assert.equal(res?.status(), 404);
    assert.match(res?.headers()['content-type'] ?? '', /text\/html/);
    assert.equal(await page.locator('meta[name=viewport]').count(), 1);
    assert.match(await page.locator('main').innerText(), /页面不存在/);
    await page.click('text=返回首页');
    await page.waitForURL(t.url + '/');
    await page.goBack();
    await assertAccessible(page, '404 page');
    await screenshot(page, 'not-found-phone');
    // A hospital system posting to a wrong path still gets an envelope, not a page.
    const post = await page.request.post(t.url + '/no/such/interface', { data: '{}' });
    assert.match(await post.text(), /"respCode"/);
  });

  it('领卡: 居民身份证 first, consent required, a spaced ID number is accepted with its spaces removed', async () => {
    const page = await phonePage(browser);
    await page.goto(t.url + '/card/register');
    const types = await page.locator('#idType option').allInnerTexts();
    assert.equal(types[0], '居民身份证');
    assert.equal(types.at(-1), '其他法定有效证件');
    assert.equal(await page.locator('#idNo[maxlength]').count(), 0, 'input is never cut at a maximum length');
    const idNo = residentId('350102', '19880415', 52);
    const spaced = `${idNo.slice(0, 6)} ${idNo.slice(6, 14)} ${idNo.slice(14)}`;
    await page.fill('#userName', '黄丽华');
    await page.fill('#idNo', spaced);
    await page.fill('#mobilePhone', '139 0000 1234');
    await page.click('button[type=submit]');
    assert.match(await page.locator('#agree-error').innerText(), /同意用户协议和隐私政策/);
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'agree');
    assert.equal(
      await t.platform.db
        .selectFrom('person')
        .select('id')
        .execute()
        .then((r) => r.length),
      0,
      'nothing stored without consent',
    );
    await assertAccessible(page, 'card register with errors');
    await screenshot(page, 'card-register-consent');
    const [terms] = await Promise.all([page.context().waitForEvent('page'), page.click('text=《用户协议》')]);
    await terms.waitForLoadState();
    assert.match(await terms.locator('main').innerText(), /电子健康卡用户协议/);
    await terms.close();
    await page.check('#agree');
    await submitWithSmsCode(page, t.url, '13900001234');
    await page.waitForURL(t.url + '/card');
    const people = await t.platform.db.selectFrom('person').select('id_no_bidx').execute();
    assert.equal(people.length, 1);
    assert.equal(people[0]!.id_no_bidx, t.platform.vault.personKey('01', idNo), 'stored without the spaces');
  });

  it('the card form shows every error at once beside its field', async () => {
    const page = await phonePage(browser);
    await page.goto(t.url + '/card/login');
    await page.click('button[type=submit]');
    for (const f of ['userName', 'idNo', 'mobilePhone']) {
      assert.ok(await page.locator(`#${f}-error`).isVisible(), `${f} has its error`);
      assert.equal(await page.getAttribute(`#${f}`, 'aria-invalid'), 'true');
      assert.equal(await page.getAttribute(`#${f}`, 'aria-describedby').then((v) => v?.split(' ')[0]), `${f}-error`);
    }
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'userName', 'the first invalid field has the focus');
    await assertAccessible(page, 'card sign-in with errors');
    await screenshot(page, 'card-login-errors');
  });
});
