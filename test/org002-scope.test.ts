import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { TestInstitution, TestPlatform } from '@mdl/platform/testing';
import { call } from './support/client.js';
import { TestHospital } from './support/hospital.js';
import { residentId } from './support/people.js';
import { reportItem, reportOverdue } from './support/report.js';
import { suiteScope } from './support/scope.js';
import { issueCard, startWithHospital } from './support/suite.js';

type Item = { orgId: string; orgName: string; amount: string };

/**
 * What ORG_MDL_002 shows to whom (issue #13 items 5 and 8, guide §4.3.2.2 and §1.2.2), over real HTTP:
 * `orgId` filters the list, a non-real-name patient is answered to the institution that reported it, and
 * records reported without an idNo are never pooled into one patient.
 */
describe('ORG_MDL_002: orgId filter and non-real-name patients', () => {
  let t: TestPlatform;
  let base: string;
  let a: TestInstitution;
  let b: TestInstitution;
  let hospital: TestHospital;
  const idNo = residentId('350102', '19790304', 218);
  const userName = '林素梅';
  let card = '';
  // Known to nobody: no card exists for this identity, so a hospital can only report it as non-real-name.
  const local = { idNo: residentId('350102', '19900615', 377), idType: '01', userName: '王小明' };

  const scope = suiteScope();
  before(async () => {
    const suite = await startWithHospital(scope, [
      { orgId: 'H35010200021', orgName: '福州甲医院' },
      { orgId: 'H35010200022', orgName: '福州乙医院' },
    ]);
    ({ t, base, hospital } = suite);
    [a, b] = suite.insts;
    card = await issueCard(base, a, { idNo, userName, psnNo: 'P9' });
    // One real-name item at each institution (B reports through its own credential, answered by the same hospital).
    const hb = scope.add(new TestHospital(b.appId, b.secret), (h) => h.stop());
    await hb.start();
    for (const [inst, h, amount] of [
      [a, hospital, '11.00'],
      [b, hb, '22.00'],
    ] as const) {
      const n = h.callbacks.length;
      const r = await reportOverdue(base, inst, `S-${inst.orgId}`, `${h.url}/umdl/callback`, [
        { idNo, idType: '01', userName, ehealthCardId: card, userType: '01', itemList: [item(`R-${inst.orgId}`, amount)] },
      ]);
      assert.equal(r.respCode, '000000');
      await h.waitForCallbacks(n + 1);
    }
  });

  const item = (orgTraceId: string, amount: string) => reportItem(orgTraceId, { amount });
  const query = (inst: TestInstitution, extra: object) =>
    call(base, '/qmdl/queryOverdueData', inst.appId, inst.secret, {
      businessType: '01101',
      idNo,
      idType: '01',
      userName,
      ehealthCardId: card,
      ...extra,
    });

  it('answers every institution’s items when orgId is empty, and filters by any orgId instead of refusing it', async () => {
    const all = await query(b, {});
    assert.equal(all.respCode, '000000');
    assert.deepEqual((all.payload!.itemList as Item[]).map((i) => [i.orgId, i.orgName, i.amount]).sort(), [
      [a.orgId, '福州甲医院', '11.00'],
      [b.orgId, '福州乙医院', '22.00'],
    ]);
    // B asks for A's items only: a filter (空时查全部机构的待缴费数据), not acting for A, so no -4.
    const other = await query(b, { orgId: a.orgId });
    assert.equal(other.respCode, '000000', `${other.respCode} ${other.respMsg}`);
    assert.deepEqual(
      (other.payload!.itemList as Item[]).map((i) => i.orgId),
      [a.orgId],
    );
    assert.equal((other.payload!.extData as { unpaidCount: number }).unpaidCount, 2, '`next` is still decided over everything');
    const none = await query(b, { orgId: 'H35010200099' });
    assert.deepEqual(none.payload!.itemList, []);
  });

  it('answers a non-real-name patient to the institution that reported it, and to nobody else', async () => {
    const n = hospital.callbacks.length;
    await reportOverdue(base, a, 'S-local', `${hospital.url}/umdl/callback`, [
      { ...local, userType: '01', itemList: [item('N-1', '33.00')] },
    ]);
    const cb = (await hospital.waitForCallbacks(n + 1))[n]!;
    assert.notEqual(cb.reportResultList![0]!.itemList[0]!.traceId, '', 'stored');
    const mine = await query(a, { ...local, ehealthCardId: '' });
    assert.equal(mine.respCode, '000000', `${mine.respCode} ${mine.respMsg}`);
    assert.deepEqual(
      (mine.payload!.itemList as Item[]).map((i) => [i.orgId, i.amount]),
      [[a.orgId, '33.00']],
    );
    const theirs = await query(b, { ...local, ehealthCardId: '' });
    assert.equal(theirs.respCode, '000000');
    assert.deepEqual(theirs.payload!.itemList, [], 'another institution never sees it');
    assert.equal(theirs.payload!.next, '1');
    // Without a card an institution sees only its own non-real-name records: asking without the card about
    // a real-name person reveals nothing of other institutions.
    const probe = await query(b, { ehealthCardId: '' });
    assert.deepEqual(probe.payload!.itemList, []);
    // The same patient under another name is another patient.
    const renamed = await query(a, { ...local, userName: '王小明明', ehealthCardId: '' });
    assert.deepEqual(renamed.payload!.itemList, []);
  });

  it('keeps records reported without an idNo apart instead of pooling them into one patient per institution', async () => {
    const n = hospital.callbacks.length;
    await reportOverdue(base, a, 'S-anon', `${hospital.url}/umdl/callback`, [
      { userType: '01', itemList: [item('A-1', '10.00')] },
      { userType: '01', itemList: [item('A-2', '10.00')] },
      { userType: '01', itemList: [item('A-3', '10.00')] },
    ]);
    const cb = (await hospital.waitForCallbacks(n + 1))[n]!;
    assert.equal(cb.reportResultList!.length, 3);
    const rows = await t.platform.db
      .selectFrom('arrears_item')
      .select('subject_bidx')
      .where('org_trace_id', 'in', ['A-1', 'A-2', 'A-3'])
      .execute();
    assert.equal(rows.length, 3);
    assert.equal(new Set(rows.map((r) => r.subject_bidx)).size, 3, 'three records, three subjects');
    // Not one of them counts toward the identified patient of the same institution.
    const mine = await query(a, { ...local, ehealthCardId: '' });
    assert.equal((mine.payload!.extData as { unpaidCount: number }).unpaidCount, 1);
  });
});
