import assert from 'node:assert/strict';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import type { Config } from '@mdl/platform';
import { callbackRequestId, createHospitalListener } from '@mdl/hospital';
import { createApp, itemsToReconcile, refreshItem, startTestPlatform, upsertInstitution, type TestPlatform } from '@mdl/platform/testing';
import { call } from './support/client.js';
import { eventually, residentId } from './support/people.js';
import { reportItem, reportOverdue } from './support/report.js';
import { suiteScope } from './support/scope.js';

/**
 * Issue #11 items 2 and 4 over real HTTP, on the production setting, with every hospital on loopback: the
 * loopback spellings of an address as notifyUrl (ORG_002) and as the ORG_001 endpoint are refused on a
 * production deployment that lists nothing in MDL_OUTBOUND_ALLOW_CIDRS and delivered once loopback is listed;
 * an unsigned reply from a hospital is no answer on production. Nothing here sends a packet beyond loopback.
 */
const orgId = 'H35010200001';
const orgName = '福州市第一医院';
const appId = 'APPOUTBOUNDTEST00000000000000001';
const secret = 'OutboundTestSecret-0123456789abcdefghij';
const idNo = residentId('350102', '19900307', 123);
const userName = '林晓梅';

/** Every spelling of this host's loopback the issue lists, and a few more the URL parser folds the same way. */
const SPELLINGS = ['127.0.0.1', '[::1]', '0x7f.0.0.1', '2130706433', '[::ffff:127.0.0.1]', 'localhost', '0177.0.0.1', '127.1'];

async function listenOn(listener: RequestListener, host: string, port = 0): Promise<Server> {
  const s = createServer(listener);
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, host, () => resolve());
  });
  return s;
}

const portOf = (s: Server) => (s.address() as AddressInfo).port;
const closeServer = (s: Server) => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r())));

/** A hospital (the kit's real handlers) listening on 127.0.0.1 and ::1 on the same port. */
async function dualStackHospital(scope: ReturnType<typeof suiteScope>) {
  const callbacks: string[] = [];
  const org001: string[] = [];
  const states = new Map<string, '0' | '1' | '2'>();
  const listener = createHospitalListener({
    appId,
    secret,
    orgId,
    getOverdueResult: async (req) => {
      org001.push(req.orgTraceId);
      return { state: states.get(req.orgTraceId) ?? '0' };
    },
    onCallback: async (req) => void callbacks.push(callbackRequestId(req) ?? ''),
  }) as RequestListener;
  const v4 = scope.add(await listenOn(listener, '127.0.0.1'), closeServer);
  scope.add(await listenOn(listener, '::1', portOf(v4)), closeServer);
  return { port: portOf(v4), callbacks, org001, states };
}

async function production(scope: ReturnType<typeof suiteScope>, over: Partial<Config>, ports: number[]): Promise<TestPlatform> {
  const t = scope.add(
    await startTestPlatform({ deployment: 'production', refreshTimeoutMs: 3000, reconcileCron: '', reminderCron: '', ...over }),
    (x) => x.close(),
  );
  await t.listen();
  const hosts = [...new Set(SPELLINGS.map((s) => new URL(`http://${s}/`).hostname))];
  await upsertInstitution(t.platform.db, { orgId, orgName, notifyHosts: hosts, ports });
  await createApp(t.platform.db, t.platform.vault, { kind: 'institution', orgId, env: 'prod', appId, secret });
  const card = await call(t.url, '/ehc/queryEcAuthResult', appId, secret, {
    orgId,
    type: '01',
    psnNo: 'P-1',
    idNo,
    idType: '01',
    userName,
  });
  assert.equal(card.respCode, '000000', card.respMsg);
  ehealthCardId = String(card.payload!.ehealthCardId);
  return t;
}
let ehealthCardId = '';

async function report(t: TestPlatform, orgRequestId: string, notifyUrl: string): Promise<void> {
  const r = await reportOverdue(t.url, { appId, secret, orgId, orgName }, orgRequestId, notifyUrl, [
    { idNo, idType: '01', userName, ehealthCardId, userType: '02', itemList: [reportItem(`T-${orgRequestId}`, { amount: '25.00' })] },
  ]);
  assert.equal(r.respCode, '000000', r.respMsg);
}

const batchOf = (t: TestPlatform, orgRequestId: string) =>
  t.platform.db.selectFrom('batch').selectAll().where('org_request_id', '=', orgRequestId).executeTakeFirstOrThrow();

async function itemOf(t: TestPlatform, orgRequestId: string) {
  const { id } = await t.platform.db
    .selectFrom('arrears_item')
    .select('id')
    .where('org_trace_id', '=', `T-${orgRequestId}`)
    .executeTakeFirstOrThrow();
  return id;
}

