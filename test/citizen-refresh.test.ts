import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sealResponse } from '@mdl/protocol';
import {
  upsertInstitution,
  itemsToReconcile,
  refreshForCitizen,
  refreshItem,
  ReconcileScanJob,
  startTestPlatform,
  type TestPlatform,
} from '@mdl/platform/testing';
import { addSite, itemId, registerPatient, report, type Patient, type Site } from './support/citizen.js';
import { eventually, residentId } from './support/people.js';

/** A stand-in ORG_001 that misbehaves in one chosen way. */
async function badHospital(respond: (res: import('node:http').ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => respond(res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/**
 * ORG_001 that times out, answers garbage, a wrong signature or an unknown state is no answer: the item
 * keeps its state, the attempt is audited, and it is queued for reconciliation.
 */
describe('ORG_001 refresh: bad answers are no answer', () => {
  let t: TestPlatform;
  let base: string;
  let site: Site;
  let p: Patient;
  const servers: Server[] = [];

  before(async () => {
    // Long enough for a loopback answer on a busy test machine, short enough for the timeout case. No cron
    // schedules: the reconciliation job is a singleton, and one started by the clock (minute 17 of every hour)
    // would swallow the one this file sends.
    t = await startTestPlatform({ refreshTimeoutMs: 2000, reconcileCron: '', reminderCron: '' });
    base = await t.listen();
    site = await addSite(t, 'H35010200001', '福州市第一医院');
    p = await registerPatient(base, site, residentId('350102', '19900307', 123), '林晓梅', 'P-1');
    await report(base, site, 'R-1', [
      {
        patient: p,
        items: [
          { orgTraceId: 'V1', itemName: '诊查费', amount: '25.00', daysAgo: 1 },
          { orgTraceId: 'V2', itemName: '检查费', amount: '30.00', daysAgo: 1 },
        ],
      },
    ]);
  });
  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    await site?.hospital.stop();
    await t?.close();
  });

  const cases: [string, (res: import('node:http').ServerResponse) => void, RegExp][] = [
    ['timeout', () => undefined, /timeout/],
    ['garbage', (res) => res.end('<html>oops</html>'), /不是 JSON/],
    [
      'HTTP 502',
      (res) => {
        res.statusCode = 502;
        res.end('{}');
      },
      /HTTP 502/,
    ],
    [
      'wrong signature',
      (res) => res.end(JSON.stringify(sealResponse({ state: '1' }, { appId: 'X', secret: 'W'.repeat(40), respCode: '000000' }))),
      /000102|000101/,
    ],
    ['unknown state', (res) => res.end(JSON.stringify({ state: '9' })), /./],
  ];

  for (const [name, respond, detail] of cases) {
    it(`${name}: item unchanged, attempt audited, marked for reconciliation`, async () => {
      const bad = await badHospital(respond);
      servers.push(bad.server);
      await upsertInstitution(t.platform.db, { orgId: site.inst.orgId, orgName: site.inst.orgName, endpointUrl: bad.url });
      const id = await itemId(t, site.inst.orgId, 'V1');
      const before = await t.platform.db.selectFrom('audit_event').select('id').execute();
      const r = await refreshItem(t.platform, { itemId: id, subjects: [t.platform.vault.personKey('01', p.idNo)], actor: 'citizen' });
      assert.equal(r.kind, 'no-answer');
      const row = await t.platform.db.selectFrom('arrears_item').select('state').where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(row.state, '0');
      const events = await t.platform.db
        .selectFrom('audit_event')
        .select(['action', 'outcome', 'detail', 'target'])
        .where('id', 'not in', before.length ? before.map((e) => e.id) : [0])
        .execute();
      const call = events.find((e) => e.action === 'org001.call');
      assert.ok(call, 'the attempt is audited');
      if (name !== 'unknown state') {
        assert.equal(call.outcome, 'error');
        assert.match(call.detail!, detail);
      } else {
        assert.ok(events.some((e) => e.action === 'org001.invalid' && e.outcome === 'error'));
      }
      assert.equal(call.target, `${bad.url}/qmdl/getOverdueResult`);
      const state = await t.platform.db.selectFrom('item_refresh').selectAll().where('item_id', '=', id).executeTakeFirstOrThrow();
      assert.equal(state.status, 'failed');
      assert.ok((await itemsToReconcile(t.platform.db)).includes(id));
    });
  }

  it('a single-layer {"state":"2"} is accepted (guide §4.4.1.4)', async () => {
    const plain = await badHospital((res) => res.end(JSON.stringify({ state: '2' })));
    servers.push(plain.server);
    await upsertInstitution(t.platform.db, { orgId: site.inst.orgId, orgName: site.inst.orgName, endpointUrl: plain.url });
    const id = await itemId(t, site.inst.orgId, 'V2');
    const r = await refreshItem(t.platform, { itemId: id, actor: 'platform' });
    assert.equal(r.kind, 'revoked');
    const row = await t.platform.db.selectFrom('arrears_item').select('state').where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.state, '2');
  });

  it('the queued re-check settles the item once the hospital answers', async () => {
    await upsertInstitution(t.platform.db, { orgId: site.inst.orgId, orgName: site.inst.orgName, endpointUrl: site.hospital.url });
    const id = await itemId(t, site.inst.orgId, 'V1');
    site.hospital.states.set('V1', '1');
    // The scheduled reconciliation, triggered now instead of at its cron time.
    await t.platform.jobs.send(ReconcileScanJob, {});
    await eventually(async () => {
      const row = await t.platform.db.selectFrom('arrears_item').select('state').where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(row.state, '1');
    }, 30_000);
    assert.deepEqual(await itemsToReconcile(t.platform.db), []);
  });

  it('an item under open appeal is re-checked too', async () => {
    await report(base, site, 'R-2', [{ patient: p, items: [{ orgTraceId: 'V3', itemName: '诊查费', amount: '5.00', daysAgo: 1 }] }]);
    const id = await itemId(t, site.inst.orgId, 'V3');
    const { fileAppeal } = await import('@mdl/platform/testing');
    await fileAppeal(t.platform.db, {
      itemId: id,
      subjectBidx: t.platform.vault.personKey('01', p.idNo),
      reason: 'paid',
      description: '已缴',
      actor: 'mdr',
    });
    assert.deepEqual(await itemsToReconcile(t.platform.db), [id]);
  });

  it("a citizen's unanswered refresh queues one retry of that item, a little later, under the citizen's request", async () => {
    const bad = await badHospital((res) => res.end('<html>oops</html>'));
    servers.push(bad.server);
    await upsertInstitution(t.platform.db, { orgId: site.inst.orgId, orgName: site.inst.orgName, endpointUrl: bad.url });
    await report(base, site, 'R-3', [{ patient: p, items: [{ orgTraceId: 'V4', itemName: '诊查费', amount: '8.00', daysAgo: 1 }] }]);
    const id = await itemId(t, site.inst.orgId, 'V4');
    const subjects = [t.platform.vault.personKey('01', p.idNo)];
    const r = await refreshForCitizen(t.platform, { itemId: id, subjects, requestId: 'citizen-req-7' });
    assert.equal(r.kind, 'no-answer');
    const queued = await t.platform.database.executeSql(
      `SELECT data->>'requestId' AS rid, start_after > now() + interval '20 seconds' AS later
         FROM "${t.platform.jobs.schema}".job WHERE name = 'item-refresh-v1' AND singleton_key = $1`,
      [`item:${id}`],
    );
    assert.deepEqual(queued.rows, [{ rid: 'citizen-req-7', later: true }]);
  });
});
