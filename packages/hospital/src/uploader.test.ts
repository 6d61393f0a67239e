import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chinaDate, chinaMidnight } from '@mdl/protocol';
import { ConnectionError } from './errors.js';
import { createHospitalServer } from './handlers.js';
import { PlatformClient } from './client.js';
import { WINDOW_LENGTH_MS, nextRunAt, previousChinaDay, startOffsetMs } from './schedule.js';
import { TEST_APP, listen, reportCsv } from './testing/fixtures.js';
import { type FakePlatform, startFakePlatform } from './testing/fake-platform.js';
import { NightlyUploader, type UploaderState } from './uploader.js';

const { appId, secret, orgId, orgName } = TEST_APP;

describe('nightly uploader', () => {
  let fake: FakePlatform;
  let dir: string;
  let notifyUrl: string;
  let uploaders: NightlyUploader[] = [];
  const hospital = createHospitalServer({
    appId,
    secret,
    getOverdueResult: async () => ({ state: '0' }),
    onCallback: async (req) => {
      for (const u of uploaders) await u.handleCallback(req);
    },
  });
  before(async () => {
    fake = await startFakePlatform({ appId, secret, orgName });
    notifyUrl = `${await listen(hospital)}/umdl/callback`;
    dir = await mkdtemp(join(tmpdir(), 'mdl-uploader-'));
  });
  after(async () => {
    await fake.close();
    await new Promise<void>((r) => hospital.close(() => r()));
  });

  function make(stateFile: string, csvFile: string, extra: Partial<ConstructorParameters<typeof NightlyUploader>[0]> = {}) {
    const client = new PlatformClient({ baseUrl: fake.url, appId, secret, maxRetries: 0 });
    const u = new NightlyUploader({
      client,
      org: { orgId, orgName, notifyUrl },
      source: { csv: csvFile },
      stateFile,
      callbackTimeoutMs: 5000,
      retry: { rounds: 0 },
      ...extra,
    });
    uploaders = [u];
    return u;
  }
  const reportCalls = (id?: string) =>
    fake.calls.filter((c) => c.path === '/umdl/reportOverdueData' && (!id || c.payload?.orgRequestId === id)).length;

  it('reports a day in 100-item batches, marks items reported and matches the callbacks', async () => {
    const csv = join(dir, 'day1.csv');
    await writeFile(csv, reportCsv(250, { prefix: 'D1-' }));
    const marked: string[] = [];
    const progress: string[] = [];
    const u = make(join(dir, 'state1.json'), csv, {
      onReported: async (ids) => void marked.push(...ids),
      onProgress: (e) => progress.push(`${e.phase} ${e.done}/${e.total}`),
    });
    const s = await u.run('2026-11-24');
    assert.equal(s.sentNow, 3);
    assert.deepEqual(
      s.batches.map((b) => [b.orgTraceIds.length, b.status, b.via]),
      [
        [100, 'done', 'callback'],
        [100, 'done', 'callback'],
        [50, 'done', 'callback'],
      ],
    );
    assert.equal(marked.length, 250);
    assert.deepEqual(progress, ['send 1/3', 'send 2/3', 'send 3/3']);
    assert.equal(await u.traceIdOf('D1-7'), fake.items.get('D1-7')!.traceId);
    const state = JSON.parse(await readFile(join(dir, 'state1.json'), 'utf8')) as UploaderState;
    assert.equal(state.days['2026-11-24']!.batches.length, 3);

    // A second run of the same night sends nothing, nor does a later night handed the same items.
    const before = reportCalls();
    assert.equal((await make(join(dir, 'state1.json'), csv).run('2026-11-24')).sentNow, 0);
    assert.equal((await make(join(dir, 'state1.json'), csv).run('2026-11-25')).sentNow, 0);
    assert.equal(reportCalls(), before);
  });

  it('sends a batch again within the run when the platform answers 000002, with jittered backoff', async () => {
    const csv = join(dir, 'day-e2.csv');
    await writeFile(csv, reportCsv(10, { prefix: 'E2-' }));
    fake.inject('/umdl/reportOverdueData', { respCode: '000002' }, { respCode: '000002' });
    const waits: number[] = [];
    const before = reportCalls();
    const s = await make(join(dir, 'state-e2.json'), csv, {
      retry: { rounds: 3, baseMs: 40, maxMs: 1000 },
      sleep: async (ms) => void waits.push(ms),
    }).run('2026-11-20');
    assert.equal(s.sentNow, 1);
    assert.equal(reportCalls() - before, 3, 'two 000002 answers, then accepted');
    assert.deepEqual(
      s.batches.map((b) => b.status),
      ['done'],
    );
    assert.equal(waits.length, 2);
    assert.ok(waits[0]! >= 20 && waits[0]! <= 40 && waits[1]! >= 40 && waits[1]! <= 80, `backoff ${waits.join(',')}`);
    assert.equal([...fake.items.values()].filter((i) => i.orgTraceId.startsWith('E2-')).length, 10);
  });

  it('resumes after a crash without reporting anything twice', async () => {
    const csv = join(dir, 'day2.csv');
    await writeFile(csv, reportCsv(250, { prefix: 'D2-' }));
    const stateFile = join(dir, 'state2.json');
    // Batch 1 goes through; batch 2 is stored by the platform but its reply is lost; the run dies there.
    fake.setCallbacks(false);
    fake.inject('/umdl/reportOverdueData', { pass: true }, { loseReply: true });
    await assert.rejects(make(stateFile, csv).run('2026-11-25'), ConnectionError);
    fake.setCallbacks(true);
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as UploaderState;
    const [b1, b2, b3] = state.days['2026-11-25']!.batches;
    assert.deepEqual([b1!.status, b2!.status, b3!.status], ['accepted', 'sending', 'sending']);
    assert.equal(fake.items.get(b2!.orgTraceIds[0]!)?.stored, 1, 'the platform did store batch 2');
    assert.equal(fake.items.get(b3!.orgTraceIds[0]!), undefined);

    // A fresh process from the state file: batch 1 is not sent again; batch 2 goes out under the
    // same id and the platform does not store it twice; batch 3 is sent.
    const s = await make(stateFile, csv, { callbackTimeoutMs: 100 }).run('2026-11-25');
    assert.equal(s.sentNow, 2);
    assert.equal(reportCalls(b1!.orgRequestId), 1);
    assert.equal(reportCalls(b2!.orgRequestId), 2);
    assert.equal(reportCalls(b3!.orgRequestId), 1);
    assert.ok(
      s.batches.every((b) => b.status === 'done'),
      JSON.stringify(s.batches.map((b) => b.status)),
    );
    const day2 = [...fake.items.values()].filter((i) => i.orgTraceId.startsWith('D2-'));
    assert.equal(day2.length, 250);
    assert.ok(day2.every((i) => i.stored === 1));
  });

  it('falls back to ORG_MDL_005 when no callback comes', async () => {
    const csv = join(dir, 'day3.csv');
    await writeFile(csv, reportCsv(30, { prefix: 'D3-' }));
    fake.setCallbacks(false);
    try {
      const u = make(join(dir, 'state3.json'), csv, { callbackTimeoutMs: 50 });
      const s = await u.run('2026-11-26');
      assert.deepEqual(
        s.batches.map((b) => [b.status, b.via]),
        [['done', 'ORG_MDL_005']],
      );
      assert.equal(s.batches[0]!.results!.length, 30);
    } finally {
      fake.setCallbacks(true);
    }
  });
});

describe('night window', () => {
  it('gives each institution a stable slot between 02:00 and 05:30 China time', () => {
    const a = startOffsetMs('H35010200001');
    assert.equal(a, startOffsetMs('H35010200001'));
    assert.ok(a >= 0 && a < WINDOW_LENGTH_MS);
    const slots = new Set(Array.from({ length: 50 }, (_, i) => startOffsetMs(`H3501020${String(i).padStart(4, '0')}`)));
    assert.ok(slots.size > 40, 'institutions spread out');
    const now = Date.parse('2026-11-25T10:00:00Z'); // 18:00 China time
    const at = nextRunAt(now, 'H35010200001');
    assert.equal(chinaDate(at), '2026-11-26');
    const minutes = (at - chinaMidnight(at)) / 60_000;
    assert.ok(minutes >= 120 && minutes < 330, String(minutes));
    assert.equal(previousChinaDay(Date.parse('2026-11-25T18:30:00Z')), '2026-11-25'); // 02:30 on the 26th
  });
});
