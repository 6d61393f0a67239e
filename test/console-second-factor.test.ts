import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { addInstitution, base32Decode, createUser, startTestPlatform, totp, type TestPlatform } from '@mdl/platform/testing';
import { assertAccessible, desktopPage, launchBrowser, readQr, screenshot } from './support/browser.js';
import { CONSOLE_PASSWORD, signInBrowser } from './support/console.js';
import { suiteScope } from './support/scope.js';

/**
 * Issue #12 item 3 in headless Chromium: an operator enforces the second factor for one institution's staff
 * (a staff account without one is then refused), and a staff member of another institution enrols TOTP by
 * scanning the QR code, after which the password alone no longer opens.
 */
describe('second factor per institution in a real browser', () => {
  let t: TestPlatform;
  let browser: Browser;
  let opSecret = '';
  const scope = suiteScope();

  before(async () => {
    t = scope.add(await startTestPlatform({}, { queue: false }), (x) => x.close());
    await t.listen();
    await addInstitution(t.platform, 'H35010200001', { orgName: '福州市第一医院' });
    await addInstitution(t.platform, 'H35010200002', { orgName: '福州市第二医院' });
    opSecret = (await createUser(t.platform, { username: 'op.lin', role: 'operator', password: CONSOLE_PASSWORD }, 'test')).totpSecret;
    for (const [username, orgId] of [
      ['fz1.old', 'H35010200001'],
      ['fz2.old', 'H35010200002'],
    ] as const) {
      await createUser(t.platform, { username, role: 'staff', orgId, password: CONSOLE_PASSWORD }, 'test');
    }
    // Accounts from before every account had a second factor.
    await t.platform.db.updateTable('console_user').set({ totp_secret_enc: null }).where('username', 'like', '%.old').execute();
    browser = scope.add(await launchBrowser(), (b) => b.close());
  });

  const tryPasswordOnly = async (username: string) => {
    const page = await desktopPage(browser);
    await page.goto(`${t.url}/console/login`);
    await page.fill('#f-username', username);
    await page.fill('#f-password', CONSOLE_PASSWORD);
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    await page.waitForTimeout(100);
    const url = page.url();
    await page.close();
    return url;
  };

  it('the operator enforces it for 福州市第一医院; its staff without a factor are refused', async () => {
    assert.equal(await tryPasswordOnly('fz1.old'), `${t.url}/console`, 'not enforced yet');
    const page = await desktopPage(browser);
    await signInBrowser(page, t.url, 'op.lin', opSecret);
    await page.goto(`${t.url}/console/institutions/H35010200001`);
    assert.match(await page.locator('#require-totp').innerText(), /未绑定的账户可仅凭密码登录/);
    await Promise.all([page.waitForURL(/saved=1/), page.click('#require-totp button')]);
    assert.match(await page.locator('#require-totp').innerText(), /必须/);
    await screenshot(page, 'console-require-totp');
    await page.close();
    assert.equal(await tryPasswordOnly('fz1.old'), `${t.url}/console/login`, 'refused once enforced');
    assert.equal(await tryPasswordOnly('fz2.old'), `${t.url}/console`, 'another institution is not affected');
  });

  it('a staff member enrols by scanning the QR code; the password alone then no longer opens', async () => {
    const page = await desktopPage(browser);
    await signInBrowser(page, t.url, 'fz2.old');
    await Promise.all([page.waitForURL(`${t.url}/console/second-factor`), page.click('a[href="/console/second-factor"]')]);
    assert.match(await page.locator('#totp-state').innerText(), /尚未绑定/);
    await assertAccessible(page, 'console second factor');
    const uri = await readQr(page, '#totp-qr');
    const secret = new URL(uri).searchParams.get('secret')!;
    assert.equal(secret, await page.locator('#totp-secret').innerText());
    await page.fill('#f-code', '000000');
    await Promise.all([page.waitForLoadState('load'), page.click('#totp-enrol button[type=submit]')]);
    assert.equal(await page.locator('#f-code').getAttribute('aria-invalid'), 'true');
    // A wrong code stored nothing; the page offers a new secret: scan it again.
    const secret2 = new URL(await readQr(page, '#totp-qr')).searchParams.get('secret')!;
    await page.fill('#f-code', totp(base32Decode(secret2), Date.now()));
    await Promise.all([page.waitForLoadState('load'), page.click('#totp-enrol button[type=submit]')]);
    await page.locator('#totp-done').waitFor();
    await screenshot(page, 'console-totp-enrolled');
    await page.close();
    assert.equal(await tryPasswordOnly('fz2.old'), `${t.url}/console/login`);
    const again = await desktopPage(browser);
    await again.goto(`${t.url}/console/login`);
    await again.fill('#f-username', 'fz2.old');
    await again.fill('#f-password', CONSOLE_PASSWORD);
    // The enrolment spent the current step: the next one opens.
    await again.fill('#f-code', totp(base32Decode(secret2), Date.now() + 30_000));
    await Promise.all([again.waitForURL(`${t.url}/console`), again.click('button[type=submit]')]);
    await again.close();
  });
});
