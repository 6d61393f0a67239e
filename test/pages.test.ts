import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestPlatform, type TestPlatform } from '@mdl/platform/testing';
import { launchBrowser, phonePage, screenshot } from './support/browser.js';

describe('landing page in a real browser', () => {
  let t: TestPlatform;
  let browser: Browser;
  before(async () => {
    t = await startTestPlatform({}, { queue: false });
    await t.listen();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser.close();
    await t.close();
  });

  it('renders in Chinese at phone size', async () => {
    const page = await phonePage(browser);
    const res = await page.goto(t.url + '/');
    assert.equal(res?.status(), 200);
    assert.equal(await page.locator('h1').innerText(), '福建省诊疗失信人员信息管理系统');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `no horizontal scrolling at phone width (${width}px)`);
    await screenshot(page, 'landing-phone');
  });
});
