import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { CallbackRequest } from '@mdl/protocol';
import { buildApp } from '@mdl/platform';
import { addInstitution, startTestPlatform, type TestInstitution, type TestPlatform } from '@mdl/platform/testing';
import { NightlyUploader, PlatformClient, REPORT_COLUMNS, createHospitalServer, csvField, readBody, startFrontend } from '@mdl/hospital';
import { listen } from '@mdl/hospital/testing';
import { chinaTime, eventually, residentId } from './support/people.js';
import { suiteScope } from './support/scope.js';

/** The 前置机's local API needs its token and JSON (issue #11 item 6). */
const LOCAL_TOKEN = 'kit-test-local-token-0123456789';
const LOCAL_HEADERS = { authorization: `Bearer ${LOCAL_TOKEN}`, 'content-type': 'application/json' };

/**
 * Issue #5 "done when", over real HTTP on loopback between the real platform and the hospital kit:
 * a 250-row CSV goes out as 3 batches, callbacks arrive and are matched, items are marked reported,
 * one is paid and updated and the query shows it; and the 前置机 delivers every item exactly once
 * across a platform outage.
 */
describe('hospital kit against the platform', () => {
  let t: TestPlatform;
  let inst: TestInstitution;
  let client: PlatformClient;
  let dir: string;
  let hospital: Server;
  let notifyUrl = '';
  const callbacks: CallbackRequest[] = [];
  let uploader: NightlyUploader;
  const day = chinaTime(1).slice(0, 10);
  const people: { idNo: string; userName: string; ehealthCardId: string }[] = [];

  const scope = suiteScope();
  before(async () => {
    t = scope.add(await startTestPlatform(), (t) => t.close());
    await t.listen();
    inst = await addInstitution(t.platform, 'H35010200001', { orgName: '福州市第一医院' });
    client = new PlatformClient({ baseUrl: t.url, appId: inst.appId, secret: inst.secret, retryBaseMs: 50 });
    dir = await mkdtemp(join(tmpdir(), 'mdl-kit-e2e-'));
    hospital = createHospitalServer({
      appId: inst.appId,
      secret: inst.secret,
      orgId: inst.orgId,
      getOverdueResult: async () => ({ state: '0' }),
      onCallback: async (req) => {
        callbacks.push(req);
        await uploader?.handleCallback(req);
      },
    });
    scope.add(hospital, (h) => new Promise<void>((r) => h.close(() => r())));
    notifyUrl = `${await listen(hospital)}/umdl/callback`;
    for (let i = 0; i < 5; i++) {
      const idNo = residentId('350102', '19850611', 200 + i);
      const userName = `患者${'甲乙丙丁戊'[i]}`;
      const card = await client.queryEcAuthResult({ orgId: inst.orgId, type: '01', psnNo: `P${i}`, idNo, idType: '01', userName });
      people.push({ idNo, userName, ehealthCardId: card.ehealthCardId });
    }
  });

  function csv(prefix: string, perPerson: number): string {
    const rows = [REPORT_COLUMNS.join(',')];
    for (const [p, who] of people.entries()) {
      for (let i = 0; i < perPerson; i++) {
        const cells = [
          who.idNo,
          '01',
          who.userName,
          who.ehealthCardId,
          '',
          '02',
          `${prefix}${p}-${i}`,
          '11',
          '01',
          '诊查费',
          `${10 + i}.50`,
          `${day} 09:${String(i % 60).padStart(2, '0')}:00`,
        ];
        rows.push(cells.map(csvField).join(','));
      }
    }
    return rows.join('\r\n') + '\r\n';
  }

  it('reports a 250-row CSV as 3 batches, matches the callbacks and marks the items reported', async () => {
    const file = join(dir, `unsettled-${day}.csv`);
    await writeFile(file, csv('N', 50));
    const marked = new Set<string>();
    uploader = new NightlyUploader({
      client,
      org: { orgId: inst.orgId, orgName: inst.orgName, notifyUrl },
      source: { csv: (d) => join(dir, `unsettled-${d}.csv`) },
      stateFile: join(dir, 'uploader.json'),
      callbackTimeoutMs: 30_000,
      onReported: async (ids) => ids.forEach((id) => marked.add(id)),
    });
    const s = await uploader.run(day);
    assert.equal(s.sentNow, 3);
    assert.deepEqual(
      s.batches.map((b) => b.orgTraceIds.length),
      [100, 100, 50],
    );
    assert.deepEqual(
      s.batches.map((b) => [b.status, b.via]),
      Array(3).fill(['done', 'callback']),
    );
    assert.equal(marked.size, 250);
    assert.ok(s.batches.every((b) => b.results!.length === b.orgTraceIds.length && b.results!.every((r) => r.traceId && r.state === '0')));
    assert.equal((await t.platform.db.selectFrom('arrears_item').select('id').where('org_trace_id', 'like', 'N%').execute()).length, 250);

    // Running the night again reports nothing.
    assert.equal((await uploader.run(day)).sentNow, 0);
  });

  it('updates a paid item, and the query shows it', async () => {
    const who = people[0]!;
    const before = await client.queryOverdueData({
      orgId: inst.orgId,
      businessType: '01301',
      idNo: who.idNo,
      idType: '01',
      userName: who.userName,
      ehealthCardId: who.ehealthCardId,
    });
    assert.equal(before.itemList?.length, 50);
    const traceId = await uploader.traceIdOf('N0-3');
    assert.ok(traceId);
    const [batch] = await client.updateAll([{ ...who, idType: '01', itemList: [{ orgTraceId: 'N0-3', traceId, state: '1' }] }], {
      orgId: inst.orgId,
      orgName: inst.orgName,
      notifyUrl,
    });
    const cb = await eventually(async () => {
      const c = callbacks.find((x) => x.notifyType === 'UPDATE' && x.extData?.orgRequestId === batch!.orgRequestId);
      assert.ok(c);
      return c;
    });
    assert.equal(cb.updateResultList![0]!.itemList[0]!.state, '1');
    const after = await client.queryOverdueData({
      orgId: inst.orgId,
      businessType: '01301',
      idNo: who.idNo,
      idType: '01',
      userName: who.userName,
      ehealthCardId: who.ehealthCardId,
    });
    assert.equal(after.itemList?.length, 49);
    assert.ok(!after.itemList!.some((i) => i.amount === '13.50'));
  });

  it('the 前置机 delivers every item exactly once when the platform stops mid-run and starts again', async () => {
    const port = Number(new URL(t.url).port);
    const fe = await startFrontend({
      platform: { baseUrl: t.url, appId: inst.appId, secret: inst.secret },
      org: { orgId: inst.orgId, orgName: inst.orgName },
      dataDir: join(dir, 'frontend-restart'),
      localPort: 0,
      platformHost: '127.0.0.1',
      platformPort: 0,
      stateTable: join(dir, 'none.json'),
      localToken: LOCAL_TOKEN,
      retryBaseMs: 20,
      retryMaxMs: 200,
    });
    try {
      // The platform's HTTP server goes away (its database stays, as a real restart keeps PostgreSQL).
      await t.app.close();
      const rows = csv('S', 24).split('\r\n').filter(Boolean);
      const header = rows.shift()!.split(',');
      const body = rows.map((line) => Object.fromEntries(header.map((h, i) => [h, line.split(',')[i] ?? ''])));
      const r = await fetch(`${fe.localUrl}/local/report`, {
        method: 'POST',
        headers: LOCAL_HEADERS,
        body: JSON.stringify({ rows: body }),
      });
      assert.equal(r.status, 202, 'the 前置机 takes the report while the platform is down');
      await eventually(async () => assert.ok(fe.outbox.list().some((e) => e.attempts >= 2 && e.status !== 'done')));
      // The platform comes back on the same address.
      t.app = await buildApp(t.platform);
      await t.app.listen({ port, host: '127.0.0.1' });
      await eventually(async () => assert.ok(fe.outbox.list().every((e) => e.status === 'done')), 30_000);
      const items = await t.platform.db.selectFrom('arrears_item').select('org_trace_id').where('org_trace_id', 'like', 'S%').execute();
      assert.equal(items.length, 120);
      assert.equal(new Set(items.map((i) => i.org_trace_id)).size, 120);
    } finally {
      await fe.close();
    }
  });

  it('the 前置机 delivers every item exactly once across a platform outage', async () => {
    // An HTTP relay in front of the platform that can be cut, or that drops the answer after the platform processed the call.
    let mode: 'down' | 'lose' | 'up' = 'down';
    const relay = createServer((req, res) => {
      if (mode === 'down') return void req.socket.destroy();
      void readBody(req).then(async (body) => {
        const r = await fetch(t.url + req.url, { method: 'POST', headers: { 'content-type': 'application/json; charset=utf-8' }, body });
        const text = await r.text();
        if (mode === 'lose') {
          mode = 'up';
          return void req.socket.destroy();
        }
        res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(text);
      });
    });
    const relayUrl = await listen(relay);
    const fe = await startFrontend({
      platform: { baseUrl: relayUrl, appId: inst.appId, secret: inst.secret },
      org: { orgId: inst.orgId, orgName: inst.orgName },
      dataDir: join(dir, 'frontend'),
      localPort: 0,
      platformHost: '127.0.0.1',
      platformPort: 0,
      stateTable: join(dir, 'none.json'),
      localToken: LOCAL_TOKEN,
      retryBaseMs: 20,
      retryMaxMs: 100,
    });
    try {
      const rows = csv('F', 24).split('\r\n').filter(Boolean);
      const header = rows.shift()!.split(',');
      const body = rows.map((line) => Object.fromEntries(header.map((h, i) => [h, line.split(',')[i] ?? ''])));
      const r = await fetch(`${fe.localUrl}/local/report`, {
        method: 'POST',
        headers: LOCAL_HEADERS,
        body: JSON.stringify({ rows: body }),
      });
      assert.equal(r.status, 202);
      await eventually(async () => assert.ok(fe.outbox.list().some((e) => e.attempts >= 2)));
      mode = 'lose';
      await eventually(
        async () =>
          assert.deepEqual(
            fe.outbox.list().map((e) => e.status),
            ['done', 'done'],
          ),
        30_000,
      );
      const items = await t.platform.db.selectFrom('arrears_item').select('org_trace_id').where('org_trace_id', 'like', 'F%').execute();
      assert.equal(items.length, 120);
      assert.equal(new Set(items.map((i) => i.org_trace_id)).size, 120);
      const batches = await t.platform.db
        .selectFrom('batch')
        .select('org_request_id')
        .where(
          'org_request_id',
          'in',
          fe.outbox.list().map((e) => e.id),
        )
        .execute();
      assert.equal(batches.length, 2);
    } finally {
      await fe.close();
      await new Promise<void>((r) => relay.close(() => r()));
    }
  });
});
