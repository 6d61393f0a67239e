import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { addInstitution, startTestPlatform, type TestInstitution, type TestPlatform, createUser, fileAppeal } from '@mdl/platform/testing';
import { TestHospital } from './support/hospital.js';
import { desktopPage, launchBrowser, screenshot } from './support/browser.js';
import { CONSOLE_PASSWORD, batchRow, chartSizes, report, signInBrowser, waitForBatch } from './support/console.js';
import { suiteScope } from './support/scope.js';
import { residentId } from './support/people.js';

/**
 * The institution portal: staff of one institution see their own batches, items, callbacks and
 * appeals, and nothing of another institution, whatever id they put in a URL.
 */
describe('institution portal in a real browser: scoped to one institution', () => {
  let t: TestPlatform;
  let browser: Browser;
  let page: Page;
  let a: TestInstitution;
  let b: TestInstitution;
  let hospitalA: TestHospital;
  let hospitalB: TestHospital;
  const ids = { batchB: 0, appealA: 0, appealB: 0, itemB: 0 };

  const scope = suiteScope();
  before(async () => {
    t = scope.add(await startTestPlatform(), (t) => t.close());
    await t.listen();
    a = await addInstitution(t.platform, 'H35010200011', { orgName: '甲市人民医院' });
    b = await addInstitution(t.platform, 'H35020300022', { orgName: '乙市妇幼保健院' });
    hospitalA = new TestHospital(a.appId, a.secret);
    hospitalB = new TestHospital(b.appId, b.secret);
    await scope.add(hospitalA, (h) => h.stop()).start();
    await scope.add(hospitalB, (h) => h.stop()).start();
    await report(t, a, `${hospitalA.url}/umdl/callback`, 'A-REQ-1', [
      {
        idNo: residentId('350102', '19800101', 11),
        idType: '01',
        userName: '甲患者',
        ehealthCardId: '',
        items: [{ orgTraceId: 'A-ITEM-1', amount: '11.11' }],
      },
    ]);
    await report(t, b, `${hospitalB.url}/umdl/callback`, 'B-REQ-SECRET', [
      {
        idNo: residentId('350203', '19810202', 22),
        idType: '01',
        userName: '乙患者',
        ehealthCardId: '',
        items: [{ orgTraceId: 'B-ITEM-SECRET', amount: '999.99' }],
      },
    ]);
    await waitForBatch(t, a.orgId, 'A-REQ-1', { callback: 'delivered' });
    await waitForBatch(t, b.orgId, 'B-REQ-SECRET', { callback: 'delivered' });
    ids.batchB = (await batchRow(t, b.orgId, 'B-REQ-SECRET')).id;
    const items = await t.platform.db.selectFrom('arrears_item').select(['id', 'org_id', 'subject_bidx']).execute();
    const itemA = items.find((i) => i.org_id === a.orgId)!;
    const itemB = items.find((i) => i.org_id === b.orgId)!;
    ids.itemB = itemB.id;
    ids.appealA = (
      await fileAppeal(t.platform.db, {
        itemId: itemA.id,
        subjectBidx: itemA.subject_bidx,
        reason: 'paid',
        description: '甲的申诉',
        actor: 'c',
      })
    ).id;
    ids.appealB = (
      await fileAppeal(t.platform.db, {
        itemId: itemB.id,
        subjectBidx: itemB.subject_bidx,
        reason: 'paid',
        description: '乙的申诉内容',
        actor: 'c',
      })
    ).id;
    const staff = await createUser(t.platform, { username: 'staff.a', role: 'staff', orgId: a.orgId, password: CONSOLE_PASSWORD }, 'test');
    browser = scope.add(await launchBrowser(), (b) => b.close());
    page = await desktopPage(browser);
    await signInBrowser(page, t.url, 'staff.a', staff.totpSecret);
  });

  /** Nothing that belongs to institution B may appear anywhere on the page. */
  const assertNothingOfB = async (where: string, echoed: string[] = []) => {
    const html = await page.content();
    for (const s of ['乙市妇幼保健院', b.orgId, 'B-REQ-SECRET', 'B-ITEM-SECRET', '999.99', '乙的申诉内容', b.appId]) {
      if (echoed.includes(s)) continue;
      assert.ok(!html.includes(s), `${where} shows "${s}" of another institution`);
    }
  };

  it('shows the own dashboard, batches, items, callbacks and appeals', async () => {
    await page.goto(`${t.url}/console`);
    await page.waitForSelector('#chart-trend[data-rendered="1"] canvas');
    for (const s of await chartSizes(page)) assert.ok(s.width > 0 && s.height > 0);
    assert.match(await page.locator('#kpi-unpaid').innerText(), /11\.11/);
    await assertNothingOfB('dashboard');
    await screenshot(page, 'portal-dashboard');
    for (const [path, name] of [
      ['/console/batches', 'portal-batches'],
      ['/console/items', 'portal-items'],
      ['/console/callbacks', 'portal-callbacks'],
      ['/console/appeals', 'portal-appeals'],
      ['/console/institutions', 'portal-institutions'],
      ['/console/reconciliation', 'portal-reconciliation'],
    ] as const) {
      const res = await page.goto(`${t.url}${path}`);
      assert.equal(res?.status(), 200, path);
      await assertNothingOfB(path);
      await screenshot(page, name);
    }
    await page.goto(`${t.url}/console/batches`);
    assert.match(await page.locator('#batches').innerText(), /A-REQ-1/);
    await page.goto(`${t.url}/console/appeals/${ids.appealA}`);
    assert.equal(await page.locator('#answer-form').count(), 1, 'staff may answer their own appeals');
    assert.equal(await page.locator('nav.cnav').getByText('审计').count(), 0, 'no audit menu for staff');
  });

  it('gets nothing of another institution by changing ids in URLs', async () => {
    for (const path of [`/console/batches/${ids.batchB}`, `/console/appeals/${ids.appealB}`, `/console/institutions/${b.orgId}`]) {
      const res = await page.goto(`${t.url}${path}`);
      assert.equal(res?.status(), 404, path);
      await assertNothingOfB(path);
    }
    await screenshot(page, 'portal-not-found');
    for (const path of [`/console/batches?orgId=${b.orgId}`, `/console/items?orgId=${b.orgId}`, `/console/items?traceId=B-ITEM-SECRET`]) {
      const res = await page.goto(`${t.url}${path}`);
      assert.equal(res?.status(), 200, path);
      // The search box shows back what the user typed; nothing else of B may appear.
      await assertNothingOfB(path, [b.orgId, 'B-ITEM-SECRET']);
      assert.equal(await page.locator('tbody tr').count(), 0, `${path} lists nothing`);
    }
    for (const path of ['/console/audit', '/console/policy', '/console/users', '/console/institutions/new', '/console/reminders']) {
      const res = await page.goto(`${t.url}${path}`);
      assert.equal(res?.status(), 403, path);
    }
  });

  it('cannot act on another institution’s appeal or batch', async () => {
    await page.goto(`${t.url}/console/appeals/${ids.appealA}`);
    // Point the form at the other institution's appeal, as a forged request would.
    await page.$eval('#answer-form', (f, id) => f.setAttribute('action', `/console/appeals/${id}/answer`), ids.appealB);
    await page.fill('#f-reply', '越权答复');
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.click('#answer-form button[type=submit]'),
    ]);
    assert.equal(res.status(), 404);
    const appealB = await t.platform.db
      .selectFrom('appeal')
      .select(['status', 'org_reply'])
      .where('id', '=', ids.appealB)
      .executeTakeFirstOrThrow();
    assert.deepEqual(appealB, { status: 'open', org_reply: null });
    const status = await page.evaluate(async (id) => {
      const csrf = (document.querySelector('input[name=_csrf]') as HTMLInputElement).value;
      const r = await fetch(`/console/batches/${id}/resend`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `_csrf=${encodeURIComponent(csrf)}`,
      });
      return r.status;
    }, ids.batchB);
    assert.equal(status, 403, 'only operators resend');
    const item = await t.platform.db.selectFrom('arrears_item').select('state').where('id', '=', ids.itemB).executeTakeFirstOrThrow();
    assert.equal(item.state, '0');
  });
});
