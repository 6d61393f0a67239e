import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { INTERFACES, LOCAL_RECORD_NOTE, type Field, type InterfaceCode, type ObjectSchema } from '@mdl/protocol';
import {
  addInstitution,
  decideAppeal,
  fileAppeal,
  refreshItem,
  startTestPlatform,
  upsertInstitution,
  type TestInstitution,
  type TestPlatform,
} from '@mdl/platform/testing';
import { call } from './support/client.js';
import { TestHospital } from './support/hospital.js';
import { chinaTime, residentId } from './support/people.js';
import { reportBody, reportItem, reportOverdue } from './support/report.js';
import { suiteScope } from './support/scope.js';
import { issueCard, startWithHospital } from './support/suite.js';

/**
 * The guide's parameter tables (§4.3–§4.5), transcribed from spec/integration-guide.zh.md by hand:
 * `field max Y|N [dict]`, nested lists as `list.field`. The test checks the protocol schemas say the
 * same, then sends every field of every platform interface over real HTTP missing, too long, outside
 * its dictionary and of the wrong type, and expects 000105 naming the field.
 */
const GUIDE: Partial<Record<InterfaceCode, { request: string; response: string }>> = {
  ORG_MDL_001: {
    request: `orgId 12 Y; orgName 40 Y; notifyUrl 100 Y; orgRequestId 40 Y; unsettleList - N;
      unsettleList.idNo 18 Y; unsettleList.idType 2 Y dict; unsettleList.userName 20 Y; unsettleList.ehealthCardId 64 Y;
      unsettleList.mobilePhone 11 N; unsettleList.userType 2 Y dict; unsettleList.itemList - Y;
      unsettleList.itemList.orgTraceId 40 Y; unsettleList.itemList.medType 6 Y dict; unsettleList.itemList.feeType 2 Y dict;
      unsettleList.itemList.itemName 40 Y; unsettleList.itemList.amount 10 Y; unsettleList.itemList.actualTime 20 Y;
      unsettleList.extData - N`,
    response: `state - Y dict; msg 100 N; extData - N`,
  },
  ORG_MDL_002: {
    request: `orgId 12 N; businessType 8 Y dict; idNo 18 Y; idType 2 Y dict; userName 20 Y; ehealthCardId 64 Y; extData - N`,
    response: `next - Y dict; itemList - Y; itemList.orgId 12 Y; itemList.orgName 40 Y; itemList.itemName 40 Y;
      itemList.amount 10 Y; itemList.actualTime 20 Y; itemList.state 2 Y dict; extData - N`,
  },
  ORG_MDL_003: {
    request: `orgId 12 Y; idNo 18 Y; idType 2 Y dict; userName 20 Y; ehealthCardId 64 Y; notifyUrl 100 Y; orgRequestId 40 Y;
      itemList - Y; itemList.orgTraceId 40 Y; itemList.traceId 40 Y; itemList.state 2 Y dict; extData - N`,
    response: `state - Y dict; msg 100 N; extData - N`,
  },
  ORG_MDL_004: {
    request: `orgId 12 Y; idNo 18 Y; idType 2 Y dict; userName 20 Y; ehealthCardId 64 Y; extData - N`,
    response: `mdrUrl 200 Y; extData - N`,
  },
  ORG_MDL_005: {
    request: `orgId 12 Y; orgRequestId 40 Y; extData - N`,
    response: `orgId 12 Y; orgName 40 Y; reportResultList - Y; reportResultList.idNo 18 Y; reportResultList.userName 20 Y;
      reportResultList.itemList.orgTraceId 40 Y; reportResultList.itemList.traceId 40 Y; reportResultList.itemList.state 2 Y dict;
      extData - N`,
  },
  ORG_001: {
    request: `orgId 12 Y; orgTraceId 40 Y; traceId 40 N; extData - N`,
    response: `state 2 Y dict; extData - N`,
  },
  ORG_002: {
    request: `orgId 12 Y; orgName 40 Y; notifyType 10 Y dict; reportResultList - Y; updateResultList - Y;
      reportResultList.idNo 18 Y; reportResultList.userName 20 Y; reportResultList.itemList.orgTraceId 40 Y;
      reportResultList.itemList.traceId 40 Y; reportResultList.itemList.state 2 Y dict; extData - N`,
    response: `state 10 Y dict; msg 100 N; extData - N`,
  },
  ORG_EHC_001: {
    request: `outAuthNo 32 Y; orgId 12 Y; extData - N`,
    response: `authUrl 200 Y; wxMiniAppId 40 N; wxMiniPath 300 N; remark 200 N; extData - N`,
  },
  ORG_EHC_002: {
    request: `outAuthNo 32 Y; orgId 12 Y; extData - N`,
    response: `ehealthCardId 64 Y; authStatus 10 Y dict; cardNo 12 Y; cardType 2 Y; idNo 18 Y; idType 2 Y dict; userName 20 Y;
      userSex 1 N dict; birthday 8 N; mobilePhone 11 N; extData - N`,
  },
  ORG_EHC_003: {
    request: `orgId 12 Y; ehealthCode 128 Y; extData - N`,
    response: `ehealthCardId 64 Y; cardNo 12 Y; cardType 2 Y; idNo 18 Y; idType 2 Y dict; userName 20 Y; userSex 1 N dict;
      birthday 8 N; mobilePhone 11 N; extData - N`,
  },
  ORG_EHC_004: {
    request: `orgId 12 Y; type 1 Y dict; psnNo 30 Y; cardNo 12 N; idNo 18 Y; idType 2 Y dict; userName 20 Y; insuplcAdmdvs 10 N;
      extData - N`,
    response: `ehealthCardId 64 Y; cardNo 12 Y; cardType 2 Y; idNo 18 Y; idType 2 Y dict; userName 20 Y; userSex 1 N dict;
      birthday 8 N; mobilePhone 11 N; extData - N`,
  },
};

