import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { addInstitution, startTestPlatform, type TestInstitution, type TestPlatform } from '@mdl/platform/testing';
import { call } from './support/client.js';
import { desktopPage, launchBrowser, phonePage, readQr, screenshot } from './support/browser.js';
import { residentId } from './support/people.js';
import { suiteScope } from './support/scope.js';
import { submitWithSmsCode } from './support/card.js';

/**
 * The three flows of guide §3.1.2 in headless Chromium at phone size, with the hospital's calls made
 * over HTTP through the real gateway: 小程序授权 (authUrl opened on the phone), 主扫 (the kiosk shows the
 * authUrl as a QR), 被扫 (the phone shows the dynamic health code, ORG_EHC_003 verifies it). QR codes are
 * read back from screenshots with a QR reader, as a camera would.
 */

async function noSideScroll(page: Page): Promise<void> {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `no horizontal scrolling at phone width (${width}px)`);
}

/** This browser's /card CSRF token (the double-submit cookie's value), for a POST made outside a form. */
async function cardCsrf(page: Page): Promise<string> {
  return (await page.context().cookies()).find((c) => c.name === 'ehc_csrf')?.value ?? '';
}

async function fillIdentity(page: Page, who: { userName: string; idNo: string; mobilePhone: string }): Promise<void> {
  await page.fill('#userName', who.userName);
  await page.selectOption('#idType', '01');
  await page.fill('#idNo', who.idNo);
  await page.fill('#mobilePhone', who.mobilePhone);
  if (await page.locator('#agree').count()) await page.check('#agree');
}

