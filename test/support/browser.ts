import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
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

/** A tablet in portrait (iPad-Air-like width), where the console must still show its key columns. */
export async function tabletPage(browser: Browser): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 820, height: 1180 }, locale: 'zh-CN' });
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

/** Reads the QR code inside `selector` from a screenshot of it, as a phone camera would. */
export async function readQr(page: Page, selector: string): Promise<string> {
  const png = PNG.sync.read(await page.locator(selector).screenshot());
  // jsqr is CommonJS with a `default` property: under NodeNext that is where the types put the function.
  const found = jsQR.default(new Uint8ClampedArray(png.data), png.width, png.height);
  if (!found) throw new Error(`no QR code readable in ${selector}`);
  return found.data;
}

const require = createRequire(import.meta.url);
let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/**
 * Runs axe-core in the page (evaluated through the DevTools protocol, so the page's CSP, which allows no
 * injected script, stays as it is) and returns the serious and critical violations.
 */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(axeSource);
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<AxeResults> } }).axe;
    interface AxeResults {
      violations: { id: string; impact: string | null; help: string; nodes: { target: string[] }[] }[];
    }
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
  });
}

/** Fails with the list of violations when the page has any serious or critical accessibility problem. */
export async function assertAccessible(page: Page, name: string): Promise<void> {
  const found = await seriousA11yViolations(page);
  if (found.length) {
    throw new Error(
      `${name}: accessibility violations\n${found.map((v) => `- ${v.impact} ${v.id}: ${v.help} ${v.targets.join(', ')}`).join('\n')}`,
    );
  }
}
