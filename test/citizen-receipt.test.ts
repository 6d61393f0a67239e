import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import type { Browser, Page } from 'playwright-core';
import { createUser, startTestPlatform, type TestPlatform } from '@mdl/platform/testing';
import { assertAccessible, desktopPage, launchBrowser, phonePage, screenshot, tabletPage } from './support/browser.js';
import { addSite, itemId, mdrUrlFor, registerPatient, report, type Patient, type Site } from './support/citizen.js';
import { CONSOLE_PASSWORD, signInBrowser } from './support/console.js';
import { residentId } from './support/people.js';
import { suiteScope } from './support/scope.js';

/**
 * A receipt photo on an appeal (issue #17 point 4): the citizen attaches it at phone size, its type and size
 * are checked (errors beside the field), it is stored sealed, and the operator sees it on the appeal page at
 * desktop and tablet size; staff of another institution get nothing.
 */
describe('citizen appeal with a receipt photo', () => {
  let t: TestPlatform;
  let base: string;
  let fz: Site;
  let xm: Site;
  let alice: Patient;
  let browser: Browser;
  let page: Page;
  const photo = (() => {
    const png = new PNG({ width: 60, height: 40 });
    for (let i = 0; i < png.data.length; i += 4) png.data.set([0x0f, 0x5f, 0xa8, 0xff], i);
    return PNG.sync.write(png);
  })();
  const users: Record<string, string> = {};

  const scope = suiteScope();
  before(async () => {
    t = scope.add(await startTestPlatform(), (t) => t.close());
    base = await t.listen();
    fz = scope.add(await addSite(t, 'H35010200061', '福州市第六十一医院'), (s) => s.hospital.stop());
    xm = scope.add(await addSite(t, 'H35020300062', '厦门市第六十二医院'), (s) => s.hospital.stop());
    alice = await registerPatient(base, fz, residentId('350102', '19900307', 161), '林晓梅', 'P-R');
    await report(base, fz, 'FZ-R1', [
      {
        patient: alice,
        items: [
          { orgTraceId: 'FZ-R1', itemName: '检查费', amount: '100.50', daysAgo: 2 },
          ...Array.from({ length: 5 }, (_, i) => ({ orgTraceId: `FZ-R${i + 2}`, itemName: '诊查费', amount: '25.00', daysAgo: 3 + i })),
        ],
      },
    ]);
    for (const [username, role, orgId] of [
      ['op.receipt', 'operator', undefined],
      ['staff.xm', 'staff', xm.inst.orgId],
    ] as const) {
      users[username] = (await createUser(t.platform, { username, role, orgId, password: CONSOLE_PASSWORD }, 'test')).totpSecret!;
    }
    browser = scope.add(await launchBrowser(), (b) => b.close());
    page = await phonePage(browser);
    await page.goto(await mdrUrlFor(base, fz, alice));
  });

  const submit = async () => {
    await Promise.all([page.waitForNavigation(), page.locator('button[type=submit]').click()]);
  };

  it('refuses a file that is not a JPG or PNG, and one over 2 MB, beside the field, keeping the text', async () => {
    const id = await itemId(t, fz.inst.orgId, 'FZ-R1');
    await page.goto(`${base}/mdr/items/${id}/appeal`);
    await page.selectOption('#reason', 'paid');
    await page.fill('#description', '已在自助机缴费，附收据。');
    await page.setInputFiles('#receipt', { name: 'receipt.png', mimeType: 'image/png', buffer: Buffer.from('%PDF-1.4 not an image') });
    await submit();
    assert.match(await page.locator('#receipt-error').innerText(), /只能上传 JPG 或 PNG/);
    assert.equal(await page.getAttribute('#receipt', 'aria-invalid'), 'true');
    assert.equal(await page.inputValue('#description'), '已在自助机缴费，附收据。');
    await assertAccessible(page, 'citizen appeal with a wrong file');
    await screenshot(page, 'citizen-receipt-error');
    const big = Buffer.concat([photo.subarray(0, 8), Buffer.alloc(2 * 1024 * 1024)]);
    await page.setInputFiles('#receipt', { name: 'big.png', mimeType: 'image/png', buffer: big });
    await submit();
    assert.match(await page.locator('#receipt-error').innerText(), /不能超过 2 MB/);
    assert.equal((await t.platform.db.selectFrom('appeal').select('id').execute()).length, 0, 'nothing filed');
  });

  it('files the appeal with a real photo, stored sealed', async () => {
    await page.setInputFiles('#receipt', { name: 'receipt.png', mimeType: 'image/png', buffer: photo });
    await screenshot(page, 'citizen-receipt-form');
    await submit();
    assert.match(page.url(), /n=appealed/);
    const rows = await t.platform.db.selectFrom('appeal_receipt').selectAll().execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.content_type, 'image/png');
    assert.equal(rows[0]!.size_bytes, photo.length);
    assert.ok(!rows[0]!.data_enc.includes(photo.toString('base64').slice(0, 24)), 'not stored in the clear');
  });

  it('shows the photo to the operator on the appeal page, at desktop and tablet size', async () => {
    const appealId = (await t.platform.db.selectFrom('appeal').select('id').executeTakeFirstOrThrow()).id;
    const op = await desktopPage(browser);
    await signInBrowser(op, base, 'op.receipt', users['op.receipt']);
    await op.goto(`${base}/console/appeals/${appealId}`);
    await op.locator('#receipt-photo').waitFor();
    assert.equal(await op.locator('#receipt-photo').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), 60);
    const res = await op.request.get(`${base}/console/appeals/${appealId}/receipt`);
    assert.equal(res.headers()['content-type'], 'image/png');
    assert.equal(res.headers()['x-content-type-options'], 'nosniff');
    assert.ok(Buffer.from(await res.body()).equals(photo), 'the same bytes back');
    await screenshot(op, 'console-appeal-receipt-desktop');
    const tablet = await tabletPage(browser);
    await tablet.context().addCookies(await op.context().cookies());
    await tablet.goto(`${base}/console/appeals/${appealId}`);
    await tablet.locator('#receipt-photo').waitFor();
    const box = await tablet.locator('#receipt-photo').boundingBox();
    assert.ok(box && box.x + box.width <= 820);
    await screenshot(tablet, 'console-appeal-receipt-tablet');
    const viewed = await t.platform.db
      .selectFrom('audit_event')
      .select('actor_id')
      .where('action', '=', 'console.appeal.receipt')
      .execute();
    assert.ok(viewed.length >= 1 && viewed.every((v) => v.actor_id === 'op.receipt'), 'every viewing is audited');
    await tablet.context().close();
    await op.context().close();
  });

  it('says 查询中 while 状态更新 waits for the hospital, then keeps the result in view', async () => {
    const id = await itemId(t, fz.inst.orgId, 'FZ-R6');
    fz.hospital.states.set('FZ-R6', '1');
    // A slow hospital, as the browser sees it: the POST is held for a moment before it goes out.
    await page.route('**/mdr/items/*/refresh', async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    await page.goto(`${base}/mdr/`);
    const button = page.locator(`#item-${id} button.refresh`);
    await button.scrollIntoViewIfNeeded();
    const navigated = page.waitForURL(/n=paid/);
    // Clicked and read from inside the page: Playwright's own click and locators wait for the navigation to
    // finish, past the pending state this is about.
    const pending = await button.evaluate((b: HTMLButtonElement) => {
      b.click();
      const status = b.closest('.rec')!.querySelector<HTMLElement>('.refresh-status')!;
      return { text: b.textContent, busy: b.getAttribute('aria-busy'), shown: !status.hidden, status: status.textContent };
    });
    assert.deepEqual(pending, { text: '查询中…', busy: 'true', shown: true, status: '正在向医院查询缴费结果，请稍候…' });
    await screenshot(page, 'citizen-refresh-pending');
    await navigated;
    await page.unroute('**/mdr/items/*/refresh');
    const notice = page.locator('#item-notice');
    assert.match(await notice.innerText(), /已缴清/);
    const box = await notice.boundingBox();
    assert.ok(box && box.y >= 0 && box.y + box.height <= 844, `the result is in view (${JSON.stringify(box)})`);
    await assertAccessible(page, 'citizen after refresh');
    await screenshot(page, 'citizen-refresh-result');
  });

  it('gives staff of another institution nothing', async () => {
    const appealId = (await t.platform.db.selectFrom('appeal').select('id').executeTakeFirstOrThrow()).id;
    const staff = await desktopPage(browser);
    await signInBrowser(staff, base, 'staff.xm', users['staff.xm']);
    const res = await staff.request.get(`${base}/console/appeals/${appealId}/receipt`);
    assert.equal(res.status(), 404);
    assert.ok(!Buffer.from(await res.body()).includes(photo.subarray(0, 16)));
    await staff.context().close();
  });
});
