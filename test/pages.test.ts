import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '@mdl/platform/testing';
import { drawsCjk, launchBrowser, phonePage, screenshot } from './support/browser.js';
import { suiteScope } from './support/scope.js';

describe('landing page in a real browser', () => {
  let t: TestPlatform;
  let browser: Browser;
  const scope = suiteScope();
  before(async () => {
    t = scope.add(await startTestPlatform({}, { queue: false }), (t) => t.close());
    await t.listen();
    browser = scope.add(await launchBrowser(), (b) => b.close());
  });

  it('renders in Chinese at phone size', async () => {
    const page = await phonePage(browser);
    const res = await page.goto(t.url + '/');
    assert.equal(res?.status(), 200);
    assert.equal(await page.locator('h1').innerText(), '福建省诊疗失信人员信息管理系统');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scrolling at phone width (${width}px)`);
    // The test platform is a sandbox: every page it serves says so, visibly (issue #11).
    assert.ok(await page.locator('#sandbox-marker').isVisible());
    assert.match(await page.locator('#sandbox-marker').innerText(), /^测试环境/);
    await screenshot(page, 'landing-phone');
  });

  it('has a font for Chinese: characters are drawn, not shown as missing-glyph boxes', async () => {
    assert.ok(await drawsCjk(await phonePage(browser)));
  });
});
