import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { epochMsToChinaTime, residentIdCheckChar } from '@mdl/protocol';
import type { ReportOverdueDataRequest } from '@mdl/protocol';
import { startTestPlatform, type TestPlatform } from '../testing.js';
import { upsertInstitution, type Caller } from './credentials.js';
import { acceptBatch, findBatch, readResult } from './batches.js';
import { getOrRegisterPerson } from './persons.js';
import { newTraceId } from './batch-items.js';
import { processBatch, type ProcessDeps } from './processing.js';

/**
 * A report inserts its items first and reads only the ones already on the ledger. Two batches of one hospital
 * naming the same new items, processed at once, must still give one ledger row per item: the second waits for
 * the first, finds the items there and refreshes them, and both answers quote the same platform trace ids.
 */
describe('report processing: items already on the ledger', () => {
  let t: TestPlatform;
  let deps: ProcessDeps;
  const orgId = 'H35020300021';
  const caller: Caller = { appId: `app-${orgId}`, kind: 'institution', orgId, env: 'prod', secret: '' };
  let person: { idNo: string; idType: string; userName: string; ehealthCardId: string };

  before(async () => {
    t = await startTestPlatform({}, { queue: false });
    deps = { ...t.platform.processDeps, enqueueCallback: async () => {} };
    await upsertInstitution(t.platform.db, { orgId, orgName: '医院21', notifyHosts: ['127.0.0.1'] });
    const first17 = '35020319800101021';
    const who = { idType: '01', idNo: first17 + residentIdCheckChar(first17), userName: '并发病人' };
    const { person: p } = await getOrRegisterPerson(t.platform.db, t.platform.vault, who);
    person = { ...who, ehealthCardId: p.ehealth_card_id };
  });
  after(() => t?.close());

  const report = (orgRequestId: string, orgTraceIds: string[], amount: string): ReportOverdueDataRequest => ({
    orgId,
    orgName: '医院21',
    notifyUrl: 'http://127.0.0.1:9/cb',
    orgRequestId,
    unsettleList: [
      {
        ...person,
        userType: '01',
        itemList: orgTraceIds.map((orgTraceId) => ({
          orgTraceId,
          medType: '11',
          feeType: '01',
          itemName: '检查费',
          amount,
          actualTime: epochMsToChinaTime(Date.now() - 86_400_000),
        })),
      },
    ],
  });

  async function accept(payload: ReportOverdueDataRequest): Promise<number> {
    await acceptBatch(
      { ...t.platform.acceptDeps, enqueue: async () => {} },
      caller,
      'REPORT',
      payload,
      JSON.stringify(payload),
      1,
      payload.orgRequestId,
    );
    return (await findBatch(t.platform.db, orgId, payload.orgRequestId))!.id;
  }

  const answer = async (orgRequestId: string) => readResult(t.platform.vault, (await findBatch(t.platform.db, orgId, orgRequestId))!)!;

  it('stores each item once when two batches report it at the same moment, and both answers agree', async () => {
    const ids = ['C-1', 'C-2', 'C-3'];
    const a = await accept(report('RACE-A', ids, '10.00'));
    const b = await accept(report('RACE-B', [...ids].reverse(), '20.00'));
    assert.deepEqual(await Promise.all([processBatch(deps, a), processBatch(deps, b)]), ['done', 'done']);

    const rows = await t.platform.db
      .selectFrom('arrears_item')
      .select(['org_trace_id', 'trace_id', 'amount_fen', 'state'])
      .where('org_id', '=', orgId)
      .where('org_trace_id', 'in', ids)
      .orderBy('org_trace_id')
      .execute();
    assert.deepEqual(
      rows.map((r) => r.org_trace_id),
      ids,
    );
    const traceOf = new Map(rows.map((r) => [r.org_trace_id, r.trace_id]));
    for (const id of ['RACE-A', 'RACE-B']) {
      const r = await answer(id);
      assert.equal(r.accepted, 3, id);
      assert.equal(r.rejected, 0, id);
      for (const item of r.persons[0]!.itemList) {
        assert.equal(item.traceId, traceOf.get(item.orgTraceId), `${id} ${item.orgTraceId}`);
        assert.equal(item.state, '0');
      }
    }
    // Whichever ran second refreshed the items: all three carry one batch's amount, not a mix.
    assert.equal(new Set(rows.map((r) => Number(r.amount_fen))).size, 1);
    const subject = await t.platform.db
      .selectFrom('arrears_subject')
      .select(['unpaid_count', 'unpaid_total_fen'])
      .where('subject_bidx', '=', t.platform.vault.personKey('01', person.idNo))
      .executeTakeFirstOrThrow();
    assert.equal(subject.unpaid_count, 3);
    assert.equal(
      subject.unpaid_total_fen,
      rows.reduce((s, r) => s + Number(r.amount_fen), 0),
    );
  });

  it('refuses a re-report of a paid item with the stored trace id and state, and stores the new ones beside it', async () => {
    const first = await accept(report('PAID-1', ['P-1'], '5.00'));
    await processBatch(deps, first);
    await t.platform.db
      .updateTable('arrears_item')
      .set({ state: '1' })
      .where('org_id', '=', orgId)
      .where('org_trace_id', '=', 'P-1')
      .execute();
    const stored = await t.platform.db
      .selectFrom('arrears_item')
      .select('trace_id')
      .where('org_id', '=', orgId)
      .where('org_trace_id', '=', 'P-1')
      .executeTakeFirstOrThrow();

    await processBatch(deps, await accept(report('PAID-2', ['P-1', 'P-2'], '7.00')));
    const r = await answer('PAID-2');
    assert.equal(r.accepted, 1);
    assert.equal(r.rejected, 1);
    const [paid, fresh] = r.persons[0]!.itemList;
    assert.deepEqual(paid, { orgTraceId: 'P-1', traceId: stored.trace_id, state: '1' });
    assert.equal(fresh!.state, '0');
    const p1 = await t.platform.db
      .selectFrom('arrears_item')
      .select(['amount_fen', 'state'])
      .where('org_id', '=', orgId)
      .where('org_trace_id', '=', 'P-1')
      .executeTakeFirstOrThrow();
    assert.deepEqual({ ...p1, amount_fen: Number(p1.amount_fen) }, { amount_fen: 500, state: '1' });
  });

  it('gives trace ids the China date of their moment, on either side of China midnight and back again', () => {
    const midnight = Date.parse('2026-12-07T16:00:00Z'); // 2026-12-08 00:00 in China
    const ids = [midnight - 1, midnight, midnight - 1].map((t) => newTraceId(t));
    assert.deepEqual(
      ids.map((id) => id.slice(0, 9)),
      ['T20261207', 'T20261208', 'T20261207'],
    );
    for (const id of ids) assert.match(id, /^T\d{8}[0-9a-f]{20}$/);
    assert.equal(new Set(ids).size, 3);
  });
});