/**
 * Where this implementation reads the guide otherwise, each with its reason (docs/decisions.md). Key:
 * `CODE request|response path`, value: what differs. Anything not listed must match the table exactly.
 */
const READINGS: Record<string, string> = {
  // §4.3.1.2: "若为非实名患者，入参可为空": the four identity fields are required for real-name patients only.
  'ORG_MDL_001 request unsettleList.idNo': 'required',
  'ORG_MDL_001 request unsettleList.idType': 'required',
  'ORG_MDL_001 request unsettleList.userName': 'required',
  'ORG_MDL_001 request unsettleList.ehealthCardId': 'required',
  'ORG_MDL_003 request idNo': 'required',
  'ORG_MDL_003 request idType': 'required',
  'ORG_MDL_003 request userName': 'required',
  'ORG_MDL_003 request ehealthCardId': 'required',
  // §4.3.2.2: 闽政通渠道 ehealthCardId 非必填 (institutions: enforced by the handler, tested below).
  'ORG_MDL_002 request ehealthCardId': 'required',
  // ORG_MDL_004 is also called by the 闽政通 channel, which has neither an orgId nor a card.
  'ORG_MDL_004 request orgId': 'required',
  'ORG_MDL_004 request ehealthCardId': 'required',
  // An empty list is a valid answer (no arrears; no result yet for a person-less report).
  'ORG_MDL_002 response itemList': 'required',
  'ORG_MDL_005 response reportResultList': 'required',
  'ORG_002 request reportResultList': 'required',
  'ORG_002 request updateResultList': 'required',
  // A report with non-real-name persons answers with empty idNo/userName.
  'ORG_MDL_005 response reportResultList.idNo': 'required',
  'ORG_MDL_005 response reportResultList.userName': 'required',
  'ORG_002 request reportResultList.idNo': 'required',
  'ORG_002 request reportResultList.userName': 'required',
  // `next` is "0"/"1"; the table gives no length.
  'ORG_MDL_002 response next': 'max',
  // "01-医保电子凭证 02-医保卡" are two characters: the codes win over the length 1.
  'ORG_EHC_004 request type': 'max',
  // The state answers carry "success"/"fail" (7 characters); the table gives "-".
  'ORG_MDL_001 response state': 'max',
  'ORG_MDL_003 response state': 'max',
  // While authStatus is ing/fail/cancel there is no card yet: the card fields come with succ.
  'ORG_EHC_002 response ehealthCardId': 'required',
  'ORG_EHC_002 response cardNo': 'required',
  'ORG_EHC_002 response cardType': 'required',
  'ORG_EHC_002 response idNo': 'required',
  'ORG_EHC_002 response idType': 'required',
  'ORG_EHC_002 response userName': 'required',
  // The card type is the registry's own code, not a guide dictionary.
};

