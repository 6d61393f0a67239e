import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { INTERFACES, type InterfaceCode } from '@mdl/protocol';
import { API_HANDLERS, createApp, startTestPlatform, type TestPlatform } from '@mdl/platform/testing';
import { call } from './support/client.js';
import { addSite, registerPatient, report, type Patient, type Site } from './support/citizen.js';
import { residentId } from './support/people.js';

/**
 * The 闽政通 channel (issue #4 §3): a credential of kind 'channel' queries (ORG_MDL_002, ehealthCardId
 * optional) and gets mdrUrl (ORG_MDL_004), and is refused -4 on everything else, writes first of all.
 */
describe('闽政通 channel credential', () => {
  let t: TestPlatform;
  let base: string;
  let site: Site;
  let p: Patient;
  let mzt: { appId: string; secret: string };

  before(async () => {
    t = await startTestPlatform();
    base = await t.listen();
    site = await addSite(t, 'H35010200001', '福州市第一医院');
    p = await registerPatient(base, site, residentId('350102', '19900307', 123), '林晓梅', 'P-1');
    await report(base, site, 'R-1', [{ patient: p, items: [{ orgTraceId: 'V1', itemName: '诊查费', amount: '25.00', daysAgo: 1 }] }]);
    mzt = await createApp(t.platform.db, t.platform.vault, { kind: 'channel', env: 'prod', label: '闽政通' });
  });
  after(async () => {
    await site?.hospital.stop();
    await t?.close();
  });

  it('queries arrears without ehealthCardId (ORG_MDL_002)', async () => {
    const r = await call(base, '/qmdl/queryOverdueData', mzt.appId, mzt.secret, {
      businessType: '01101',
      idType: '01',
      idNo: p.idNo,
      userName: p.userName,
    });
    assert.equal(r.respCode, '000000', r.respMsg);
    assert.equal(r.payload!.next, '1');
    assert.deepEqual(
      (r.payload!.itemList as { orgName: string; amount: string }[]).map((i) => [i.orgName, i.amount]),
      [['福州市第一医院', '25.00']],
    );
    const wrongName = await call(base, '/qmdl/queryOverdueData', mzt.appId, mzt.secret, {
      businessType: '01101',
      idType: '01',
      idNo: p.idNo,
      userName: '王五',
    });
    assert.equal(wrongName.respCode, '-2', 'a known identity under another name is refused');
  });

  it('gets mdrUrl (ORG_MDL_004) that opens the app for that person', async () => {
    const r = await call(base, '/qmdl/getIntoMdlUrl', mzt.appId, mzt.secret, { idType: '01', idNo: p.idNo, userName: p.userName });
    assert.equal(r.respCode, '000000', r.respMsg);
    const url = String(r.payload!.mdrUrl);
    assert.ok(url.length <= 200 && url.startsWith(`${base}/mdr/t/`), url);
    const res = await fetch(url, { redirect: 'manual' });
    assert.equal(res.status, 303);
    const cookie = res.headers.get('set-cookie')!;
    assert.match(cookie, /mdr_sid=[\w-]{43}; Max-Age=1800; Path=\/mdr; HttpOnly; SameSite=Lax/);
    const home = await fetch(`${base}/mdr/`, { headers: { cookie: cookie.split(';')[0]! } });
    assert.equal(home.status, 200);
    assert.match(await home.text(), /福州市第一医院[\s\S]*¥25\.00/);
  });

  it('a person unknown to the master index still gets a link, to an empty record list', async () => {
    const r = await call(base, '/qmdl/getIntoMdlUrl', mzt.appId, mzt.secret, {
      idType: '01',
      idNo: residentId('350102', '19700101', 1),
      userName: '新用户',
    });
    assert.equal(r.respCode, '000000', r.respMsg);
    const res = await fetch(String(r.payload!.mdrUrl), { redirect: 'manual' });
    const home = await fetch(`${base}/mdr/`, { headers: { cookie: res.headers.get('set-cookie')!.split(';')[0]! } });
    assert.match(await home.text(), /没有未结清的医疗费用/);
  });

  const samples: Partial<Record<InterfaceCode, Record<string, unknown>>> = {
    ORG_MDL_001: {
      orgId: 'H35010200001',
      orgName: '福州市第一医院',
      notifyUrl: 'http://127.0.0.1:9/umdl/callback',
      orgRequestId: 'MZT-1',
      unsettleList: [],
    },
    ORG_MDL_003: {
      orgId: 'H35010200001',
      notifyUrl: 'http://127.0.0.1:9/umdl/callback',
      orgRequestId: 'MZT-2',
      itemList: [{ orgTraceId: 'V1', traceId: 'T1', state: '1' }],
    },
    ORG_MDL_005: { orgId: 'H35010200001', orgRequestId: 'R-1' },
    ORG_EHC_004: {
      orgId: 'H35010200001',
      type: '01',
      psnNo: 'P-9',
      idNo: residentId('350102', '19800101', 9),
      idType: '01',
      userName: '王五',
    },
  };

  it('gets -4 on every write interface and on everything else not meant for a channel', async () => {
    const refused = API_HANDLERS.filter((h) => !h.channelAllowed).map((h) => h.code);
    for (const h of API_HANDLERS) {
      if (INTERFACES[h.code].writes) assert.ok(refused.includes(h.code), `${h.code} writes and is refused to channels`);
    }
    for (const code of ['ORG_EHC_004', 'ORG_MDL_001', 'ORG_MDL_003', 'ORG_MDL_005'] as const) assert.ok(refused.includes(code));
    assert.deepEqual(
      API_HANDLERS.filter((h) => h.channelAllowed)
        .map((h) => h.code)
        .sort(),
      ['ORG_MDL_002', 'ORG_MDL_004'],
    );
    for (const code of refused) {
      // The refusal comes before the payload is read, so interfaces without a sample here are refused on {} too.
      const r = await call(base, INTERFACES[code].path, mzt.appId, mzt.secret, samples[code] ?? {});
      assert.equal(r.respCode, '-4', `${code}: ${r.respMsg}`);
    }
    const batches = await t.platform.db.selectFrom('batch').select('org_request_id').execute();
    assert.deepEqual(
      batches.map((b) => b.org_request_id),
      ['R-1'],
      'nothing was written',
    );
    const item = await t.platform.db.selectFrom('arrears_item').select('state').where('org_trace_id', '=', 'V1').executeTakeFirstOrThrow();
    assert.equal(item.state, '0');
  });

  it('institutions: ORG_MDL_004 needs orgId and the card, and only for their own orgId', async () => {
    const { appId, secret, orgId } = site.inst;
    const ok = await call(base, '/qmdl/getIntoMdlUrl', appId, secret, {
      orgId,
      idType: '01',
      idNo: p.idNo,
      userName: p.userName,
      ehealthCardId: p.ehealthCardId,
    });
    assert.equal(ok.respCode, '000000', ok.respMsg);
    const noCard = await call(base, '/qmdl/getIntoMdlUrl', appId, secret, { orgId, idType: '01', idNo: p.idNo, userName: p.userName });
    assert.equal(noCard.respCode, '000105');
    const wrongCard = await call(base, '/qmdl/getIntoMdlUrl', appId, secret, {
      orgId,
      idType: '01',
      idNo: p.idNo,
      userName: p.userName,
      ehealthCardId: 'F'.repeat(32),
    });
    assert.equal(wrongCard.respCode, '-2');
    const other = await call(base, '/qmdl/getIntoMdlUrl', appId, secret, {
      orgId: 'H35020300002',
      idType: '01',
      idNo: p.idNo,
      userName: p.userName,
      ehealthCardId: p.ehealthCardId,
    });
    assert.equal(other.respCode, '-4');
    const badId = await call(base, '/qmdl/getIntoMdlUrl', appId, secret, {
      orgId,
      idType: '01',
      idNo: '350102199003071230',
      userName: p.userName,
      ehealthCardId: p.ehealthCardId,
    });
    assert.equal(badId.respCode, '000105');
  });
});