describe('e-health-card flows in a real browser', () => {
  let t: TestPlatform;
  let base: string;
  let inst: TestInstitution;
  let browser: Browser;
  let phone: Page;
  const lin = { userName: '林晓梅', idNo: residentId('350102', '19900307', 123), mobilePhone: '13800000001' };
  const chen = { userName: '陈建国', idNo: residentId('350203', '19780615', 45), mobilePhone: '13900000002' };

  const gen = (outAuthNo: string, extData?: Record<string, unknown>) =>
    call(base, '/ehc/genAuthUrl', inst.appId, inst.secret, { orgId: inst.orgId, outAuthNo, ...(extData ? { extData } : {}) });
  const query = (outAuthNo: string) => call(base, '/ehc/queryAuthResult', inst.appId, inst.secret, { orgId: inst.orgId, outAuthNo });
  const verify = (ehealthCode: string) => call(base, '/ehc/verifyQrCode', inst.appId, inst.secret, { orgId: inst.orgId, ehealthCode });
  const personCount = async () =>
    Number(
      (
        await t.platform.db
          .selectFrom('person')
          .select((e) => e.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  const scope = suiteScope();
  before(async () => {
    t = scope.add(await startTestPlatform({ ehcEnv: 'TEST', ehcWxMiniAppId: 'wxa1b2c3d4e5f60708' }, { queue: false }), (t) => t.close());
    base = await t.listen();
    t.platform.config.publicUrl = base;
    // A test-environment credential: the kiosk demo acts as the hospital with it.
    inst = await addInstitution(t.platform, 'H35010200001', { orgName: '福州市第一医院', env: 'test' });
    browser = scope.add(await launchBrowser(), (b) => b.close());
    phone = await phonePage(browser);
  });

  it('小程序授权: the portal gets a link, the citizen 领卡 (a bad ID number first) and authorizes, ORG_EHC_002 answers succ', async () => {
    const r = await gen('MP-001', { authAppId: 'wxhospital0001', authBackUrl: 'pages/pay/index?from=ehc' });
    assert.equal(r.respCode, '000000', r.respMsg);
    const authUrl = String(r.payload!.authUrl);
    assert.ok(authUrl.startsWith(`${base}/card/auth/`) && authUrl.length <= 200, authUrl);
    const token = authUrl.slice(authUrl.lastIndexOf('/') + 1);
    assert.equal(r.payload!.wxMiniAppId, 'wxa1b2c3d4e5f60708');
    assert.equal(
      r.payload!.wxMiniPath,
      `pages/loading/index?encdata=${token}&authAppId=wxhospital0001&authBackUrl=pages%2Fpay%2Findex%3Ffrom%3Dehc&authSource=WX_MINI`,
    );
    assert.deepEqual((await query('MP-001')).payload, { authStatus: 'ing' });

    await phone.goto(authUrl);
    assert.match(await phone.locator('main').innerText(), /福州市第一医院[\s\S]*申请获取您的电子健康卡信息/);
    await noSideScroll(phone);
    await screenshot(phone, 'ehc-1-auth-sign-in');

    await phone.click('text=立即领卡');
    const before = await personCount();
    await fillIdentity(phone, { ...lin, idNo: lin.idNo.slice(0, 17) + (lin.idNo[17] === '0' ? '1' : '0') });
    await phone.click('button[type=submit]');
    assert.match(await phone.locator('#idNo-error').innerText(), /身份证号校验码错误/);
    assert.equal(await phone.getAttribute('#idNo', 'aria-invalid'), 'true');
    assert.equal(await phone.evaluate(() => document.activeElement?.id), 'idNo', 'the first invalid field has the focus');
    assert.equal(await phone.inputValue('#userName'), lin.userName, 'the form keeps what was typed');
    assert.equal(await personCount(), before, 'nothing is registered from an invalid ID number');
    await noSideScroll(phone);
    await screenshot(phone, 'ehc-1-register-invalid-id');

    await fillIdentity(phone, lin);
    await submitWithSmsCode(phone, base, lin.mobilePhone);
    await phone.waitForURL(authUrl);
    assert.equal(await personCount(), before + 1);
    assert.match(await phone.locator('main').innerText(), /林\*梅/);
    await screenshot(phone, 'ehc-1-auth-consent');

    await phone.click('text=同意授权');
    await phone.waitForSelector('text=授权成功');
    await screenshot(phone, 'ehc-1-auth-success');

    const done = await query('MP-001');
    assert.equal(done.respCode, '000000');
    assert.equal(done.payload!.authStatus, 'succ');
    assert.equal(done.payload!.idNo, lin.idNo);
    assert.equal(done.payload!.userName, lin.userName);
    assert.equal(done.payload!.mobilePhone, lin.mobilePhone);
    assert.equal(done.payload!.birthday, '19900307');
    assert.match(String(done.payload!.ehealthCardId), /^[0-9A-F]{32}$/);

    const reveal = await t.platform.db.selectFrom('audit_event').selectAll().where('action', '=', 'ehc.auth.reveal').execute();
    assert.equal(reveal.length, 1);
    assert.equal(reveal[0]!.org_id, inst.orgId);
    assert.equal(reveal[0]!.actor_id, inst.appId);
    assert.equal(reveal[0]!.subject_bidx, t.platform.vault.personKey('01', lin.idNo));
    const allow = await t.platform.db.selectFrom('audit_event').selectAll().where('action', '=', 'ehc.auth.allow').execute();
    assert.equal(allow.length, 1);
    const trail = JSON.stringify(await t.platform.db.selectFrom('audit_event').selectAll().execute());
    assert.ok(!trail.includes(lin.idNo) && !trail.includes(lin.userName), 'the audit trail holds no identity in clear');

    const reused = await gen('MP-001');
    assert.equal(reused.respCode, '-2');
    assert.match(reused.respMsg, /已使用/);
  });

  it('小程序授权, refused: the citizen cancels and ORG_EHC_002 answers cancel without identity', async () => {
    const r = await gen('MP-002');
    await phone.goto(String(r.payload!.authUrl));
    await phone.click('text=拒绝授权');
    await phone.waitForSelector('text=您已拒绝');
    await screenshot(phone, 'ehc-1-auth-cancelled');
    assert.deepEqual((await query('MP-002')).payload, { authStatus: 'cancel' });
    // A late click on the consent page changes nothing.
    const late = await phone.request.post(String(r.payload!.authUrl), { form: { decision: 'allow', _csrf: await cardCsrf(phone) } });
    assert.equal(late.status(), 200);
    assert.deepEqual((await query('MP-002')).payload, { authStatus: 'cancel' });
  });

  it('works without JavaScript: 领卡 and consent are plain forms; sign-in never redirects off the card pages', async () => {
    const ctx = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      locale: 'zh-CN',
      javaScriptEnabled: false,
    });
    const p = await ctx.newPage();
    const r = await gen('MP-003');
    await p.goto(String(r.payload!.authUrl));
    await p.click('text=立即领卡');
    const zhao = { userName: '赵敏', idNo: residentId('350402', '19950220', 7), mobilePhone: '13600000004' };
    await fillIdentity(p, { ...zhao, mobilePhone: '12345' });
    await p.click('button[type=submit]');
    assert.match(await p.locator('#mobilePhone-error').innerText(), /手机号/);
    await fillIdentity(p, zhao);
    await submitWithSmsCode(p, base, zhao.mobilePhone);
    await p.click('text=同意授权');
    await p.waitForSelector('text=授权成功');
    const done = await query('MP-003');
    assert.equal(done.payload!.authStatus, 'succ');
    assert.equal(done.payload!.userName, zhao.userName);

    await p.goto(`${base}/card/login`);
    const _csrf = await p.getAttribute('input[name=_csrf]', 'value');
    const res = await p.request.post(`${base}/card/login`, {
      form: { ...zhao, idType: '01', _csrf: String(_csrf), next: 'https://evil.example/steal' },
      maxRedirects: 0,
    });
    assert.equal(res.status(), 200);
    assert.match(await res.text(), /name="next" value="\/card"/, 'the code form leads to /card, not away');
    await noSideScroll(p);
    await screenshot(p, 'ehc-card-login');
    await ctx.close();
  });

  it('主扫: the kiosk shows the authUrl as a QR and polls; a second citizen signs in with a card from ORG_EHC_004', async () => {
    const card = await call(base, '/ehc/queryEcAuthResult', inst.appId, inst.secret, {
      orgId: inst.orgId,
      type: '01',
      psnNo: 'P-CHEN',
      idNo: chen.idNo,
      idType: '01',
      userName: chen.userName,
    });
    assert.equal(card.respCode, '000000', card.respMsg);
    // A card from ORG_EHC_004 has no phone of record; here it got one the way test/card-squat.test.ts shows (闽政通).
    await t.platform.db
      .updateTable('person')
      .set({ phone_enc: t.platform.vault.encrypt(chen.mobilePhone) })
      .where('card_no', '=', String(card.payload!.cardNo))
      .execute();

    const kiosk = await desktopPage(browser);
    await kiosk.goto(`${base}/card/kiosk`);
    await kiosk.setViewportSize({ width: 390, height: 844 });
    await screenshot(kiosk, 'ehc-2-kiosk-home-phone');
    await kiosk.setViewportSize({ width: 1366, height: 900 });
    await kiosk.fill('#appId', 'NO-SUCH-APP');
    await kiosk.click('text=主扫：展示授权二维码');
    assert.match(await kiosk.locator('#appId-error').innerText(), /应用 ID 不存在/, 'the error is beside the field');
    assert.equal(await kiosk.getAttribute('#appId', 'aria-invalid'), 'true');
    assert.equal(await kiosk.evaluate(() => document.activeElement?.id), 'appId');
    assert.equal(await kiosk.inputValue('#appId'), 'NO-SUCH-APP', 'what was typed is kept');
    await kiosk.fill('#appId', ` ${inst.appId.slice(0, 6)} ${inst.appId.slice(6)} `);
    await kiosk.click('text=主扫：展示授权二维码');
    await kiosk.waitForSelector('#auth-qr svg');
    const authUrl = await readQr(kiosk, '#auth-qr');
    assert.equal(authUrl, await kiosk.getAttribute('#auth-qr', 'data-auth-url'));
    assert.ok(authUrl.startsWith(`${base}/card/auth/`), authUrl);
    const outAuthNo = await kiosk.innerText('#out-auth-no');
    assert.deepEqual((await query(outAuthNo)).payload, { authStatus: 'ing' });
    await screenshot(kiosk, 'ehc-2-kiosk-qr');
    await kiosk.setViewportSize({ width: 390, height: 844 });
    await noSideScroll(kiosk);
    await screenshot(kiosk, 'ehc-2-kiosk-qr-phone');

    const other: BrowserContext = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: 'zh-CN',
    });
    const phone2 = await other.newPage();
    await phone2.goto(authUrl);
    await fillIdentity(phone2, chen);
    await submitWithSmsCode(phone2, base, chen.mobilePhone, 'button:has-text("获取验证码")');
    await phone2.waitForSelector('text=同意授权');
    await screenshot(phone2, 'ehc-2-phone-consent');
    await phone2.click('text=同意授权');
    await phone2.waitForSelector('text=授权成功');

    // The kiosk page polls ORG_EHC_002 (through its server side) and turns to success by itself.
    await kiosk.waitForSelector('#kiosk-status[data-status=succ]', { timeout: 15_000 });
    assert.match(await kiosk.innerText('#kiosk-status'), /陈\*国/);
    await screenshot(kiosk, 'ehc-2-kiosk-success');
    await kiosk.setViewportSize({ width: 390, height: 844 });
    await screenshot(kiosk, 'ehc-2-kiosk-success-phone');
    const done = await query(outAuthNo);
    assert.equal(done.payload!.authStatus, 'succ');
    assert.equal(done.payload!.ehealthCardId, card.payload!.ehealthCardId);
    assert.equal(done.payload!.mobilePhone, chen.mobilePhone, 'the first sign-in recorded the phone');
    await other.close();
    await kiosk.close();
  });

  it('被扫: the card page shows a dynamic code that reads back, ORG_EHC_003 verifies it; a tampered code is refused', async () => {
    const res = await phone.goto(`${base}/card`);
    assert.equal(res?.headers()['refresh'], '50', 'the code page renews itself before the 60 s code expires');
    const shown = (await phone.innerText('#health-code')).trim();
    assert.ok(shown.length <= 128, shown);
    assert.equal(await readQr(phone, '#health-qr'), shown);
    await noSideScroll(phone);
    await screenshot(phone, 'ehc-3-card-health-code');

    const ok = await verify(shown);
    assert.equal(ok.respCode, '000000', ok.respMsg);
    assert.equal(ok.payload!.idNo, lin.idNo);
    assert.equal(ok.payload!.userName, lin.userName);

    await phone.reload();
    const renewed = (await phone.innerText('#health-code')).trim();
    assert.notEqual(renewed, shown, 'every rendering is a new code');
    assert.equal((await verify(renewed)).respCode, '000000');
    assert.equal((await verify(renewed)).respCode, '-2', 'a code verifies once');
    await phone.reload();
    const third = (await phone.innerText('#health-code')).trim();

    const kiosk = await phonePage(browser);
    await kiosk.goto(`${base}/card/kiosk`);
    await kiosk.fill('#appId', inst.appId);
    await kiosk.click('text=被扫：扫描患者健康码');
    await kiosk.fill('#ehealthCode', third);
    await kiosk.click('button:has-text("核验")');
    await kiosk.waitForSelector('#kiosk-status[data-status=succ]');
    assert.match(await kiosk.innerText('#kiosk-status'), /林\*梅/);
    await screenshot(kiosk, 'ehc-3-kiosk-verified');

    const forged = third.slice(0, -4) + (third.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    await kiosk.fill('#ehealthCode', forged);
    await kiosk.click('button:has-text("核验")');
    await kiosk.waitForSelector('#kiosk-status[data-status=refused]');
    assert.match(await kiosk.innerText('#kiosk-status'), /核验未通过：.*签名无效/);
    assert.doesNotMatch(await kiosk.innerText('#kiosk-status'), /-2|000105/, 'no response code shown to people');
    assert.equal(await kiosk.getAttribute('#kiosk-status', 'data-resp-code'), '-2');
    await screenshot(kiosk, 'ehc-3-kiosk-refused');
    await kiosk.context().close();
  });
});