const itemState = async (t: TestPlatform, id: number) =>
  (await t.platform.db.selectFrom('arrears_item').select('state').where('id', '=', id).executeTakeFirstOrThrow()).state;

describe('production without MDL_OUTBOUND_ALLOW_CIDRS: no loopback spelling is called', () => {
  const scope = suiteScope();
  let t: TestPlatform;
  let his: Awaited<ReturnType<typeof dualStackHospital>>;
  before(async () => {
    his = await dualStackHospital(scope);
    t = await production(scope, {}, [his.port]);
  });

  it('as notifyUrl: the batch is taken, the callback is refused before any connection, and says only "not delivered"', async () => {
    for (const [i, s] of SPELLINGS.entries()) await report(t, `N-${i}`, `http://${s}:${his.port}/umdl/callback`);
    for (const i of SPELLINGS.keys()) {
      await eventually(async () => assert.ok((await batchOf(t, `N-${i}`)).callback_attempts >= 1), 30_000);
    }
    assert.deepEqual(his.callbacks, [], 'the hospital was never called');
    const attempts = await t.platform.db.selectFrom('callback_attempt').select(['outcome', 'detail', 'http_status']).execute();
    assert.ok(attempts.length >= SPELLINGS.length);
    for (const a of attempts) {
      assert.deepEqual([a.outcome, a.detail, a.http_status], ['error', '未送达: 目标地址不被出站策略允许', null]);
    }
    // ORG_MDL_005 tells the state, nothing about the connection.
    const r = await call(t.url, '/qmdl/queryReportResult', appId, secret, { orgId, orgRequestId: 'N-0' });
    assert.equal(r.respCode, '000000', r.respMsg);
    const ext = r.payload!.extData as Record<string, unknown>;
    assert.notEqual(ext.callbackStatus, 'delivered');
    assert.doesNotMatch(JSON.stringify(r.payload), new RegExp(`${his.port}|127\\.0|ECONN|loopback`));
  });

  it('as the ORG_001 endpoint: the refresh gets no answer and the arrears stay', async () => {
    const id = await itemOf(t, 'N-0');
    his.states.set('T-N-0', '1');
    for (const s of SPELLINGS) {
      await upsertInstitution(t.platform.db, { orgId, orgName, endpointUrl: `http://${s}:${his.port}` });
      const r = await refreshItem(t.platform, { itemId: id, actor: 'platform' });
      assert.equal(r.kind, 'no-answer', s);
      assert.equal(await itemState(t, id), '0');
    }
    assert.deepEqual(his.org001, [], 'the hospital was never asked');
    const audited = await t.platform.db.selectFrom('audit_event').select('detail').where('action', '=', 'org001.call').execute();
    assert.equal(audited.length, SPELLINGS.length);
    for (const a of audited) assert.match(a.detail!, /outbound call refused: loopback address/);
  });
});

describe('production with loopback listed in MDL_OUTBOUND_ALLOW_CIDRS: every spelling is delivered', () => {
  const scope = suiteScope();
  let t: TestPlatform;
  let his: Awaited<ReturnType<typeof dualStackHospital>>;
  before(async () => {
    his = await dualStackHospital(scope);
    // 127.0.0.0/8 as the issue asks; ::1 is not inside it, so the [::1] spelling needs its own entry. The test
    // hospital has no TLS, so plain http is allowed for the same ranges (MDL_OUTBOUND_HTTP_CIDRS).
    const cidrs = '127.0.0.0/8,::1/128';
    t = await production(scope, { outboundAllowCidrs: cidrs, outboundHttpCidrs: cidrs }, [his.port]);
  });

  it('as notifyUrl', async () => {
    for (const [i, s] of SPELLINGS.entries()) await report(t, `D-${i}`, `http://${s}:${his.port}/umdl/callback`);
    // At least once each (a slow answer on a loaded machine may be sent again), nothing else.
    const want = SPELLINGS.map((_, i) => `D-${i}`).sort();
    await eventually(async () => assert.deepEqual([...new Set(his.callbacks)].sort(), want), 30_000);
    for (const i of SPELLINGS.keys()) {
      await eventually(async () => assert.equal((await batchOf(t, `D-${i}`)).callback_status, 'delivered'), 10_000);
    }
  });

  it('as the ORG_001 endpoint', async () => {
    for (const [i, s] of SPELLINGS.entries()) {
      his.states.set(`T-D-${i}`, '1');
      await upsertInstitution(t.platform.db, { orgId, orgName, endpointUrl: `http://${s}:${his.port}` });
      const id = await itemOf(t, `D-${i}`);
      assert.deepEqual(await refreshItem(t.platform, { itemId: id, actor: 'platform' }), { kind: 'paid' }, s);
      assert.equal(await itemState(t, id), '1');
    }
  });

  it('a port the institution did not register is still refused', async () => {
    const other = scope.add(await listenOn((_req, res) => res.end('{"state":"1"}'), '127.0.0.1'), closeServer);
    await report(t, 'P-1', `http://127.0.0.1:${portOf(other)}/umdl/callback`);
    await eventually(async () => assert.ok((await batchOf(t, 'P-1')).callback_attempts >= 1), 30_000);
    const a = await t.platform.db
      .selectFrom('callback_attempt as a')
      .innerJoin('batch as b', 'b.id', 'a.batch_id')
      .select(['a.outcome', 'a.detail'])
      .where('b.org_request_id', '=', 'P-1')
      .executeTakeFirstOrThrow();
    assert.deepEqual([a.outcome, a.detail], ['error', '未送达: 目标地址不被出站策略允许']);
  });
});

