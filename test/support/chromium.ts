import { accessSync, constants, createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { homedir, platform } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { brotliDecompressSync, createBrotliDecompress } from 'node:zlib';
import { chromium } from 'playwright-core';

/**
 * Where the page tests get a Chromium, first found wins:
 *  1. MDL_CHROMIUM: a path to a Chromium or Chrome executable (an error if it is not one), or `npm` to go
 *     straight to step 4 (how CI plays a machine without a browser);
 *  2. a system Chromium or Chrome on PATH (chromium, chromium-browser, google-chrome, ...) or in its usual place;
 *  3. Playwright's own browser cache (PLAYWRIGHT_BROWSERS_PATH or ~/.cache/ms-playwright), if
 *     `npx playwright install` was ever run;
 *  4. the Chromium inside the npm package @sparticuz/chromium (a devDependency: `npm ci` brings it, no install
 *     script and no download), unpacked once into node_modules/.cache/mdl-chromium/<version>/.
 * A CJK font from the npm package @embedpdf/fonts-sc is added to whatever fonts the machine has, so that Chinese
 * pages never render as empty boxes on a machine without one.
 */
export interface ChromiumChoice {
  executablePath: string;
  source: 'MDL_CHROMIUM' | 'system' | 'playwright' | 'npm';
  /** Environment for the browser process. */
  env: Record<string, string>;
}

const require = createRequire(import.meta.url);

/** An installed package's folder (both packages' entry points sit one folder down). */
const packageDir = (name: string) => dirname(dirname(require.resolve(name)));
/** node_modules/.cache/<name>: goes away with `npm ci`, like the packages it is made from. */
const cacheDir = (name: string) => join(dirname(dirname(packageDir('@sparticuz/chromium'))), '.cache', name);

const SYSTEM_NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome', 'chrome'];
const SYSTEM_PATHS = [
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/opt/google/chrome/chrome',
];

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function systemChromium(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const name of SYSTEM_NAMES) {
    for (const dir of dirs) if (executable(join(dir, name))) return join(dir, name);
  }
  return SYSTEM_PATHS.find(executable);
}

/** The revision this playwright-core expects first, then any other Chromium build in the cache, newest first. */
function playwrightChromium(): string | undefined {
  const own = chromium.executablePath();
  if (own && executable(own)) return own;
  const cache =
    process.env.PLAYWRIGHT_BROWSERS_PATH ||
    (platform() === 'darwin' ? join(homedir(), 'Library/Caches/ms-playwright') : join(homedir(), '.cache/ms-playwright'));
  if (!existsSync(cache)) return undefined;
  const builds = readdirSync(cache)
    .filter((d) => /^chromium(_headless_shell)?-\d+$/.test(d))
    .sort((a, b) => Number(b.split('-')[1]) - Number(a.split('-')[1]));
  const inside = [
    'chrome-linux64/chrome',
    'chrome-linux/chrome',
    'chrome-headless-shell-linux64/chrome-headless-shell',
    'chrome-linux/headless_shell',
  ];
  for (const b of builds) {
    const found = inside.map((p) => join(cache, b, p)).find(executable);
    if (found) return found;
  }
  return undefined;
}

/** Regular files of an uncompressed tar (ustar or GNU), enough for the package's library archive. */
function untar(tar: Buffer, into: string): void {
  let longName: string | undefined;
  for (let at = 0; at + 512 <= tar.length;) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (from: number, len: number) => header.toString('utf8', from, from + len).replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const body = tar.subarray(at + 512, at + 512 + size);
    const name = longName ?? [field(345, 155), field(0, 100)].filter(Boolean).join('/');
    longName = undefined;
    if (type === 'L') longName = body.toString('utf8').replace(/\0.*$/s, '');
    else if (type === '0' || type === '7') {
      if (name.split('/').includes('..')) throw new Error(`unsafe path in archive: ${name}`);
      mkdirSync(dirname(join(into, name)), { recursive: true });
      writeFileSync(join(into, name), body, { mode: parseInt(field(100, 8).trim() || '644', 8) });
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
}

/**
 * Unpacks the package's Chromium into a folder named after its version. Several test processes may get here at
 * once: each unpacks into a folder of its own and renames it into place; the first rename wins.
 */
export async function unpackNpmChromium(cacheRoot = cacheDir('mdl-chromium')): Promise<{ executablePath: string; libDir: string }> {
  if (platform() !== 'linux' || process.arch !== 'x64') throw new Error(`the Chromium in @sparticuz/chromium is for Linux x64 only`);
  const pkgDir = packageDir('@sparticuz/chromium');
  const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const target = join(cacheRoot, version);
  const result = { executablePath: join(target, 'chromium'), libDir: join(target, 'lib') };
  if (executable(result.executablePath)) return result;
  const work = `${target}.partial-${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(work, { recursive: true });
  try {
    untar(brotliDecompressSync(readFileSync(join(pkgDir, 'bin', 'al2023.tar.br'))), work);
    await pipeline(
      createReadStream(join(pkgDir, 'bin', 'chromium.br')),
      createBrotliDecompress(),
      createWriteStream(join(work, 'chromium'), { mode: 0o755 }),
    );
    try {
      renameSync(work, target);
    } catch (e) {
      if (!executable(result.executablePath)) throw e; // not a lost race: a real failure
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return result;
}

/** A fontconfig file: the machine's own configuration when it has one, plus the packaged CJK font. */
function fontConfig(): string {
  const fontsDir = join(packageDir('@embedpdf/fonts-sc'), 'fonts');
  const dir = cacheDir('mdl-fontconfig');
  const file = join(dir, 'fonts.conf');
  const xml = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
    '<fontconfig>',
    '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>',
    `  <dir>${fontsDir}</dir>`,
    `  <cachedir>${join(dir, 'cache')}</cachedir>`,
    '</fontconfig>',
    '',
  ].join('\n');
  if (!existsSync(file) || readFileSync(file, 'utf8') !== xml) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${file}.${process.pid}`, xml);
    renameSync(`${file}.${process.pid}`, file);
  }
  return file;
}

/** `setting` is MDL_CHROMIUM's value. */
export async function chooseChromium(setting: string | undefined): Promise<ChromiumChoice> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), FONTCONFIG_FILE: fontConfig() };
  if (setting && setting !== 'npm') {
    if (!executable(setting)) throw new Error(`MDL_CHROMIUM=${setting}: no executable there (unset it to let the tests find a browser)`);
    return { executablePath: setting, source: 'MDL_CHROMIUM', env };
  }
  if (setting !== 'npm') {
    const system = systemChromium();
    if (system) return { executablePath: system, source: 'system', env };
    const cached = playwrightChromium();
    if (cached) return { executablePath: cached, source: 'playwright', env };
  }
  const packaged = await unpackNpmChromium();
  const libs = [packaged.libDir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  return { executablePath: packaged.executablePath, source: 'npm', env: { ...env, LD_LIBRARY_PATH: libs } };
}

let chosen: Promise<ChromiumChoice> | undefined;

/** The Chromium of this test process (looked up once). */
export function findChromium(): Promise<ChromiumChoice> {
  chosen ??= chooseChromium(process.env.MDL_CHROMIUM);
  return chosen;
}
