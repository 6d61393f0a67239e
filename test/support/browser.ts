import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { findChromium } from './chromium.js';

export const SCREENSHOT_DIR = resolve(process.env.MDL_SCREENSHOT_DIR ?? 'test-output/screenshots');

/** Headless Chromium driven by playwright-core; which Chromium is said in ./chromium.ts. */
export async function launchBrowser(): Promise<Browser> {
  const found = await findChromium();
  return chromium.launch({
    executablePath: found.executablePath,
    env: found.env,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

/** A phone-sized page (iPhone-12-like viewport), Chinese locale. */
export async function phonePage(browser: Browser): Promise<Page> {
  const ctx = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
  });
  return ctx.newPage();
}

export async function desktopPage(browser: Browser): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'zh-CN' });
  return ctx.newPage();
}

/** Saves a full-page screenshot under test-output/screenshots/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Whether the page draws Chinese with a font that has the characters: a machine without a CJK font draws every
 * one of them as the same missing-glyph box, as it draws a private-use character.
 */
export async function drawsCjk(page: Page): Promise<boolean> {
  await page.setContent('<html lang="zh-CN"><body></body></html>');
  return page.evaluate(() => {
    const draw = (text: string) => {
      const canvas = document.createElement('canvas');
      canvas.width = 120;
      canvas.height = 60;
      const g = canvas.getContext('2d')!;
      g.font = '48px sans-serif';
      g.fillText(text, 0, 50);
      return canvas.toDataURL();
    };
    const blank = draw('');
    const [fu, jian, box] = [draw('福'), draw('建'), draw('\uE000')];
    return fu !== blank && fu !== jian && fu !== box && jian !== box;
  });
}
