import { DAY_MS, chinaDate, chinaHour, chinaMidnight, fenToYuan } from '@mdl/protocol';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../db/schema.js';
import { pushSigned } from '../../outbound/push.js';
import type { Services } from '../deps.js';
import { auditSystem } from '../audit.js';
import { MDR_PATH } from './tokens.js';

/**
 * Reminders (guide §3.1.8 step 4, DESIGN.md): each person with unpaid real-name items gets one reminder
 * at most every `reminderIntervalDays`, never in the quiet hours 21:00–08:00 China time, never once the
 * items are settled. The per-person claim in `reminder_claim` is one conditional upsert, so two workers
 * scanning at once cannot both pass the interval check; `reminder (subject_bidx, period_key)` is unique
 * as a second guard.
 */
export const QUIET_FROM_HOUR = 21;
export const QUIET_UNTIL_HOUR = 8;

export function isQuietHour(now: number): boolean {
  const h = chinaHour(now);
  return h >= QUIET_FROM_HOUR || h < QUIET_UNTIL_HOUR;
}

/** The next 08:00 China time at or after `now`. */
export function quietHoursEnd(now: number): Date {
  let end = chinaMidnight(now) + QUIET_UNTIL_HOUR * 3_600_000;
  if (end <= now) end += DAY_MS;
  return new Date(end);
}

export interface OrgSummary {
  orgId: string;
  orgName: string;
  count: number;
  amountFen: number;
}

export function reminderMessage(orgs: OrgSummary[], link: string): string {
  const count = orgs.reduce((s, o) => s + o.count, 0);
  const total = orgs.reduce((s, o) => s + o.amountFen, 0);
  const where = orgs.length === 1 ? orgs[0]!.orgName : `${orgs[0]!.orgName}等 ${orgs.length} 家医疗机构`;
  return (
    `【医疗欠费提醒】您在${where}有 ${count} 笔医疗费用未结清，共 ${fenToYuan(total)} 元。` +
    `结清后即可继续享受“先诊后付”。查看明细、更新状态、申诉或了解缴费方式：闽政通“医疗欠费名单”，或 ${link}`
  );
}

export interface ScanResult {
  quiet: boolean;
  considered: number;
  created: number[];
}

export type ReminderEnqueue = (trx: Transaction<DB>, reminderId: number) => Promise<void>;

/** One scan over everyone with unpaid real-name items, in pages of `pageSize` persons. */
export async function runReminderScan(
  platform: Pick<Services, 'db' | 'config'>,
  now: number,
  enqueuePush: ReminderEnqueue,
  pageSize = 500,
): Promise<ScanResult> {
  const result: ScanResult = { quiet: isQuietHour(now), considered: 0, created: [] };
  if (result.quiet) return result;
  const { db, config } = platform;
  const channel = config.reminderPushUrl ? 'http' : 'outbox';
  const link = `${config.publicUrl}${MDR_PATH}/`;
  const cutoff = new Date(now - config.reminderIntervalDays * 86_400_000);
  let after = '';
  for (;;) {
    const page = await db
      .selectFrom('arrears_item')
      .select('subject_bidx')
      .distinct()
      .where('state', '=', '0')
      .where('real_name', '=', true)
      .where('subject_bidx', '>', after)
      .orderBy('subject_bidx')
      .limit(pageSize)
      .execute();
    if (page.length === 0) break;
    after = page[page.length - 1]!.subject_bidx;
    for (const { subject_bidx: subject } of page) {
      result.considered++;
      const id = await remindOne(db, { subject, now, cutoff, channel, link, enqueuePush });
      if (id !== undefined) result.created.push(id);
    }
    if (page.length < pageSize) break;
  }
  return result;
}

async function remindOne(
  db: Kysely<DB>,
  o: { subject: string; now: number; cutoff: Date; channel: 'outbox' | 'http'; link: string; enqueuePush: ReminderEnqueue },
): Promise<number | undefined> {
  return db
    .transaction()
    .execute(async (trx) => {
      const at = new Date(o.now);
      const claimed = await trx
        .insertInto('reminder_claim')
        .values({ subject_bidx: o.subject, last_at: at })
        .onConflict((oc) => oc.column('subject_bidx').doUpdateSet({ last_at: at }).where('reminder_claim.last_at', '<=', o.cutoff))
        .returning('subject_bidx')
        .executeTakeFirst();
      if (!claimed) return undefined;
      // Read after the claim, inside the transaction: a person settled meanwhile gets nothing.
      const items = await trx
        .selectFrom('arrears_item as i')
        .innerJoin('institution as o', 'o.org_id', 'i.org_id')
        .select(['i.org_id', 'o.org_name', 'i.amount_fen', 'i.person_id'])
        .where('i.subject_bidx', '=', o.subject)
        .where('i.state', '=', '0')
        .where('i.real_name', '=', true)
        .execute();
      if (items.length === 0) {
        // Undo the claim by rolling back: nothing was sent.
        throw new NothingToSend();
      }
      const byOrg = new Map<string, OrgSummary>();
      for (const i of items) {
        const s = byOrg.get(i.org_id) ?? { orgId: i.org_id, orgName: i.org_name, count: 0, amountFen: 0 };
        s.count++;
        s.amountFen += i.amount_fen;
        byOrg.set(i.org_id, s);
      }
      const orgs = [...byOrg.values()].sort((a, b) => b.amountFen - a.amountFen);
      const total = orgs.reduce((s, x) => s + x.amountFen, 0);
      const row = await trx
        .insertInto('reminder')
        .values({
          subject_bidx: o.subject,
          person_id: items[0]!.person_id,
          channel: o.channel,
          status: o.channel === 'outbox' ? 'sent' : 'pending',
          unpaid_count: items.length,
          total_fen: total,
          org_summary: JSON.stringify(orgs),
          message: reminderMessage(orgs, o.link),
          link: o.link,
          period_key: chinaDate(o.now),
          last_error: null,
          sent_at: o.channel === 'outbox' ? at : null,
        })
        .onConflict((oc) => oc.columns(['subject_bidx', 'period_key']).doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!row) return undefined;
      if (o.channel === 'http') await o.enqueuePush(trx, row.id);
      await auditSystem(trx, 'reminder.create', {
        subject: o.subject,
        target: `reminder:${row.id}`,
        detail: JSON.stringify({ channel: o.channel, count: items.length, totalFen: total }),
      });
      return row.id;
    })
    .catch((e: unknown) => {
      if (e instanceof NothingToSend) return undefined;
      throw e;
    });
}

