import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { COMMANDS, main } from './cli.js';
import { createHospitalServer } from './handlers.js';
import { TEST_APP, listen, reportCsv } from './testing/fixtures.js';
import { type FakePlatform, startFakePlatform } from './testing/fake-platform.js';

const { appId, secret, orgId, orgName } = TEST_APP;

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { out: (t) => void (stdout += `${t}\n`), err: (t) => void (stderr += `${t}\n`) }, env);
  return { code, stdout, stderr };
}

describe('mdl-hospital CLI', () => {
  let fake: FakePlatform;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    fake = await startFakePlatform({ appId, secret, orgName, callbacks: false });
    dir = await mkdtemp(join(tmpdir(), 'mdl-cli-'));
    env = {
      MDL_PLATFORM_URL: fake.url,
      MDL_APP_ID: appId,
      MDL_SECRET: secret,
      MDL_ORG_ID: orgId,
      MDL_ORG_NAME: orgName,
      MDL_NOTIFY_URL: 'http://127.0.0.1:9/umdl/callback',
    };
  });
  after(() => fake.close());

  it('has --help for every command', async () => {
    for (const c of COMMANDS) {
      const r = await run([c.name, '--help']);
      assert.equal(r.code, 0, c.name);
      assert.match(r.stdout, /用法: mdl-hospital/);
      assert.match(r.stdout, /--json/);
    }
    assert.match((await run(['--help'])).stdout, /report/);
  });

  it('reports a CSV file in batches, with progress on stderr and JSON on stdout', async () => {
    const file = join(dir, 'r.csv');
    await writeFile(file, reportCsv(250, { prefix: 'C-' }));
    const r = await run(['report', '--csv', file, '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as { batches: { itemCount: number }[] };
    assert.deepEqual(
      body.batches.map((b) => b.itemCount),
      [100, 100, 50],
    );
    assert.match(r.stderr, /\[3\/3\]/);
  });

  it('refuses a CSV with a bad row, naming it, and sends nothing', async () => {
    const file = join(dir, 'bad.csv');
    await writeFile(file, reportCsv(3, { prefix: 'X-' }).replace('2026-11-24 09:15:00\n', '2026-13-24 09:15:00\n'));
    const before = fake.calls.length;
    const r = await run(['report', '--csv', file, '--json'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /第 2 行 actualTime 列/);
    assert.equal((JSON.parse(r.stdout) as { problems: { row: number }[] }).problems[0]!.row, 2);
    assert.equal(fake.calls.length, before);
  });

  it('queries, asks a batch status and names missing settings', async () => {
    const q = await run(['query', '--id-no', '11010519491231002X', '--name', '张三', '--ehc-id', 'EHC1'], env);
    assert.equal(q.code, 0, q.stderr);
    assert.match(q.stdout, /可享先诊后付: 否/);
    const id = [...fake.batches.keys()][0]!;
    const s = await run(['status', '--request-id', id, '--json'], env);
    assert.equal(s.code, 0, s.stderr);
    assert.ok((JSON.parse(s.stdout) as { reportResultList: unknown[] }).reportResultList.length > 0);
    const e = await run(['ehc', 'verify-qr', '--code', 'QR1', '--json'], env);
    assert.equal((JSON.parse(e.stdout) as { ehealthCardId: string }).ehealthCardId, 'EHC0001');
    const missing = await run(['status', '--request-id', 'x'], {});
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /MDL_PLATFORM_URL/);
  });

  it('check exits 0 for a conforming hospital and 1 otherwise', async () => {
    const server = createHospitalServer({ appId, secret, getOverdueResult: async () => ({ state: '0' }), onCallback: async () => {} });
    const url = await listen(server);
    try {
      assert.equal((await run(['check', '--url', url], env)).code, 0);
      const wrong = await run(['check', '--url', url, '--json'], { ...env, MDL_SECRET: 'AnotherSecret-0123456789abcdefXYZ' });
      assert.equal(wrong.code, 1);
      assert.equal((JSON.parse(wrong.stdout) as { ok: boolean }).ok, false);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('runs a night upload once, then finds nothing left to send', async () => {
    const file = join(dir, 'unsettled-2026-11-23.csv');
    await writeFile(file, reportCsv(120, { prefix: 'NT-' }));
    const args = [
      'nightly',
      '--csv',
      join(dir, 'unsettled-{day}.csv'),
      '--day',
      '2026-11-23',
      '--state',
      join(dir, 'nightly.json'),
      '--callback-timeout',
      '0',
      '--json',
    ];
    const first = await run(args, env);
    assert.equal(first.code, 0, first.stderr);
    const s = JSON.parse(first.stdout) as { sentNow: number; batches: { status: string; via: string }[] };
    assert.equal(s.sentNow, 2);
    assert.deepEqual(
      s.batches.map((b) => [b.status, b.via]),
      [
        ['done', 'ORG_MDL_005'],
        ['done', 'ORG_MDL_005'],
      ],
    );
    assert.match(first.stderr, /发送 \[2\/2\]/);
    assert.equal((JSON.parse((await run(args, env)).stdout) as { sentNow: number }).sentNow, 0);
  });

  it('runs as a bin', () => {
    const bin = fileURLToPath(new URL('./cli.js', import.meta.url));
    const r = spawnSync(process.execPath, [bin, 'report', '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /--csv/);
  });
});
