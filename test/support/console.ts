import type { Page } from 'playwright-core';
import { base32Decode, totp, type TestInstitution, type TestPlatform } from '@mdl/platform/testing';
import { chinaTime, eventually } from './people.js';
import { reportItem, reportOverdue } from './report.js';
import { issueCard } from './suite.js';

/** Helpers shared by the console browser tests. */
export const CONSOLE_PASSWORD = 'Console-Pass-2026';

export async function signInBrowser(page: Page, base: string, username: string, totpSecret?: string | null): Promise<void> {
  await page.goto(`${base}/console/login`);
  await page.fill('#f-username', username);
  await page.fill('#f-password', CONSOLE_PASSWORD);
  if (totpSecret) await page.fill('#f-code', totp(base32Decode(totpSecret), Date.now()));
  await Promise.all([page.waitForURL(`${base}/console`), page.click('button[type=submit]')]);
}

export interface ReportPerson {
  idNo: string;
  idType: string;
  userName: string;
  ehealthCardId: string;
  items: { orgTraceId: string; amount: string; daysAgo?: number }[];
}

/** ORG_MDL_001 through real HTTP; the answer is only "accepted", processing follows in the jobs. */
export async function report(
  t: TestPlatform,
  inst: TestInstitution,
  notifyUrl: string,
  orgRequestId: string,
  persons: ReportPerson[],
): Promise<void> {
  const r = await reportOverdue(
    t.url,
    inst,
    orgRequestId,
    notifyUrl,
    persons.map((p) => ({
      idNo: p.idNo,
      idType: p.idType,
      userName: p.userName,
      ehealthCardId: p.ehealthCardId,
      userType: p.ehealthCardId ? '02' : '01',
      itemList: p.items.map((i) => reportItem(i.orgTraceId, { amount: i.amount, actualTime: chinaTime(i.daysAgo ?? 1) })),
    })),
  );
  if (r.respCode !== '000000') throw new Error(`report ${orgRequestId}: ${r.respCode} ${r.respMsg}`);
}

/** ORG_EHC_004: registers the person in the master index and returns the card id. */
export function cardOf(t: TestPlatform, inst: TestInstitution, idNo: string, userName: string): Promise<string> {
  return issueCard(t.url, inst, { idNo, userName, psnNo: `P${idNo.slice(-6)}` });
}

export async function batchRow(t: TestPlatform, orgId: string, orgRequestId: string) {
  return t.platform.db
    .selectFrom('batch')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('org_request_id', '=', orgRequestId)
    .executeTakeFirstOrThrow();
}

export async function waitForBatch(
  t: TestPlatform,
  orgId: string,
  orgRequestId: string,
  want: { status?: 'done'; callback?: 'pending' | 'delivered' | 'failed' },
  timeoutMs = 30_000,
) {
  return eventually(async () => {
    const b = await batchRow(t, orgId, orgRequestId);
    if (want.status && b.status !== want.status) throw new Error(`batch ${orgRequestId} is ${b.status}`);
    if (want.callback && b.callback_status !== want.callback) throw new Error(`callback of ${orgRequestId} is ${b.callback_status}`);
    return b;
  }, timeoutMs);
}

/** Asserts every chart container holds a drawn canvas of real size. */
export async function chartSizes(page: Page): Promise<{ id: string; width: number; height: number }[]> {
  return page.$$eval('.chart', (nodes) =>
    nodes.map((n) => {
      const c = n.querySelector('canvas');
      const r = c?.getBoundingClientRect();
      return { id: n.id, width: r?.width ?? 0, height: r?.height ?? 0 };
    }),
  );
}

/** Answers the console's confirmation dialog (web/console/console-js.ts) after checking it asked `asks`. */
export async function answerConfirm(page: Page, answer: 'ok' | 'cancel', asks: RegExp): Promise<void> {
  const dialog = page.locator('#confirm-dialog[open]');
  await dialog.waitFor();
  const text = await dialog.locator('#confirm-message').innerText();
  if (!asks.test(text)) throw new Error(`the dialog asks "${text}", not ${asks}`);
  await page.click(answer === 'ok' ? '#confirm-ok' : '#confirm-cancel');
  await page.locator('#confirm-dialog[open]').waitFor({ state: 'hidden' });
}
