import { DAY_MS, chinaMidnight, epochMsToChinaTime } from '@mdl/protocol';
import type { ReportOverdueDataRequest, UpdateOverdueDataRequest } from '@mdl/protocol';
import { answerAppeal, decideAppeal, fileAppeal } from './domain/appeals.js';
import { acceptBatch, findBatch, type BatchKind } from './domain/batches.js';
import { getOrRegisterPerson } from './domain/persons.js';
import { processBatch } from './domain/processing.js';
import type { Platform } from './platform.js';
import { residentId } from '@mdl/protocol';

/**
 * Thirty days of believable demo history, so the dashboard's trends show a month of work rather than 29
 * empty days and a spike: reports on most days at each demo institution, some of them settled or revoked
 * later (ORG_MDL_003), callbacks that mostly succeed, a few after a retry and a few that fail, and appeals in
 * every state. Everything goes through the domain (`acceptBatch`, `processBatch`, the appeal functions);
 * only the timestamps are moved back to the day they stand for, and the hospital's answers to the callbacks
 * are written as their attempts (no hospital listens for demo data). Deterministic: the same history on
 * every machine, and idempotent, one orgRequestId per batch.
 */
const DAYS = 30;
const AMOUNTS = ['18.00', '25.00', '36.50', '42.00', '120.00', '256.80', '680.00', '1280.50', '3420.00'];
const ITEMS: [string, string, string][] = [
  // [item name, medType, feeType]
  ['诊查费', '11', '01'],
  ['检查费', '11', '01'],
  ['化验费', '11', '01'],
  ['急诊诊查费', '13', '01'],
  ['住院费', '21', '02'],
];

/** mulberry32: a small seeded generator, so the history is the same on every run. */
export function demoRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HISTORY_PERSONS = [
  ['王秀英', residentId('350102', '19620415', 311)],
  ['李建华', residentId('350203', '19700822', 312)],
  ['刘芳', residentId('350503', '19880130', 313)],
  ['吴志强', residentId('350104', '19920611', 314)],
  ['郑美玲', residentId('350206', '19751203', 315)],
  ['林国栋', residentId('350582', '19581018', 316)],
  ['黄晓燕', residentId('350102', '19990227', 317)],
  ['陈志明', residentId('350211', '19830909', 318)],
] as const;

/**
 * Creation times are never written by the application (the schema types say so); demo history is the one
 * place that moves them, to the day a record stands for.
 */
function backdated(values: Record<string, Date>): never {
  return values as never;
}

/** China wall-clock time `daysAgo` days back at `hour`, as the interfaces write it, and as a Date. */
function at(now: number, daysAgo: number, hour: number): { text: string; date: Date } {
  const ms = chinaMidnight(now - daysAgo * DAY_MS) + hour * 3600_000 + Math.floor((hour * 37) % 60) * 60_000;
  const date = new Date(Math.min(ms, now));
  return { text: epochMsToChinaTime(ms), date };
}

export interface Demo {
  platform: Platform;
  appId: string;
  secret: string;
}

/** One batch through the domain, processed at once, its timestamps moved to `when`. Undefined: it was there already. */
async function batch(d: Demo, kind: BatchKind, payload: ReportOverdueDataRequest | UpdateOverdueDataRequest, items: number, when: Date) {
  const { db, vault } = d.platform;
  if (await findBatch(db, payload.orgId, payload.orgRequestId)) return undefined;
  let id: number | undefined;
  const caller = { appId: d.appId, kind: 'institution' as const, orgId: payload.orgId, env: 'test' as const, secret: d.secret };
  await acceptBatch(
    { db, vault, enqueue: async (_t, batchId) => void (id = batchId) },
    caller,
    kind,
    payload,
    JSON.stringify(payload),
    items,
    'demo',
  );
  if (id === undefined) return undefined;
  await processBatch({ ...d.platform.processDeps, enqueueCallback: async () => {} }, id);
  await db
    .updateTable('batch')
    .set(backdated({ received_at: when, processed_at: new Date(when.getTime() + 1500) }))
    .where('id', '=', id)
    .execute();
  return id;
}

