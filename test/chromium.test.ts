import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { chooseChromium, unpackNpmChromium } from './support/chromium.js';
import { drawsCjk } from './support/browser.js';

describe('a Chromium for the page tests on any machine', () => {
  it('stops at an MDL_CHROMIUM that names no executable instead of looking further', async () => {
    await assert.rejects(chooseChromium('/nonexistent/chromium'), /MDL_CHROMIUM=\/nonexistent\/chromium: no executable there/);
  });

  it('unpacks the npm package’s Chromium once when two ask for it at the same moment', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'mdl-chromium-'));
    try {
      const [a, b] = await Promise.all([unpackNpmChromium(cache), unpackNpmChromium(cache)]);
      assert.equal(a.executablePath, b.executablePath);
      assert.equal(a.executablePath, join(cache, a.executablePath.split('/').at(-2)!, 'chromium'));
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
  });

  it('MDL_CHROMIUM=npm skips the machine’s browsers; that Chromium launches and draws Chinese text with a real font', async () => {
    const found = await chooseChromium('npm');
    assert.equal(found.source, 'npm');
    const browser = await chromium.launch({
      executablePath: found.executablePath,
      env: found.env,
      args: ['--no-sandbox', '--disable-gpu'],
    });
    try {
      const page = await browser.newPage({ locale: 'zh-CN' });
      assert.ok(await drawsCjk(page), 'Chinese characters are drawn as glyphs, not as missing-glyph boxes');
    } finally {
      await browser.close();
    }
  });
});