describe('production: a hospital reply counts only when it is signed', () => {
  const scope = suiteScope();
  let t: TestPlatform;
  let his: Awaited<ReturnType<typeof dualStackHospital>>;
  const unsignedHits: string[] = [];
  let unsigned = '';
  before(async () => {
    his = await dualStackHospital(scope);
    // A fake HIS that answers in the guide's single-layer form, with no signature: anyone could have sent it.
    const fake = scope.add(
      await listenOn((req, res) => {
        req.resume();
        req.on('end', () => {
          unsignedHits.push(req.url ?? '');
          res.setHeader('content-type', 'application/json');
          res.end(req.url?.endsWith('/umdl/callback') ? '{"state":"success","msg":""}' : '{"state":"1"}');
        });
      }, '127.0.0.1'),
      closeServer,
    );
    unsigned = `http://127.0.0.1:${portOf(fake)}`;
    t = await production(scope, { outboundAllowCidrs: '127.0.0.0/8', outboundHttpCidrs: '127.0.0.0/8' }, [his.port, portOf(fake)]);
  });

  it('an unsigned ORG_002 reply is a failed attempt: not delivered, recorded, retried', async () => {
    await report(t, 'U-1', `${unsigned}/umdl/callback`);
    await eventually(async () => assert.ok((await batchOf(t, 'U-1')).callback_attempts >= 2, 'retried'), 30_000);
    assert.ok(unsignedHits.filter((u) => u === '/umdl/callback').length >= 2);
    assert.notEqual((await batchOf(t, 'U-1')).callback_status, 'delivered');
    const attempts = await t.platform.db
      .selectFrom('callback_attempt as a')
      .innerJoin('batch as b', 'b.id', 'a.batch_id')
      .select(['a.outcome', 'a.detail'])
      .where('b.org_request_id', '=', 'U-1')
      .execute();
    for (const a of attempts) assert.deepEqual([a.outcome, a.detail], ['error', '未送达: 应答未通过验签']);
    // The same batch to the real (signing) hospital is delivered.
    await report(t, 'U-2', `http://127.0.0.1:${his.port}/umdl/callback`);
    await eventually(async () => assert.equal((await batchOf(t, 'U-2')).callback_status, 'delivered'), 30_000);
    assert.deepEqual([...new Set(his.callbacks)], ['U-2'], 'the signing hospital got U-2; U-1 never reached it');
  });

  it('an unsigned ORG_001 {"state":"1"} clears nothing; a signed one does', async () => {
    const id = await itemOf(t, 'U-2');
    await upsertInstitution(t.platform.db, { orgId, orgName, endpointUrl: unsigned });
    const r = await refreshItem(t.platform, { itemId: id, actor: 'citizen' });
    assert.equal(r.kind, 'no-answer');
    assert.ok(unsignedHits.includes('/qmdl/getOverdueResult'), 'the fake HIS was asked and answered');
    assert.equal(await itemState(t, id), '0', 'the arrears are not cleared');
    const rec = await t.platform.db.selectFrom('item_refresh').selectAll().where('item_id', '=', id).executeTakeFirstOrThrow();
    assert.equal(rec.status, 'failed');
    assert.match(rec.last_detail ?? '', /000102/);
    assert.ok((await itemsToReconcile(t.platform.db)).includes(id), 'queued for reconciliation');

    await upsertInstitution(t.platform.db, { orgId, orgName, endpointUrl: `http://127.0.0.1:${his.port}` });
    his.states.set('T-U-2', '1');
    assert.deepEqual(await refreshItem(t.platform, { itemId: id, actor: 'citizen' }), { kind: 'paid' });
    assert.equal(await itemState(t, id), '1');
  });
});