interface GuideRow {
  path: string;
  max: number | undefined;
  required: boolean;
  dict: boolean;
}

function parseTable(text: string): GuideRow[] {
  return text
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const [path, max, req, dict] = s.split(/\s+/);
      return { path: path!, max: max === '-' ? undefined : Number(max), required: req === 'Y', dict: dict === 'dict' };
    });
}

function fieldAt(schema: ObjectSchema, path: string): Field | undefined {
  const parts = path.split('.');
  let s: ObjectSchema = schema;
  for (let i = 0; i < parts.length - 1; i++) {
    const f = s[parts[i]!];
    if (!f || f.kind !== 'list') return undefined;
    s = f.of;
  }
  return s[parts.at(-1)!];
}

describe('conformance: the protocol schemas say what the guide tables say (§4.3–§4.5)', () => {
  for (const [code, tables] of Object.entries(GUIDE) as [InterfaceCode, { request: string; response: string }][]) {
    for (const side of ['request', 'response'] as const) {
      it(`${code} ${side}`, () => {
        const schema = INTERFACES[code][side] as ObjectSchema;
        for (const row of parseTable(tables[side])) {
          const where = `${code} ${side} ${row.path}`;
          const f = fieldAt(schema, row.path);
          // List item tables whose list field the guide leaves out (itemList inside reportResultList).
          assert.ok(f, `${where}: declared`);
          const reading = READINGS[where];
          if (reading !== 'required') assert.equal(f.required, row.required, `${where}: required`);
          if (f.kind === 'string') {
            if (row.max !== undefined && reading !== 'max') assert.equal(f.max, row.max, `${where}: max length`);
            if (reading !== 'dict') assert.equal(Boolean(f.dict), row.dict, `${where}: dictionary`);
          } else {
            assert.equal(row.max, undefined, `${where}: a list or JSON object has no length`);
          }
        }
      });
    }
  }
});