class NothingToSend extends Error {}

export class PushNotAccepted extends Error {
  override name = 'PushNotAccepted';
}

/**
 * Delivers one pending 'http' reminder. Returns what happened; throws when the endpoint did not accept,
 * so the job queue retries. Quiet hours and settled persons are re-checked at send time, because a
 * retry can land long after the scan.
 */
export async function pushReminder(
  platform: Pick<Services, 'config' | 'db' | 'post' | 'vault'>,
  reminderId: number,
  now: number,
  requestId?: string,
): Promise<'sent' | 'cancelled' | 'deferred' | 'skipped'> {
  const { db, vault, config } = platform;
  const r = await db.selectFrom('reminder').selectAll().where('id', '=', reminderId).executeTakeFirst();
  if (!r || r.status !== 'pending') return 'skipped';
  if (isQuietHour(now)) return 'deferred';
  const stillUnpaid = await db
    .selectFrom('arrears_item')
    .select(sql<number>`count(*)`.as('n'))
    .where('subject_bidx', '=', r.subject_bidx)
    .where('state', '=', '0')
    .executeTakeFirstOrThrow();
  if (Number(stillUnpaid.n) === 0) {
    await db.updateTable('reminder').set({ status: 'cancelled', last_error: 'settled before sending' }).where('id', '=', r.id).execute();
    return 'cancelled';
  }
  const cred = config.reminderPushAppId
    ? await db
        .selectFrom('app_credential')
        .select(['app_id', 'secret_enc', 'env'])
        .where('app_id', '=', config.reminderPushAppId)
        .where('status', '=', 'active')
        .executeTakeFirst()
    : undefined;
  const person = r.person_id ? await db.selectFrom('person').selectAll().where('id', '=', r.person_id).executeTakeFirst() : undefined;
  let out: { ok: boolean; detail: string };
  if (!config.reminderPushUrl || !cred) out = { ok: false, detail: 'push channel not configured (MDL_REMINDER_PUSH_URL / _APP_ID)' };
  else if (!person) out = { ok: false, detail: 'person unknown to the master index' };
  else
    out = await pushSigned(platform.post, {
      url: config.reminderPushUrl,
      appId: cred.app_id,
      secret: vault.decrypt(cred.secret_enc),
      env: cred.env,
      strict: config.deployment === 'production',
      timeoutMs: config.callbackTimeoutMs,
      requestId,
      payload: {
        reminderId: String(r.id),
        idType: person.id_type,
        idNo: vault.decrypt(person.id_no_enc),
        userName: vault.decrypt(person.name_enc),
        ehealthCardId: person.ehealth_card_id,
        unpaidCount: String(r.unpaid_count),
        unpaidTotal: fenToYuan(r.total_fen),
        orgList: (JSON.parse(r.org_summary) as OrgSummary[]).map((o) => ({
          orgId: o.orgId,
          orgName: o.orgName,
          count: String(o.count),
          amount: fenToYuan(o.amountFen),
        })),
        message: r.message,
        link: r.link,
      },
    });
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('reminder')
      .set({
        attempts: sql`attempts + 1`,
        ...(out.ok ? { status: 'sent' as const, sent_at: new Date(now), last_error: null } : { last_error: out.detail.slice(0, 500) }),
      })
      .where('id', '=', r.id)
      .where('status', '=', 'pending')
      .execute();
    await auditSystem(trx, 'reminder.push', {
      subject: r.subject_bidx,
      target: config.reminderPushUrl ?? null,
      outcome: out.ok ? 'ok' : 'error',
      requestId: requestId ?? null,
      detail: `reminder:${r.id} ${out.detail}`,
    });
  });
  if (!out.ok) throw new PushNotAccepted(`reminder ${r.id} not accepted: ${out.detail}`);
  return 'sent';
}

/** After the last retry the row says failed, for the operator's console. */
export async function markReminderFailed(db: Kysely<DB>, reminderId: number): Promise<void> {
  await db.updateTable('reminder').set({ status: 'failed' }).where('id', '=', reminderId).where('status', '=', 'pending').execute();
}
