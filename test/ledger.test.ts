import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { TestInstitution, TestPlatform } from '@mdl/platform/testing';
import { call } from './support/client.js';
import { TestHospital } from './support/hospital.js';
import { eventually, residentId } from './support/people.js';
import { reportBody, reportItem } from './support/report.js';
import { suiteScope } from './support/scope.js';
import { issueCard, startWithHospital } from './support/suite.js';

/** Business rules of the ledger beyond the happy path, over real HTTP. */
describe('ledger rules', () => {
  let t: TestPlatform;
  let base: string;
  let a: TestInstitution;
  let b: TestInstitution;
  let hospital: TestHospital;
  const idNo = residentId('350203', '19851112', 456);
  const userName = '陈建国';
  let card = '';

  const scope = suiteScope();
  before(async () => {
    const suite = await startWithHospital(scope, [{ orgId: 'H35020300002' }, { orgId: 'H35050300003' }]);
    ({ t, base, hospital } = suite);
    [a, b] = suite.insts;
    card = await issueCard(base, a, { idNo, userName, psnNo: 'P2' });
  });

  const item = (orgTraceId: string, amount = '20.00') => reportItem(orgTraceId, { amount });
  const reportFrom = (inst: TestInstitution, orgRequestId: string, persons: object[]) =>
    reportBody(inst, orgRequestId, `${hospital.url}/umdl/callback`, persons);

  it('refuses a real-name person whose card does not match, and keeps the others of the batch', async () => {
    const before = hospital.callbacks.length;
    const r = await call(
      base,
      '/umdl/reportOverdueData',
      a.appId,
      a.secret,
      reportFrom(a, 'L-1', [
        { idNo, idType: '01', userName: '陈建', ehealthCardId: card, userType: '02', itemList: [item('W1')] },
        { idNo, idType: '01', userName, ehealthCardId: card, userType: '02', itemList: [item('G1')] },
      ]),
    );
    assert.equal(r.respCode, '000000');
    const cb = (await hospital.waitForCallbacks(before + 1))[before]!;
    const [wrong, good] = cb.reportResultList!;
    assert.equal((wrong!.extData as { result: string }).result, 'fail');
    assert.match(String((wrong!.extData as { msg: string }).msg), /姓名/);
    assert.match(wrong!.itemList[0]!.traceId!, /^T\d{8}[0-9a-f]{20}$/, 'a refused item has a platform trace id too');
    assert.equal(wrong!.itemList[0]!.state, '2', 'and state 2: no unpaid record on the platform');
    assert.equal(good!.itemList[0]!.state, '0');
    assert.deepEqual(cb.extData, { orgRequestId: 'L-1', accepted: 1, rejected: 1 });
    const stored = await t.platform.db.selectFrom('arrears_item').select('org_trace_id').where('org_id', '=', a.orgId).execute();
    assert.deepEqual(
      stored.map((s) => s.org_trace_id),
      ['G1'],
    );
  });

  it('shows non-real-name items only to the institution that reported them, then converts them to real name (§3.1.10)', async () => {
    const before = hospital.callbacks.length;
    await call(
      base,
      '/umdl/reportOverdueData',
      a.appId,
      a.secret,
      reportFrom(a, 'L-2', [{ userType: '01', itemList: [item('N1', '30.00')] }]),
    );
    const cb = (await hospital.waitForCallbacks(before + 1))[before]!;
    const traceId = cb.reportResultList![0]!.itemList[0]!.traceId!;
    const q = (inst: TestInstitution) =>
      call(base, '/qmdl/queryOverdueData', inst.appId, inst.secret, {
        businessType: '01101',
        idNo,
        idType: '01',
        userName,
        ehealthCardId: card,
      });
    assert.deepEqual(
      ((await q(b)).payload!.itemList as { amount: string }[]).map((i) => i.amount),
      ['20.00'],
      'another institution sees only real-name items',
    );
    // 转实名 without an invented state: ORG_MDL_003 has only 1 and 2 ...
    const zero = await call(base, '/umdl/updateOverdueData', a.appId, a.secret, {
      orgId: a.orgId,
      idNo,
      idType: '01',
      userName,
      ehealthCardId: card,
      notifyUrl: `${hospital.url}/umdl/callback`,
      orgRequestId: 'L-3',
      itemList: [{ orgTraceId: 'N1', traceId, state: '0' }],
    });
    assert.equal(zero.respCode, '000105');
    // ... so an unpaid item is converted by reporting the same orgTraceId again with the full identity.
    const u = await call(
      base,
      '/umdl/reportOverdueData',
      a.appId,
      a.secret,
      reportFrom(a, 'L-3b', [{ idNo, idType: '01', userName, ehealthCardId: card, userType: '01', itemList: [item('N1', '30.00')] }]),
    );
    assert.equal(u.payload!.state, 'success');
    const cb2 = (await hospital.waitForCallbacks(before + 2))[before + 1]!;
    assert.deepEqual(cb2.reportResultList![0]!.itemList[0], { orgTraceId: 'N1', traceId, state: '0' }, 'same record, same traceId');
    assert.deepEqual(
      ((await q(b)).payload!.itemList as { amount: string }[]).map((i) => i.amount).sort(),
      ['20.00', '30.00'],
      'converted: now seen province-wide',
    );
  });

  it('fails an update whose traceId does not match, without touching the item', async () => {
    const before = hospital.callbacks.length;
    await call(base, '/umdl/updateOverdueData', a.appId, a.secret, {
      orgId: a.orgId,
      idNo: '',
      idType: '',
      userName: '',
      ehealthCardId: '',
      notifyUrl: `${hospital.url}/umdl/callback`,
      orgRequestId: 'L-4',
      itemList: [{ orgTraceId: 'G1', traceId: 'T-not-it', state: '1' }],
    });
    const cb = (await hospital.waitForCallbacks(before + 1))[before]!;
    const person = cb.updateResultList![0]!;
    assert.equal((person.extData as { result: string }).result, 'fail');
    assert.equal(person.itemList[0]!.state, '0', 'the item keeps its state');
  });

  it('says `next` = 0 with the reason once the policy is exceeded', async () => {
    const before = hospital.callbacks.length;
    await call(
      base,
      '/umdl/reportOverdueData',
      a.appId,
      a.secret,
      reportFrom(a, 'L-5', [{ idNo, idType: '01', userName, ehealthCardId: card, userType: '02', itemList: [item('G2', '480.00')] }]),
    );
    await hospital.waitForCallbacks(before + 1);
    const r = await call(base, '/qmdl/queryOverdueData', b.appId, b.secret, {
      orgId: b.orgId,
      businessType: '01101',
      idNo,
      idType: '01',
      userName,
      ehealthCardId: card,
    });
    assert.equal(r.payload!.next, '0');
    assert.deepEqual(r.payload!.itemList, [], 'itemList is filtered by orgId, the decision is not');
    const ext = r.payload!.extData as { reasons: string[]; reasonText: string; unpaidTotal: string };
    assert.deepEqual(ext.reasons, ['TOTAL_TOO_HIGH', 'TOO_MANY_ITEMS']);
    assert.equal(ext.unpaidTotal, '530.00');
    assert.match(ext.reasonText, /欠费总额/);
  });

  it('loses nothing when processing crashes: the job is retried and nothing half-written stays', async () => {
    const before = hospital.callbacks.length;
    await sql`ALTER TABLE arrears_item RENAME TO arrears_item_away`.execute(t.platform.database.ownerDb);
    let restored = false;
    try {
      const r = await call(
        base,
        '/umdl/reportOverdueData',
        a.appId,
        a.secret,
        reportFrom(a, 'L-6', [{ idNo, idType: '01', userName, ehealthCardId: card, userType: '02', itemList: [item('C1'), item('C2')] }]),
      );
      assert.equal(r.respCode, '000000', 'accepted: the batch is stored before processing');
      // Wait for at least one failed processing attempt.
      await eventually(async () => {
        const jobs = await sql<{
          n: number;
        }>`SELECT count(*)::int AS n FROM ${sql.raw(t.platform.database.schema === 'public' ? 'pgboss' : t.platform.database.schema + '_jobs')}.job WHERE name = 'batch-process-v1' AND retry_count > 0`.execute(
          t.platform.db,
        );
        assert.ok(jobs.rows[0]!.n > 0);
      }, 15_000);
      const batch = await t.platform.db
        .selectFrom('batch')
        .select(['status'])
        .where('org_request_id', '=', 'L-6')
        .executeTakeFirstOrThrow();
      assert.equal(batch.status, 'received', 'no half-processed batch');
      await sql`ALTER TABLE arrears_item_away RENAME TO arrears_item`.execute(t.platform.database.ownerDb);
      restored = true;
      const cb = (await hospital.waitForCallbacks(before + 1, 30_000))[before]!;
      assert.deepEqual(
        cb.reportResultList![0]!.itemList.map((i) => i.orgTraceId),
        ['C1', 'C2'],
      );
      const n = await t.platform.db.selectFrom('arrears_item').select('id').where('org_trace_id', 'in', ['C1', 'C2']).execute();
      assert.equal(n.length, 2);
    } finally {
      if (!restored) await sql`ALTER TABLE arrears_item_away RENAME TO arrears_item`.execute(t.platform.database.ownerDb);
    }
  });
});