describe('conformance over real HTTP', () => {
  let t: TestPlatform;
  let base: string;
  let a: TestInstitution;
  let hospital: TestHospital;
  const idNo = residentId('350102', '19900307', 123);
  const userName = '林晓梅';
  let card = '';

  const scope = suiteScope();
  before(async () => {
    const suite = await startWithHospital(scope, [{ orgId: 'H35010200031' }]);
    ({ t, base, hospital } = suite);
    [a] = suite.insts;
    card = await issueCard(base, a, { idNo, userName, psnNo: 'P31' });
  });

  // `over` may change any field, medType and feeType too: the conformance cases vary them.
  const item = (orgTraceId: string, over: Record<string, string> = {}) => ({ ...reportItem(orgTraceId), ...over });
  const report = (orgRequestId: string, persons: object[]) => reportBody(a, orgRequestId, `${hospital.url}/umdl/callback`, persons);
  /** The ORG_002 of one batch, whatever else arrives meanwhile. */
  async function callbackFor(orgRequestId: string) {
    for (let n = 1; ; n++) {
      const all = await hospital.waitForCallbacks(n);
      const found = all.find((c) => c.extData?.orgRequestId === orgRequestId);
      if (found) return found;
    }
  }
  const realName = () => ({ idNo, idType: '01', userName, ehealthCardId: card, userType: '02' });

  function bases(): Partial<Record<InterfaceCode, Record<string, unknown>>> {
    return {
      ORG_MDL_001: report('CF-BASE', [{ ...realName(), mobilePhone: '13800000000', itemList: [item('CF-0')], extData: {} }]),
      ORG_MDL_002: { orgId: a.orgId, businessType: '01101', idNo, idType: '01', userName, ehealthCardId: card, extData: {} },
      ORG_MDL_003: {
        orgId: a.orgId,
        idNo,
        idType: '01',
        userName,
        ehealthCardId: card,
        notifyUrl: `${hospital.url}/umdl/callback`,
        orgRequestId: 'CF-U',
        itemList: [{ orgTraceId: 'CF-0', traceId: 'T1', state: '1' }],
        extData: {},
      },
      ORG_MDL_004: { orgId: a.orgId, idNo, idType: '01', userName, ehealthCardId: card, extData: {} },
      ORG_MDL_005: { orgId: a.orgId, orgRequestId: 'CF-BASE', extData: {} },
      ORG_EHC_001: { outAuthNo: 'CF-AUTH-1', orgId: a.orgId, extData: {} },
      ORG_EHC_002: { outAuthNo: 'CF-AUTH-1', orgId: a.orgId, extData: {} },
      ORG_EHC_003: { orgId: a.orgId, ehealthCode: 'X'.repeat(20), extData: {} },
      ORG_EHC_004: {
        orgId: a.orgId,
        type: '01',
        psnNo: 'P31',
        cardNo: '1',
        idNo,
        idType: '01',
        userName,
        insuplcAdmdvs: '350100',
        extData: {},
      },
    };
  }

  /** Sets the value at `path` (lists: their first element) in a deep copy. */
  function withValue(payload: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
    const copy = structuredClone(payload);
    const parts = path.split('.');
    let o: Record<string, unknown> = copy;
    for (const p of parts.slice(0, -1)) o = (o[p] as Record<string, unknown>[])[0]!;
    o[parts.at(-1)!] = value;
    return copy;
  }

  it('refuses every field of every platform interface missing, too long, outside its dictionary or of the wrong type with 000105 naming it', async () => {
    const failures: string[] = [];
    for (const [code, payload] of Object.entries(bases()) as [InterfaceCode, Record<string, unknown>][]) {
      const schema = INTERFACES[code].request as ObjectSchema;
      for (const row of parseTable(GUIDE[code]!.request)) {
        const f = fieldAt(schema, row.path)!;
        const key = row.path.split('.').at(-1)!;
        const cases: [string, unknown][] = [];
        if (f.required) cases.push(['missing', '']);
        if (f.kind === 'string') {
          cases.push(['too long', '9'.repeat(f.max + 1)]);
          if (f.dict) cases.push(['outside the dictionary', 'Z9']);
          cases.push(['not a string', 12]);
        } else if (f.kind === 'list') {
          cases.push(['not a list', 'x']);
        } else {
          cases.push(['not an object', 'x']);
        }
        for (const [what, value] of cases) {
          const r = await call(base, INTERFACES[code].path, a.appId, a.secret, withValue(payload, row.path, value));
          if (r.respCode !== '000105' || !r.respMsg.includes(key)) failures.push(`${code} ${row.path} ${what}: ${r.respCode} ${r.respMsg}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  it('item 1: a card-less identity is kept local with a word in ORG_002 and ORG_MDL_005; an identity in between is refused for that person', async () => {
    const r = await call(
      base,
      '/umdl/reportOverdueData',
      a.appId,
      a.secret,
      report('CF-1', [
        { idNo, idType: '01', userName, userType: '02', itemList: [item('CF-1a')] },
        { idNo, idType: '01', userType: '02', itemList: [item('CF-1c')] },
        { ...realName(), itemList: [item('CF-1b')] },
      ]),
    );
    assert.equal(r.payload!.state, 'success');
    const cb = await callbackFor('CF-1');
    const [local, partial, whole] = cb.reportResultList!;
    assert.equal((local!.extData as { note: string }).note, LOCAL_RECORD_NOTE, 'never silently local');
    assert.equal(local!.itemList[0]!.state, '0');
    assert.equal((partial!.extData as { result: string }).result, 'fail');
    assert.match(String((partial!.extData as { msg: string }).msg), /身份信息不完整，缺少 userName/);
    assert.equal(partial!.itemList[0]!.state, '2');
    assert.equal(whole!.itemList[0]!.state, '0');
    const q = await call(base, '/qmdl/queryReportResult', a.appId, a.secret, { orgId: a.orgId, orgRequestId: 'CF-1' });
    assert.deepEqual(q.payload!.reportResultList, cb.reportResultList, 'ORG_MDL_005 answers what ORG_002 said');
    const stored = await t.platform.db
      .selectFrom('arrears_item')
      .select('org_trace_id')
      .where('org_trace_id', 'in', ['CF-1a', 'CF-1b', 'CF-1c'])
      .orderBy('org_trace_id')
      .execute();
    assert.deepEqual(
      stored.map((s) => s.org_trace_id),
      ['CF-1a', 'CF-1b'],
    );
  });

  it('item 1: a misspelt field is named in the answer, and the person it leaves without a card is said to be kept local', async () => {
    const { ehealthCardId, ...rest } = realName();
    const r = await call(
      base,
      '/umdl/reportOverdueData',
      a.appId,
      a.secret,
      report('CF-2', [{ ...rest, ehealthCardID: ehealthCardId, itemList: [item('CF-2a')] }]),
    );
    assert.equal(r.payload!.state, 'success');
    assert.match(String(r.payload!.msg), /未识别的字段已忽略：unsettleList\[0\]\.ehealthCardID/);
    assert.deepEqual((r.payload!.extData as { unknownFields: string[] }).unknownFields, ['unsettleList[0].ehealthCardID']);
    const cb = await callbackFor('CF-2');
    assert.equal((cb.reportResultList![0]!.extData as { note: string }).note, LOCAL_RECORD_NOTE);
  });

  it('item 3: calls the platform does not take are answered state fail with the reason; a known orgRequestId with other content too', async () => {
    const tooMany = Array.from({ length: 101 }, (_, i) => item(`CF-M${i}`));
    const r = await call(base, '/umdl/reportOverdueData', a.appId, a.secret, report('CF-3', [{ ...realName(), itemList: tooMany }]));
    assert.equal(r.respCode, '000000');
    assert.deepEqual(r.payload, { state: 'fail', msg: '单次最多 100 条项目，本次 101 条，请分批调用' });
    const ok = await call(
      base,
      '/umdl/reportOverdueData',
      a.appId,
      a.secret,
      report('CF-3', [{ ...realName(), itemList: [item('CF-3a')] }]),
    );
    assert.equal(ok.payload!.state, 'success');
    await callbackFor('CF-3');
    const other = await call(
      base,
      '/umdl/reportOverdueData',
      a.appId,
      a.secret,
      report('CF-3', [{ ...realName(), itemList: [item('CF-3b')] }]),
    );
    assert.equal(other.payload!.state, 'fail');
    assert.match(String(other.payload!.msg), /已被使用/);
    const partial = await call(base, '/umdl/updateOverdueData', a.appId, a.secret, {
      ...bases().ORG_MDL_003,
      idNo: '',
      orgRequestId: 'CF-3u',
    });
    assert.equal(partial.payload!.state, 'fail');
    assert.match(String(partial.payload!.msg), /实名信息不完整/);
  });

  it('item 6: items outside coverage (急诊, pharmacy, zero amount, actualTime in 2099 or too old) are refused per item and never stored', async () => {
    await call(
      base,
      '/umdl/reportOverdueData',
      a.appId,
      a.secret,
      report('CF-6', [
        {
          ...realName(),
          itemList: [
            item('CF-6ok'),
            item('CF-6em', { medType: '13' }),
            item('CF-6ph', { medType: '41' }),
            item('CF-6zero', { amount: '0.00' }),
            item('CF-6late', { actualTime: '2099-01-01 08:00:00' }),
            item('CF-6old', { actualTime: chinaTime(400) }),
          ],
        },
      ]),
    );
    const cb = await callbackFor('CF-6');
    const person = cb.reportResultList![0]!;
    assert.deepEqual(
      person.itemList.map((i) => [i.orgTraceId, i.state]),
      [
        ['CF-6ok', '0'],
        ['CF-6em', '2'],
        ['CF-6ph', '2'],
        ['CF-6zero', '2'],
        ['CF-6late', '2'],
        ['CF-6old', '2'],
      ],
    );
    const failures = (person.extData as { result: string; failures: { orgTraceId: string; msg: string }[] }).failures;
    assert.equal((person.extData as { result: string }).result, 'partial');
    assert.match(failures.find((f) => f.orgTraceId === 'CF-6em')!.msg, /急诊/);
    assert.match(failures.find((f) => f.orgTraceId === 'CF-6zero')!.msg, /最低金额/);
    const stored = await t.platform.db.selectFrom('arrears_item').select('org_trace_id').where('org_trace_id', 'like', 'CF-6%').execute();
    assert.deepEqual(
      stored.map((s) => s.org_trace_id),
      ['CF-6ok'],
    );
    assert.equal(cb.extData!.rejected, 5);
  });

  it('item 6: a coverage change applies to reports from then on', async () => {
    const previous = await t.platform.coverage.get();
    await t.platform.coverage.set(t.platform.db, { ...previous, medTypes: [...previous.medTypes, '13'] });
    try {
      await call(
        base,
        '/umdl/reportOverdueData',
        a.appId,
        a.secret,
        report('CF-6b', [{ ...realName(), itemList: [item('CF-6em2', { medType: '13' })] }]),
      );
      const cb = await callbackFor('CF-6b');
      assert.equal(cb.reportResultList![0]!.itemList[0]!.state, '0');
    } finally {
      await t.platform.coverage.set(t.platform.db, previous);
    }
  });

  /** The first platform-originated notice (orgRequestId PLT…) after the first `n` callbacks. */
  async function noticeAfter(n: number) {
    for (let k = n + 1; ; k++) {
      const found = (await hospital.waitForCallbacks(k)).slice(n).find((c) => String(c.extData?.orgRequestId).startsWith('PLT'));
      if (found) return found;
    }
  }

  async function reported(orgRequestId: string, orgTraceId: string, person: object = realName()): Promise<string> {
    await call(base, '/umdl/reportOverdueData', a.appId, a.secret, report(orgRequestId, [{ ...person, itemList: [item(orgTraceId)] }]));
    const cb = await callbackFor(orgRequestId);
    return cb.reportResultList![0]!.itemList[0]!.traceId!;
  }

  async function update(orgRequestId: string, itemList: object[], identity: object = realName()) {
    const { userType: _ignored, ...who } = identity as Record<string, string>;
    const r = await call(base, '/umdl/updateOverdueData', a.appId, a.secret, {
      orgId: a.orgId,
      ...who,
      notifyUrl: `${hospital.url}/umdl/callback`,
      orgRequestId,
      itemList,
    });
    assert.equal(r.payload!.state, 'success', String(r.payload!.msg));
    return (await callbackFor(orgRequestId)).updateResultList![0]!;
  }

  it('item 2: a real-name item is not updated without the identity (强校验), and only 0→1 / 0→2 are taken', async () => {
    const traceId = await reported('CF-7', 'CF-7a');
    const anonymous = await update('CF-7u1', [{ orgTraceId: 'CF-7a', traceId, state: '2' }], {});
    assert.equal((anonymous.extData as { result: string }).result, 'fail');
    assert.match(String((anonymous.extData as { msg: string }).msg), /强校验/);
    assert.equal(anonymous.itemList[0]!.state, '0', 'still unpaid');

    const revoked = await update('CF-7u2', [{ orgTraceId: 'CF-7a', traceId, state: '2' }]);
    assert.equal(revoked.itemList[0]!.state, '2');
    assert.equal(revoked.extData, undefined);
    const paid = await update('CF-7u3', [{ orgTraceId: 'CF-7a', traceId, state: '1' }]);
    assert.equal(paid.itemList[0]!.state, '2', 'a revoked item stays revoked');
    assert.match(String((paid.extData as { msg: string }).msg), /状态不能从 2（撤销）改为 1（已缴清）/);
    const again = await update('CF-7u4', [{ orgTraceId: 'CF-7a', traceId, state: '2' }]);
    assert.equal(again.extData, undefined, 'the same state again is not an error');
    const row = await t.platform.db
      .selectFrom('arrears_item')
      .select('state')
      .where('org_trace_id', '=', 'CF-7a')
      .executeTakeFirstOrThrow();
    assert.equal(row.state, '2');

    // 2 → 0 is not taken by a re-report of the same orgTraceId either (guide: orgTraceId 不重复).
    await call(base, '/umdl/reportOverdueData', a.appId, a.secret, report('CF-7r', [{ ...realName(), itemList: [item('CF-7a')] }]));
    const cb = await callbackFor('CF-7r');
    assert.deepEqual(cb.reportResultList![0]!.itemList[0], { orgTraceId: 'CF-7a', traceId, state: '2' });
    assert.match(String((cb.reportResultList![0]!.extData as { msg: string }).msg), /已撤销，不能重新上报/);
  });

  it('item 2: an upheld appeal and a citizen refresh reach the hospital as ORG_002 UPDATE notices', async () => {
    const traceId = await reported('CF-8', 'CF-8a');
    const row = await t.platform.db
      .selectFrom('arrears_item')
      .select(['id', 'subject_bidx'])
      .where('trace_id', '=', traceId)
      .executeTakeFirstOrThrow();
    const appeal = await fileAppeal(t.platform.db, {
      itemId: row.id,
      subjectBidx: row.subject_bidx,
      reason: 'paid',
      description: '已缴费',
      actor: 'c',
    });
    const before = hospital.callbacks.length;
    await decideAppeal(t.platform.db, { appealId: appeal.id, upheld: true, reason: '', actor: 'op' }, t.platform.notices);
    const notice = await noticeAfter(before);
    assert.equal(notice.notifyType, 'UPDATE');
    assert.deepEqual(notice.updateResultList![0]!.itemList, [{ orgTraceId: 'CF-8a', traceId, state: '2' }]);
    assert.equal(notice.updateResultList![0]!.idNo, idNo);
    assert.match(String((notice.updateResultList![0]!.extData as { msg: string }).msg), /申诉成立/);
    const orgRequestId = String(notice.extData!.orgRequestId);
    assert.match(orgRequestId, /^PLT/);
    const q = await call(base, '/qmdl/queryReportResult', a.appId, a.secret, { orgId: a.orgId, orgRequestId });
    assert.deepEqual(q.payload!.reportResultList, notice.updateResultList, 'the notice can be pulled through ORG_MDL_005 too');
  });

  it('item 2: a citizen refresh that finds the item settled in the HIS is pushed back as an ORG_002 UPDATE notice', async () => {
    await upsertInstitution(t.platform.db, { orgId: a.orgId, orgName: a.orgName, notifyHosts: ['127.0.0.1'], endpointUrl: hospital.url });
    const traceId = await reported('CF-9', 'CF-9a');
    hospital.states.set('CF-9a', '1');
    const row = await t.platform.db.selectFrom('arrears_item').select('id').where('trace_id', '=', traceId).executeTakeFirstOrThrow();
    const before = hospital.callbacks.length;
    assert.deepEqual(await refreshItem(t.platform, { itemId: row.id, actor: 'platform' }), { kind: 'paid' });
    const notice = await noticeAfter(before);
    assert.equal(notice.notifyType, 'UPDATE');
    assert.deepEqual(notice.updateResultList![0]!.itemList, [{ orgTraceId: 'CF-9a', traceId, state: '1' }]);
  });
});

describe('conformance: ORG_MDL_005 while a batch is processing', () => {
  const scope = suiteScope();
  it('answers the retryable -3 with the reason, not an empty result list', async () => {
    // No workers: the batch stays received, as it is between acceptance and processing.
    const t = scope.add(await startTestPlatform({}, { workers: false }), (x) => x.close());
    const base = await t.listen();
    const a = await addInstitution(t.platform, 'H35010200032');
    const r = await reportOverdue(base, a, 'CF-P', 'http://127.0.0.1:9/umdl/callback', [
      { userType: '01', itemList: [reportItem('CF-P1', { amount: '9.00' })] },
    ]);
    assert.equal(r.payload!.state, 'success');
    const q = await call(base, '/qmdl/queryReportResult', a.appId, a.secret, { orgId: a.orgId, orgRequestId: 'CF-P' });
    assert.equal(q.respCode, '-3');
    assert.match(q.respMsg, /CF-P 正在处理/);
  });
});