/** The hospital's answers to a batch's callback: delivered first time, after a retry, or never (3 attempts). */
export async function demoCallbacks(d: Demo, batchId: number, when: Date, rnd: () => number, giveUp = false): Promise<void> {
  const { db } = d.platform;
  const roll = giveUp ? 1 : rnd();
  const plan = roll < 0.92 ? ['delivered'] : roll < 0.985 ? ['error', 'delivered'] : ['error', 'refused', 'error'];
  const url = 'http://127.0.0.1/demo';
  let t = when.getTime() + 3000;
  for (let k = 0; k < plan.length; k++) {
    const outcome = plan[k] as 'delivered' | 'refused' | 'error';
    await db
      .insertInto('callback_attempt')
      .values({
        batch_id: batchId,
        attempt: k + 1,
        url,
        started_at: new Date(t),
        duration_ms: 40 + Math.floor(rnd() * 360),
        http_status: outcome === 'error' ? null : 200,
        outcome,
        detail:
          outcome === 'delivered' ? 'success' : outcome === 'refused' ? 'hospital answered state=fail 系统维护中' : 'connect ECONNREFUSED',
        request_id: null,
      })
      .execute();
    t += 60_000 * (k + 1) * 5;
  }
  const delivered = plan[plan.length - 1] === 'delivered';
  await db
    .updateTable('batch')
    .set({
      callback_attempts: plan.length,
      callback_status: delivered ? 'delivered' : 'failed',
      delivered_at: delivered ? new Date(t) : null,
    })
    .where('id', '=', batchId)
    .execute();
}

export async function seedDemoHistory(
  platform: Platform,
  o: { appId: string; secret: string; institutions: { orgId: string; orgName: string }[] },
): Promise<void> {
  const { db, vault } = platform;
  // Made once: on a later start (another day) the same orgRequestIds would fall on other days.
  if (await db.selectFrom('batch').select('id').where('org_request_id', 'like', 'DEMOHIST-%').executeTakeFirst()) return;
  const now = platform.now();
  const d: Demo = { platform, appId: o.appId, secret: o.secret };
  const persons = [];
  for (const [userName, idNo] of HISTORY_PERSONS) {
    const { person } = await getOrRegisterPerson(db, vault, { idType: '01', idNo, userName });
    persons.push({ idNo, idType: '01', userName, ehealthCardId: person.ehealth_card_id });
  }
  const rnd = demoRandom(20261207);
  const toSettle: { orgId: string; orgTraceId: string; person: (typeof persons)[number]; daysAgo: number; revoke: boolean }[] = [];
  for (let daysAgo = DAYS - 1; daysAgo >= 1; daysAgo--) {
    for (const org of o.institutions) {
      // Fewer reports at weekends, as at a hospital's billing office.
      // The weekday of the China date (a yyyy-MM-dd string parses as that day in UTC).
      const weekday = new Date(epochMsToChinaTime(now - daysAgo * DAY_MS).slice(0, 10)).getUTCDay();
      const count = Math.floor(rnd() * (weekday === 0 || weekday === 6 ? 1.4 : 2.3));
      for (let k = 0; k < count; k++) {
        const person = persons[Math.floor(rnd() * persons.length)]!;
        const n = 1 + Math.floor(rnd() * 3);
        const when = at(now, daysAgo, 9 + Math.floor(rnd() * 8));
        const itemList = Array.from({ length: n }, (_, j) => {
          const [itemName, medType, feeType] = ITEMS[Math.floor(rnd() * ITEMS.length)]!;
          return {
            orgTraceId: `HIS-${daysAgo}-${k}-${j}`,
            medType,
            feeType,
            itemName,
            amount: AMOUNTS[Math.floor(rnd() * AMOUNTS.length)]!,
            actualTime: at(now, daysAgo + 1 + Math.floor(rnd() * 3), 8 + Math.floor(rnd() * 10)).text,
          };
        });
        const id = await batch(
          d,
          'REPORT',
          {
            orgId: org.orgId,
            orgName: org.orgName,
            notifyUrl: 'http://127.0.0.1/demo',
            orgRequestId: `DEMOHIST-R${daysAgo}-${k}`,
            unsettleList: [{ ...person, userType: '02', itemList }],
          },
          n,
          when.date,
        );
        if (id === undefined) continue;
        await db
          .updateTable('arrears_item')
          .set(backdated({ created_at: when.date, updated_at: when.date }))
          .where('report_batch_id', '=', id)
          .execute();
        await demoCallbacks(d, id, when.date, rnd);
        for (const it of itemList) {
          const r = rnd();
          if (r < 0.45) toSettle.push({ orgId: org.orgId, orgTraceId: it.orgTraceId, person, daysAgo, revoke: r < 0.05 });
        }
      }
    }
  }
  // Settled (and a few revoked) one to six days after they were reported, through ORG_MDL_003.
  for (const [k, s] of toSettle.entries()) {
    const daysAgo = Math.max(0, s.daysAgo - 1 - Math.floor(rnd() * 6));
    const when = at(now, daysAgo, 10 + Math.floor(rnd() * 7));
    const item = await db
      .selectFrom('arrears_item')
      .select(['id', 'trace_id', 'state'])
      .where('org_id', '=', s.orgId)
      .where('org_trace_id', '=', s.orgTraceId)
      .executeTakeFirst();
    if (!item || item.state !== '0') continue;
    const id = await batch(
      d,
      'UPDATE',
      {
        orgId: s.orgId,
        notifyUrl: 'http://127.0.0.1/demo',
        orgRequestId: `DEMOHIST-U${k}`,
        ...s.person,
        itemList: [{ orgTraceId: s.orgTraceId, traceId: item.trace_id, state: s.revoke ? '2' : '1' }],
      } as UpdateOverdueDataRequest,
      1,
      when.date,
    );
    if (id === undefined) continue;
    await db.updateTable('arrears_item').set({ settled_at: when.date, updated_at: when.date }).where('id', '=', item.id).execute();
    // The last one's callback always gives up, so the demo always has a batch to 重发.
    await demoCallbacks(d, id, when.date, rnd, k === toSettle.length - 1);
  }
  await appeals(platform, now);
}

