import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openReply, sealRequest } from '@mdl/protocol';
import { parseCsv } from './csv.js';
import { type Frontend, startFrontend } from './frontend.js';
import { TEST_APP, reportCsv } from './testing/fixtures.js';
import { type FakePlatform, startFakePlatform } from './testing/fake-platform.js';

const { appId, secret, orgId, orgName } = TEST_APP;

function csvRows(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((r) => Object.fromEntries(header!.fields.map((h, i) => [h, r.fields[i] ?? ''])));
}

async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const TOKEN = 'local-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

async function postJson(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...AUTH }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe('front-end service (前置机)', () => {
  let fake: FakePlatform;
  let dir: string;
  let table: string;
  let fe: Frontend | undefined;
  const start = (platformPort = 0) =>
    startFrontend({
      platform: { baseUrl: fake.url, appId, secret },
      org: { orgId, orgName },
      dataDir: dir,
      localPort: 0,
      platformHost: '127.0.0.1',
      platformPort,
      stateTable: table,
      localToken: TOKEN,
      retryBaseMs: 10,
      retryMaxMs: 50,
    });
  before(async () => {
    fake = await startFakePlatform({ appId, secret, orgName });
    dir = await mkdtemp(join(tmpdir(), 'mdl-frontend-'));
    table = join(dir, 'states.json');
    await writeFile(table, JSON.stringify({ 'F-3': '1' }));
  });
  after(async () => {
    await fe?.close();
    await fake.close();
  });

  it('keeps reports while the platform is down, across a restart, and delivers each exactly once', async () => {
    fake.setDown(true);
    fe = await start();
    const rows = csvRows(reportCsv(150, { prefix: 'F-' }));
    const r = await postJson(`${fe.localUrl}/local/report`, { rows });
    assert.equal(r.status, 202);
    const batches = r.body.batches as { orgRequestId: string; created: boolean }[];
    assert.equal(batches.length, 2);
    await until('a failed attempt', () => fe!.outbox.list().some((e) => e.attempts > 0));

    // The 前置机 restarts while the platform is still down: nothing is lost.
    const port = Number(new URL(fe.platformUrl).port);
    await fe.close();
    fe = await start(port);
    assert.deepEqual(
      fe.outbox.list().map((e) => e.status),
      ['pending', 'pending'],
    );
    assert.ok(fe.outbox.list()[0]!.attempts > 0, 'attempts survive the restart');
    const again = await postJson(`${fe.localUrl}/local/report`, { rows });
    assert.deepEqual(
      (again.body.batches as { created: boolean }[]).map((b) => b.created),
      [false, false],
      'the same submission is not queued twice',
    );

    // The platform comes back; the first answer is lost after processing, so that batch is sent twice.
    fake.inject('/umdl/reportOverdueData', { loseReply: true });
    fake.setDown(false);
    await until('both results', () => fe!.outbox.list().every((e) => e.status === 'done'));
    const items = [...fake.items.values()].filter((i) => i.orgTraceId.startsWith('F-'));
    assert.equal(items.length, 150);
    assert.ok(
      items.every((i) => i.stored === 1),
      'every item arrived exactly once',
    );

    const listing = (await (await fetch(`${fe.localUrl}/local/outbox`, { headers: AUTH })).json()) as {
      entries: { id: string; status: string; items: number; results: { traceId: string }[] }[];
    };
    assert.deepEqual(
      listing.entries.map((e) => [e.status, e.items]),
      [
        ['done', 100],
        ['done', 50],
      ],
    );
    assert.equal(listing.entries[0]!.results.length, 100);
  });

  it('queues an update and forwards queries', async () => {
    const item = fake.items.get('F-3')!;
    // traceId may be left out: the 前置机 knows it from the report's result.
    const u = await postJson(`${fe!.localUrl}/local/update`, { userName: '患者3', itemList: [{ orgTraceId: 'F-3', state: '1' }] });
    assert.equal(u.status, 202);
    await until('the update', () => fake.items.get('F-3')!.state === '1');
    const unknown = await postJson(`${fe!.localUrl}/local/update`, { itemList: [{ orgTraceId: 'NOPE', state: '1' }] });
    assert.equal(unknown.status, 400);
    assert.match(String(unknown.body.error), /traceId/);
    const q = await postJson(`${fe!.localUrl}/local/query`, {
      businessType: '01101',
      idNo: item.idNo,
      idType: '01',
      userName: item.userName,
      ehealthCardId: `EHC${item.idNo}`,
    });
    assert.equal(q.status, 200);
    assert.equal(q.body.next, '1');
    const bad = await postJson(`${fe!.localUrl}/local/report`, { rows: [{ ...csvRows(reportCsv(1))[0], amount: 'abc' }] });
    assert.equal(bad.status, 400);
    assert.match(String(bad.body.error), /第 1 条 amount/);
  });

  it('asks ORG_MDL_005 when a sent batch gets no callback', async () => {
    fake.setCallbacks(false);
    const quiet = await startFrontend({
      platform: { baseUrl: fake.url, appId, secret },
      org: { orgId, orgName },
      dataDir: join(dir, 'quiet'),
      localPort: 0,
      platformHost: '127.0.0.1',
      platformPort: 0,
      stateTable: table,
      localToken: TOKEN,
      callbackTimeoutMs: 30,
    });
    try {
      await postJson(`${quiet.localUrl}/local/report`, { rows: csvRows(reportCsv(3, { prefix: 'Q-' })) });
      await until('the ORG_MDL_005 result', () => quiet.outbox.list()[0]?.status === 'done');
      assert.equal(quiet.outbox.list()[0]!.results!.length, 3);
    } finally {
      fake.setCallbacks(true);
      await quiet.close();
    }
  });

  it('answers the platform ORG_001 from the state table', async () => {
    const ask = async (orgTraceId: string) => {
      const env = sealRequest({ orgId, orgTraceId }, { appId, secret });
      const r = await fetch(`${fe!.platformUrl}/qmdl/getOverdueResult`, { method: 'POST', body: JSON.stringify(env) });
      return openReply(await r.json(), secret, { allowPlain: false }).payload;
    };
    assert.deepEqual(await ask('F-3'), { state: '1' });
    assert.deepEqual(await ask('F-4'), { state: '0' });
  });
});
