import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { epochMsToChinaTime, residentId } from '@mdl/protocol';
import type { ReportOverdueDataRequest, UpdateOverdueDataRequest } from '@mdl/protocol';
import { startTestPlatform, type TestPlatform } from '../testing.js';
import { upsertInstitution } from './credentials.js';
import type { Caller } from './credentials.js';
import { acceptBatch } from './batches.js';
import { decideAppeal, fileAppeal } from './appeals.js';
import { queryArrears } from './arrears.js';
import { DEFAULT_POLICY } from './eligibility.js';
import { getOrRegisterPerson } from './persons.js';
import { processBatch, type ProcessDeps } from './processing.js';
import { rebuildSubjects } from './subjects.js';

/** A small seeded generator, so that a failing sequence can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const idOf = (seq: number) => residentId('350203', `19${70 + (seq % 30)}0101`, seq);

/**
 * The read model must always say what the ledger says: random reports, re-reports, updates (paid, revoked,
 * conversion to real name), refused persons, records without idNo and upheld appeals are replayed, several
 * batches processed at once, and after each round every row is compared with the ledger re-read directly.
 */
describe('ORG_MDL_002 read model follows the ledger', () => {
  let t: TestPlatform;
  let deps: ProcessDeps;
  const orgs = ['H35020300011', 'H35020300012', 'H35020300013'];
  const people: { idNo: string; userName: string; card: string }[] = [];

  before(async () => {
    t = await startTestPlatform({}, { queue: false });
    deps = { ...t.platform.processDeps, enqueueCallback: async () => {} };
    for (const o of orgs) await upsertInstitution(t.platform.db, { orgId: o, orgName: `医院${o.slice(-2)}`, notifyHosts: ['127.0.0.1'] });
    for (let i = 0; i < 6; i++) {
      const who = { idType: '01', idNo: idOf(i + 1), userName: `病人${i}` };
      const { person } = await getOrRegisterPerson(t.platform.db, t.platform.vault, who);
      people.push({ idNo: who.idNo, userName: who.userName, card: person.ehealth_card_id });
    }
  });
  after(() => t?.close());

  const caller = (orgId: string): Caller => ({ appId: `app-${orgId}`, kind: 'institution', orgId, env: 'prod', secret: '' });

  async function assertConsistent(when: string): Promise<number> {
    const db = t.platform.db;
    const items = await db
      .selectFrom('arrears_item')
      .select(['subject_bidx', 'org_id', 'item_name', 'amount_fen', 'actual_time'])
      .where('state', '=', '0')
      .orderBy('actual_time')
      .orderBy('id')
      .execute();
    const persons = await db.selectFrom('person').select(['id_no_bidx', 'ehealth_card_id', 'name_bidx']).execute();
    const expected = new Map<string, { card: string | null; name: string | null; items: unknown[][]; total: number }>();
    const entry = (k: string) => expected.get(k) ?? expected.set(k, { card: null, name: null, items: [], total: 0 }).get(k)!;
    for (const p of persons) Object.assign(entry(p.id_no_bidx), { card: p.ehealth_card_id, name: p.name_bidx });
    for (const i of items) {
      const e = entry(i.subject_bidx);
      e.items.push([i.org_id, i.item_name, i.amount_fen, i.actual_time.getTime()]);
      e.total += i.amount_fen;
    }
    const rows = new Map((await db.selectFrom('arrears_subject').selectAll().execute()).map((r) => [r.subject_bidx, r]));
    for (const [key, e] of expected) {
      const r = rows.get(key);
      assert.ok(r, `${when}: subject ${key.slice(0, 8)} has no read-model row`);
      assert.deepEqual(
        { card: r.ehealth_card_id, name: r.name_bidx, count: r.unpaid_count, total: r.unpaid_total_fen, items: JSON.parse(r.items) },
        { card: e.card, name: e.name, count: e.items.length, total: e.total, items: e.items },
        `${when}: subject ${key.slice(0, 8)}`,
      );
    }
    for (const [key, r] of rows) {
      if (expected.has(key)) continue;
      assert.equal(r.unpaid_count, 0, `${when}: row ${key.slice(0, 8)} has items the ledger does not`);
      assert.equal(r.items, '[]');
    }
    return items.length;
  }

  it('agrees with the ledger after every round of random writes, and a rebuild changes nothing', async () => {
    const next = rng(Number(process.env.READ_MODEL_SEED ?? 15));
    const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)]!;
    const traceIds = new Map<string, string[]>(orgs.map((o) => [o, []]));
    let seq = 0;
    let unpaidSeen = 0;
    const now = Date.now();

    const reportPayload = (orgId: string): ReportOverdueDataRequest => ({
      orgId,
      orgName: `医院${orgId.slice(-2)}`,
      notifyUrl: 'http://127.0.0.1:9/cb',
      orgRequestId: `R${++seq}`,
      unsettleList: Array.from({ length: 1 + Math.floor(next() * 3) }, () => {
        const p = pick(people);
        const kind = next();
        const identity =
          kind < 0.5
            ? { idNo: p.idNo, idType: '01', userName: p.userName, ehealthCardId: p.card }
            : kind < 0.6
              ? { idNo: p.idNo, idType: '01', userName: '别人', ehealthCardId: p.card } // refused by the 强校验
              : kind < 0.85
                ? { idNo: p.idNo, idType: '01', userName: p.userName } // non-real-name, full identity
                : {}; // non-real-name, no identity at all: a subject per record
        const ids = traceIds.get(orgId)!;
        return {
          ...identity,
          userType: '01',
          itemList: Array.from({ length: 1 + Math.floor(next() * 3) }, () => ({
            orgTraceId: ids.length && next() < 0.3 ? pick(ids) : `O${++seq}`,
            medType: '11',
            feeType: '01',
            itemName: pick(['诊查费', '检查费', '西药费']),
            amount: (1 + Math.floor(next() * 40000) / 100).toFixed(2),
            actualTime: epochMsToChinaTime(now - Math.floor(next() * 30) * 86_400_000 - seq * 1000),
          })),
        };
      }),
    });

    const updatePayload = async (orgId: string): Promise<UpdateOverdueDataRequest | undefined> => {
      const rows = await t.platform.db
        .selectFrom('arrears_item')
        .select(['org_trace_id', 'trace_id'])
        .where('org_id', '=', orgId)
        .execute();
      if (rows.length === 0) return undefined;
      const p = pick(people);
      const real = next() < 0.5;
      return {
        orgId,
        ...(real ? { idNo: p.idNo, idType: '01', userName: p.userName, ehealthCardId: p.card } : {}),
        notifyUrl: 'http://127.0.0.1:9/cb',
        orgRequestId: `U${++seq}`,
        itemList: Array.from({ length: 1 + Math.floor(next() * 2) }, () => {
          const r = pick(rows);
          return { orgTraceId: r.org_trace_id, traceId: r.trace_id, state: pick(['0', '1', '2']) };
        }),
      } as UpdateOverdueDataRequest;
    };

    for (let round = 0; round < 12; round++) {
      // Up to three batches of different institutions processed at once: on PostgreSQL they race for the
      // same persons' rows.
      const batchIds: number[] = [];
      for (const orgId of orgs) {
        if (next() < 0.2) continue;
        const update = next() < 0.35 ? await updatePayload(orgId) : undefined;
        const payload = update ?? reportPayload(orgId);
        const plaintext = JSON.stringify(payload);
        await acceptBatch(
          { ...t.platform.acceptDeps, enqueue: async () => {} },
          caller(orgId),
          update ? 'UPDATE' : 'REPORT',
          payload,
          plaintext,
          1,
          `req-${seq}`,
        );
        const b = await t.platform.db
          .selectFrom('batch')
          .select('id')
          .where('org_id', '=', orgId)
          .where('org_request_id', '=', payload.orgRequestId)
          .executeTakeFirstOrThrow();
        batchIds.push(b.id);
      }
      const outcomes = await Promise.all(batchIds.map((id) => processBatch(deps, id)));
      assert.ok(outcomes.every((o) => o === 'done'));
      for (const orgId of orgs) {
        const rows = await t.platform.db.selectFrom('arrears_item').select('org_trace_id').where('org_id', '=', orgId).execute();
        traceIds.set(
          orgId,
          rows.map((r) => r.org_trace_id),
        );
      }
      if (round % 3 === 2) {
        // An upheld appeal revokes an unpaid item.
        const open = await t.platform.db.selectFrom('arrears_item').select(['id', 'subject_bidx']).where('state', '=', '0').execute();
        if (open.length) {
          const item = pick(open);
          const a = await fileAppeal(t.platform.db, {
            itemId: item.id,
            subjectBidx: item.subject_bidx,
            reason: 'paid',
            description: 'x',
            actor: 'c',
          });
          await decideAppeal(t.platform.db, { appealId: a.id, upheld: true, reason: '', actor: 'op' });
        }
      }
      unpaidSeen += await assertConsistent(`round ${round}`);
    }
    assert.ok(unpaidSeen > 20, 'the replay left unpaid items to compare');

    // The answers themselves: each person's unpaid total as ORG_MDL_002 gives it equals the ledger's. All
    // persons are asked at once, twice over, so that the reads are grouped into shared statements and each
    // answer must still be its own person's.
    await Promise.all(
      [...people, ...people].map(async (p) => {
        const key = t.platform.vault.personKey('01', p.idNo);
        const ledger = await t.platform.db
          .selectFrom('arrears_item')
          .select(['amount_fen'])
          .where('subject_bidx', 'in', [key, t.platform.vault.localKey(orgs[0]!, '01', p.idNo, p.userName)])
          .where('state', '=', '0')
          .execute();
        const r = await queryArrears(
          t.platform.db,
          t.platform.vault,
          t.platform.readModel,
          caller(orgs[0]!),
          { businessType: '01101', idNo: p.idNo, idType: '01', userName: p.userName, ehealthCardId: p.card },
          DEFAULT_POLICY,
          Date.now(),
        );
        assert.equal(r.decision.unpaidCount, ledger.length);
        assert.equal(
          r.decision.unpaidTotalFen,
          ledger.reduce((s, i) => s + i.amount_fen, 0),
        );
      }),
    );

    const before = await t.platform.db.selectFrom('arrears_subject').selectAll().orderBy('subject_bidx').execute();
    await rebuildSubjects(t.platform.db);
    const after = await t.platform.db.selectFrom('arrears_subject').selectAll().orderBy('subject_bidx').execute();
    const strip = (rows: typeof before) => rows.map(({ updated_at: _u, ...r }) => r);
    assert.deepEqual(strip(after), strip(before), 'a full rebuild from the ledger finds nothing to change');
  });
});
