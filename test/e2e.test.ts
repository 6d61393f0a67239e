import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { TestInstitution, TestPlatform } from '@mdl/platform/testing';
import { call } from './support/client.js';
import { TestHospital } from './support/hospital.js';
import { anonymousPatient, chinaTime, eventually, residentId } from './support/people.js';
import { reportBody, reportItem } from './support/report.js';
import { suiteScope } from './support/scope.js';
import { startWithHospital } from './support/suite.js';

/**
 * The whole flow of issue #2 over real HTTP on loopback: a hospital reports, receives the callback,
 * queries, pays, receives the update callback and queries again.
 */
describe('end to end: report → callback → query → pay → callback → query', () => {
  let t: TestPlatform;
  let hospital: TestHospital;
  let inst: TestInstitution;
  let base: string;
  const idNo = residentId('350102', '19900307', 123);
  const userName = '林晓梅';
  let ehealthCardId = '';
  let traceIds: string[] = [];
  // Fixed once: a re-sent batch must be byte-for-byte the same request.
  const yesterday = chinaTime(1);
  const twoDaysAgo = chinaTime(2);

  const scope = suiteScope();
  before(async () => {
    const suite = await startWithHospital(scope, [{ orgId: 'H35010200001', orgName: '福州市第一医院' }]);
    ({ t, base, hospital } = suite);
    [inst] = suite.insts;
  });

  const report = (orgRequestId: string, items: { orgTraceId: string; amount: string }[]) =>
    reportBody(inst, orgRequestId, `${hospital.url}/umdl/callback`, [
      {
        idNo,
        idType: '01',
        userName,
        ehealthCardId,
        mobilePhone: '13800000000',
        userType: '02',
        itemList: items.map((i) => reportItem(i.orgTraceId, { amount: i.amount, actualTime: yesterday })),
      },
      anonymousPatient([reportItem(`${orgRequestId}-anon`, { amount: '10', actualTime: twoDaysAgo })]),
    ]);

  it('gets the insured person a card (ORG_EHC_004)', async () => {
    const r = await call(base, '/ehc/queryEcAuthResult', inst.appId, inst.secret, {
      orgId: inst.orgId,
      type: '01',
      psnNo: 'P001',
      idNo,
      idType: '01',
      userName,
    });
    assert.equal(r.respCode, '000000', r.respMsg);
    ehealthCardId = String(r.payload!.ehealthCardId);
    assert.match(ehealthCardId, /^[0-9A-F]{32}$/);
    assert.equal(r.payload!.idNo, idNo);
    assert.equal(r.payload!.birthday, '19900307');
    const again = await call(base, '/ehc/queryEcAuthResult', inst.appId, inst.secret, {
      orgId: inst.orgId,
      type: '02',
      psnNo: 'P001',
      idNo,
      idType: '01',
      userName,
    });
    assert.equal(again.payload!.ehealthCardId, ehealthCardId, 'the same person keeps the same card');
  });

  it('reports and receives the REPORT callback', async () => {
    const r = await call(
      base,
      '/umdl/reportOverdueData',
      inst.appId,
      inst.secret,
      report('R-001', [
        { orgTraceId: 'V1', amount: '25.00' },
        { orgTraceId: 'V2', amount: '100.5' },
      ]),
    );
    assert.equal(r.respCode, '000000', r.respMsg);
    assert.equal(r.payload!.state, 'success');
    const [cb] = await hospital.waitForCallbacks(1);
    assert.equal(cb!.notifyType, 'REPORT');
    assert.equal(cb!.orgId, inst.orgId);
    assert.equal(cb!.orgName, '福州市第一医院');
    assert.deepEqual(cb!.updateResultList, []);
    assert.equal(cb!.extData?.orgRequestId, 'R-001');
    const real = cb!.reportResultList!.find((p) => p.idNo === idNo)!;
    assert.deepEqual(
      real.itemList.map((i) => [i.orgTraceId, i.state]),
      [
        ['V1', '0'],
        ['V2', '0'],
      ],
    );
    traceIds = real.itemList.map((i) => i.traceId!);
    for (const id of traceIds) assert.ok(id.length > 0 && id.length <= 40);
    const anon = cb!.reportResultList!.find((p) => p.idNo === '')!;
    assert.equal(anon.itemList[0]!.state, '0');
  });

  it('tells the batch result through ORG_MDL_005 too', async () => {
    const r = await call(base, '/qmdl/queryReportResult', inst.appId, inst.secret, { orgId: inst.orgId, orgRequestId: 'R-001' });
    assert.equal(r.respCode, '000000', r.respMsg);
    const persons = r.payload!.reportResultList as { idNo: string; itemList: { traceId: string; state: string }[] }[];
    assert.deepEqual(
      persons.find((p) => p.idNo === idNo)!.itemList.map((i) => i.traceId),
      traceIds,
    );
    assert.equal((r.payload!.extData as { notifyType: string }).notifyType, 'REPORT');
  });

  it('queries: two unpaid items, still eligible', async () => {
    const r = await call(base, '/qmdl/queryOverdueData', inst.appId, inst.secret, {
      orgId: '',
      businessType: '01101',
      idNo,
      idType: '01',
      userName,
      ehealthCardId,
    });
    assert.equal(r.respCode, '000000', r.respMsg);
    assert.equal(r.payload!.next, '1');
    const items = r.payload!.itemList as { amount: string; orgName: string; state: string }[];
    assert.deepEqual(items.map((i) => i.amount).sort(), ['100.50', '25.00']);
    assert.ok(items.every((i) => i.state === '0' && i.orgName === '福州市第一医院'));
    assert.equal((r.payload!.extData as { unpaidTotal: string }).unpaidTotal, '125.50');
  });

  it('a re-sent batch gets the same answer and is not counted twice', async () => {
    const again = await call(
      base,
      '/umdl/reportOverdueData',
      inst.appId,
      inst.secret,
      report('R-001', [
        { orgTraceId: 'V1', amount: '25.00' },
        { orgTraceId: 'V2', amount: '100.5' },
      ]),
    );
    assert.equal(again.respCode, '000000', again.respMsg);
    assert.equal(again.payload!.state, 'success');
    const other = await call(
      base,
      '/umdl/reportOverdueData',
      inst.appId,
      inst.secret,
      report('R-001', [{ orgTraceId: 'V9', amount: '1.00' }]),
    );
    assert.equal(other.respCode, '000000', "a business refusal: the guide's state fail");
    assert.equal(other.payload!.state, 'fail');
    assert.match(String(other.payload!.msg), /R-001/);
    // Same items under a new batch number: still the same two items.
    const rereport = await call(
      base,
      '/umdl/reportOverdueData',
      inst.appId,
      inst.secret,
      report('R-002', [
        { orgTraceId: 'V1', amount: '25.00' },
        { orgTraceId: 'V2', amount: '100.5' },
      ]),
    );
    assert.equal(rereport.respCode, '000000');
    const [, cb2] = await hospital.waitForCallbacks(2);
    assert.deepEqual(
      cb2!.reportResultList!.find((p) => p.idNo === idNo)!.itemList.map((i) => i.traceId),
      traceIds,
    );
    const q = await call(base, '/qmdl/queryOverdueData', inst.appId, inst.secret, {
      businessType: '01101',
      idNo,
      idType: '01',
      userName,
      ehealthCardId,
    });
    assert.equal((q.payload!.itemList as unknown[]).length, 2);
    const batches = await t.platform.db.selectFrom('batch').select('org_request_id').execute();
    assert.deepEqual(batches.map((b) => b.org_request_id).sort(), ['R-001', 'R-002']);
  });

  it('pays one item (ORG_MDL_003), receives the UPDATE callback, and the query shows one left', async () => {
    const r = await call(base, '/umdl/updateOverdueData', inst.appId, inst.secret, {
      orgId: inst.orgId,
      idNo,
      idType: '01',
      userName,
      ehealthCardId,
      notifyUrl: `${hospital.url}/umdl/callback`,
      orgRequestId: 'U-001',
      itemList: [{ orgTraceId: 'V1', traceId: traceIds[0]!, state: '1' }],
    });
    assert.equal(r.respCode, '000000', r.respMsg);
    const cbs = await hospital.waitForCallbacks(3);
    const cb = cbs[2]!;
    assert.equal(cb.notifyType, 'UPDATE');
    assert.deepEqual(cb.reportResultList, []);
    assert.deepEqual(cb.updateResultList![0]!.itemList, [{ orgTraceId: 'V1', traceId: traceIds[0], state: '1' }]);
    const q = await call(base, '/qmdl/queryOverdueData', inst.appId, inst.secret, {
      businessType: '01301',
      idNo,
      idType: '01',
      userName,
      ehealthCardId,
    });
    assert.deepEqual(
      (q.payload!.itemList as { amount: string }[]).map((i) => i.amount),
      ['100.50'],
    );
  });

  it('retries a callback the hospital failed to take, and records every attempt', async () => {
    hospital.failNext = 1;
    const r = await call(base, '/umdl/updateOverdueData', inst.appId, inst.secret, {
      orgId: inst.orgId,
      idNo,
      idType: '01',
      userName,
      ehealthCardId,
      notifyUrl: `${hospital.url}/umdl/callback`,
      orgRequestId: 'U-002',
      itemList: [{ orgTraceId: 'V2', traceId: traceIds[1]!, state: '2' }],
    });
    assert.equal(r.respCode, '000000');
    const cbs = await hospital.waitForCallbacks(4, 30_000);
    assert.equal(cbs[3]!.updateResultList![0]!.itemList[0]!.state, '2');
    const batch = await eventually(async () => {
      const b = await t.platform.db.selectFrom('batch').selectAll().where('org_request_id', '=', 'U-002').executeTakeFirstOrThrow();
      assert.equal(b.callback_status, 'delivered');
      return b;
    });
    const attempts = await t.platform.db
      .selectFrom('callback_attempt')
      .selectAll()
      .where('batch_id', '=', batch.id)
      .orderBy('attempt')
      .execute();
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.outcome, a.http_status]),
      [
        [1, 'error', 500],
        [2, 'delivered', 200],
      ],
    );
    assert.equal(batch.callback_status, 'delivered');
    const q = await call(base, '/qmdl/queryOverdueData', inst.appId, inst.secret, {
      businessType: '01101',
      idNo,
      idType: '01',
      userName,
      ehealthCardId,
    });
    assert.deepEqual(q.payload!.itemList, []);
    assert.equal(q.payload!.next, '1');
  });

  it('audits every query and change', async () => {
    const events = await t.platform.db.selectFrom('audit_event').select(['action', 'outcome']).execute();
    const actions = new Set(events.map((e) => e.action));
    for (const a of [
      'ehc.register',
      'batch.report.accept',
      'item.report',
      'arrears.query',
      'batch.update.accept',
      'item.update',
      'callback.deliver',
    ]) {
      assert.ok(actions.has(a), `audit has ${a}`);
    }
    await assert.rejects(t.platform.db.deleteFrom('audit_event').execute(), /append-only|permission denied/);
  });
});