/** A handful of appeals in every state: open, answered by the institution, upheld and rejected. */
async function appeals(platform: Platform, now: number): Promise<void> {
  const { db } = platform;
  if (await db.selectFrom('appeal').select('id').where('description', 'like', '演示：%').executeTakeFirst()) return;
  const open = await db
    .selectFrom('arrears_item')
    .select(['id', 'subject_bidx'])
    .where('state', '=', '0')
    .where('org_trace_id', 'like', 'HIS-%')
    .orderBy('id')
    .limit(4)
    .execute();
  const texts: [string, 'paid' | 'wrong_amount' | 'not_me' | 'other', number][] = [
    ['演示：已在医院自助机缴清，收据遗失', 'paid', 12],
    ['演示：金额与收费清单不符，多计一次检查费', 'wrong_amount', 8],
    ['演示：当天未在该院就诊', 'not_me', 5],
    ['演示：医保结算后仍显示欠费', 'other', 2],
  ];
  for (const [k, row] of open.entries()) {
    const [description, reason, daysAgo] = texts[k]!;
    const a = await fileAppeal(db, { itemId: row.id, subjectBidx: row.subject_bidx, reason, description, actor: 'demo' });
    const when = new Date(now - daysAgo * 86_400_000);
    await db
      .updateTable('appeal')
      .set(backdated({ created_at: when, updated_at: when }))
      .where('id', '=', a.id)
      .execute();
    if (k <= 2) await answerAppeal(db, { appealId: a.id, orgId: a.org_id, reply: '演示：已核对收费记录，情况属实。', actor: 'demo.staff' });
    if (k === 0) await decideAppeal(db, { appealId: a.id, upheld: true, reason: '演示：机构确认已缴费', actor: 'demo.operator' });
    if (k === 1) await decideAppeal(db, { appealId: a.id, upheld: false, reason: '演示：收费清单核对无误', actor: 'demo.operator' });
  }
}