describe('e-health-card expiry in a real browser', () => {
  let t: TestPlatform;
  let base: string;
  let inst: TestInstitution;
  let browser: Browser;

  const scope = suiteScope();
  before(async () => {
    t = scope.add(await startTestPlatform({ ehcEnv: 'TEST', ehcSessionTtlSeconds: 2, ehcCodeTtlSeconds: 2 }, { queue: false }), (t) =>
      t.close(),
    );
    base = await t.listen();
    t.platform.config.publicUrl = base;
    inst = await addInstitution(t.platform, 'H35010200009', { orgName: '福建省立医院' });
    browser = scope.add(await launchBrowser(), (b) => b.close());
  });

  it('an undecided session turns fail, its page says so, and its outAuthNo is spent; an old health code is refused', async () => {
    const phone = await phonePage(browser);
    await phone.goto(`${base}/card/register`);
    await fillIdentity(phone, { userName: '王芳', idNo: residentId('350581', '20010101', 88), mobilePhone: '13700000003' });
    await submitWithSmsCode(phone, base, '13700000003');
    await phone.waitForURL(`${base}/card`);
    const code = (await phone.innerText('#health-code')).trim();
    const r = await call(base, '/ehc/genAuthUrl', inst.appId, inst.secret, { orgId: inst.orgId, outAuthNo: 'EXP-1' });
    const authUrl = String(r.payload!.authUrl);

    await new Promise((res) => setTimeout(res, 2200));
    const q = await call(base, '/ehc/queryAuthResult', inst.appId, inst.secret, { orgId: inst.orgId, outAuthNo: 'EXP-1' });
    assert.deepEqual(q.payload, { authStatus: 'fail' });
    await phone.goto(authUrl);
    await phone.waitForSelector('text=授权已过期');
    await screenshot(phone, 'ehc-1-auth-expired');
    // Consent after expiry changes nothing.
    await phone.request.post(authUrl, { form: { decision: 'allow', _csrf: await cardCsrf(phone) } });
    assert.deepEqual(
      (await call(base, '/ehc/queryAuthResult', inst.appId, inst.secret, { orgId: inst.orgId, outAuthNo: 'EXP-1' })).payload,
      {
        authStatus: 'fail',
      },
    );
    const again = await call(base, '/ehc/genAuthUrl', inst.appId, inst.secret, { orgId: inst.orgId, outAuthNo: 'EXP-1' });
    assert.equal(again.respCode, '-2');

    const v = await call(base, '/ehc/verifyQrCode', inst.appId, inst.secret, { orgId: inst.orgId, ehealthCode: code });
    assert.equal(v.respCode, '-2');
    assert.match(v.respMsg, /健康码已过期/);
    assert.equal(v.payload, undefined);
  });
});
