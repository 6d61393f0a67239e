import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  chinaTimeToEpochMs,
  epochMsToChinaTime,
  fenToYuan,
  identityProblem,
  maskIdNo,
  maskName,
  reportOverdueDataRequest,
  residentId,
  residentIdCheckChar,
  residentIdProblem,
  validate,
  yuanProblem,
  yuanToFen,
} from './index.js';

describe('resident ID (GB 11643)', () => {
  it('computes the check character of the standard example', () => {
    assert.equal(residentIdCheckChar('11010519491231002'), 'X');
    assert.equal(residentIdProblem('11010519491231002X'), undefined);
    assert.equal(residentIdProblem('11010519491231002x'), undefined);
  });
  it('makes a valid number from a region, a birth date and a sequence (the standard example again)', () => {
    assert.equal(residentId('110105', '19491231', 2), '11010519491231002X');
    assert.equal(residentIdProblem(residentId('350102', '19900307', 123)), undefined);
  });
  it('rejects a wrong check digit, a bad date and a wrong length', () => {
    assert.match(residentIdProblem('110105194912310021')!, /校验码/);
    assert.match(residentIdProblem('110105194902300027')!, /出生日期/);
    assert.match(residentIdProblem('1101051949123100')!, /17 位/);
  });
  it('masks for logs', () => {
    assert.equal(maskIdNo('350102199003071234'), '3501**********1234');
    assert.equal(maskName('林晓梅'), '林*梅');
    assert.equal(maskName('林梅'), '林*');
  });
});

describe('money and time', () => {
  it('keeps yuan as integer fen', () => {
    assert.equal(yuanToFen('25.00'), 2500);
    assert.equal(yuanToFen('0.5'), 50);
    assert.equal(yuanToFen('1234567.89'), 123456789);
    assert.equal(fenToYuan(2505), '25.05');
  });
  it('refuses amounts that are not yuan with at most two decimals', () => {
    for (const bad of ['25.001', '-1', '1e3', '01.00', '', ' 1', '1.']) assert.ok(yuanProblem(bad), bad);
  });
  it('reads China time', () => {
    const ms = chinaTimeToEpochMs('2024-11-20 09:15:00')!;
    assert.equal(new Date(ms).toISOString(), '2024-11-20T01:15:00.000Z');
    assert.equal(epochMsToChinaTime(ms), '2024-11-20 09:15:00');
    assert.equal(chinaTimeToEpochMs('2024-02-30 09:15:00'), undefined);
    assert.equal(chinaTimeToEpochMs('2024-11-20T09:15:00'), undefined);
  });
});

describe('schema', () => {
  const good = {
    orgId: 'H35010200001',
    orgName: '福州市第一医院',
    notifyUrl: 'http://127.0.0.1:9000/umdl/callback',
    orgRequestId: 'R1',
    unsettleList: [
      {
        idNo: '11010519491231002X',
        idType: '01',
        userName: '张三',
        ehealthCardId: 'C1',
        userType: '01',
        itemList: [
          { orgTraceId: 'T1', medType: '11', feeType: '01', itemName: '诊查费', amount: '25.00', actualTime: '2024-11-20 09:15:00' },
        ],
      },
    ],
  };
  it('accepts a well-formed report', () => assert.equal(validate(reportOverdueDataRequest, good), undefined));
  it('names the failing field', () => {
    const bad = structuredClone(good);
    bad.unsettleList[0]!.itemList[0]!.medType = '77';
    assert.deepEqual(validate(reportOverdueDataRequest, bad)?.path, 'unsettleList[0].itemList[0].medType');
    const long = structuredClone(good);
    long.orgId = 'H350102000011';
    assert.match(validate(reportOverdueDataRequest, long)!.message, /最大长度 12/);
    const missing: Record<string, unknown> = structuredClone(good);
    delete missing.orgRequestId;
    assert.match(validate(reportOverdueDataRequest, missing)!.message, /orgRequestId/);
    const notUrl = { ...good, notifyUrl: 'ftp://x' };
    assert.match(validate(reportOverdueDataRequest, notUrl)!.message, /http/);
  });
  it('requires the identity of a real-name patient', () => {
    assert.equal(identityProblem({ ehealthCardId: '', idNo: '' }), undefined);
    assert.match(identityProblem({ ehealthCardId: 'C', idType: '01', userName: 'x' })!, /idNo/);
    assert.match(identityProblem({ ehealthCardId: 'C', idType: '01', userName: 'x', idNo: '110105194912310021' })!, /校验码/);
  });
});
