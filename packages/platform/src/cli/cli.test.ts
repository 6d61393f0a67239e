import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openReply, sealRequest } from '@mdl/protocol';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createPlatform } from '../platform.js';
import { main } from './mdl.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

describe('mdl CLI on a fresh embedded data directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdl-cli-'));
  const env = { MDL_DATA_DIR: dir, MDL_LOG_LEVEL: 'silent' };
  after(() => rmSync(dir, { recursive: true, force: true }));
  let created: { appId: string; secret: string };

  it('apps create --json prints the appId and secret once', async () => {
    const c = capture();
    const code = await main(
      [
        'apps',
        'create',
        '--org-id',
        'H35010200001',
        '--org-name',
        '福州市第一医院',
        '--env',
        'prod',
        '--notify-host',
        '127.0.0.1',
        '--json',
      ],
      c.io,
      env,
    );
    assert.equal(code, 0, c.err.join('\n'));
    created = JSON.parse(c.out[0]!) as { appId: string; secret: string };
    assert.match(created.appId, /^APP\w{29}$/);
    assert.ok(created.secret.length >= 32);
    const list = capture();
    assert.equal(await main(['apps', 'list', '--json'], list.io, env), 0);
    const rows = JSON.parse(list.out[0]!) as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    assert.equal(JSON.stringify(rows).includes(created.secret), false, 'list never shows a secret');
  });

  it('a server started afterwards on the same data directory serves that credential', async () => {
    const platform = await createPlatform(loadConfig(env), { queue: false });
    try {
      const app = await buildApp(platform);
      const res = await app.inject({
        method: 'POST',
        url: '/qmdl/queryReportResult',
        payload: JSON.stringify(sealRequest({ orgId: 'H35010200001', orgRequestId: 'none' }, created)),
      });
      const reply = openReply(res.json(), created.secret, { allowPlain: false });
      assert.equal(reply.respCode, '-2', 'the credential is known (not -8); the batch is not');
      await app.close();
    } finally {
      await platform.close();
    }
  });

  it('rotate gives a new secret and disable stops the credential', async () => {
    const r = capture();
    assert.equal(await main(['apps', 'rotate', created.appId, '--json'], r.io, env), 0);
    assert.notEqual((JSON.parse(r.out[0]!) as { secret: string }).secret, created.secret);
    const d = capture();
    assert.equal(await main(['apps', 'disable', created.appId], d.io, env), 0);
    const list = capture();
    await main(['apps', 'list'], list.io, env);
    assert.match(list.out.join('\n'), /disabled/);
  });

  it('refuses bad arguments with a clear message', async () => {
    const c = capture();
    assert.equal(await main(['apps', 'create', '--org-id', 'H1', '--env', 'staging'], c.io, env), 2);
    assert.match(c.err.join('\n'), /--env must be test or prod/);
    // The platform calls an institution only on its registered ports (443 and 80 unless --port says otherwise).
    const base = ['apps', 'create', '--org-id', 'H35010200077', '--org-name', '端口医院', '--env', 'prod'];
    const p = capture();
    assert.equal(await main([...base, '--endpoint-url', 'https://his.example.org:8443/api'], p.io, env), 2);
    assert.match(p.err.join('\n'), /--port: 接口地址的端口 8443 不在登记的端口（443、80）中/);
    const q = capture();
    assert.equal(await main([...base, '--port', '99999'], q.io, env), 2);
    assert.match(q.err.join('\n'), /--port: 端口为 1 到 65535 的数字/);
    // The console's rules apply here too (one implementation): a callback host that is no host name is refused,
    // and so is an endpoint with credentials in it; nothing is stored.
    const h = capture();
    assert.equal(await main([...base, '--notify-host', 'https://his.example.org'], h.io, env), 2);
    assert.match(h.err.join('\n'), /--notify-host: “https:\/\/his.example.org” 不是有效的主机名/);
    const e = capture();
    assert.equal(await main([...base, '--endpoint-url', 'https://user:pw@his.example.org/api'], e.io, env), 2);
    assert.match(e.err.join('\n'), /--endpoint-url: 接口地址应为 http\(s\):\/\/ 开头/);
    const platform = await createPlatform(loadConfig(env), { queue: false });
    try {
      const stored = await platform.db.selectFrom('institution').select('org_id').where('org_id', '=', 'H35010200077').execute();
      assert.deepEqual(stored, [], 'a refused create stores no institution');
    } finally {
      await platform.close();
    }
    const u = capture();
    assert.equal(await main(['frobnicate'], u.io, env), 2);
    const s = capture();
    assert.equal(await main(['migrate'], s.io, { ...env, MDL_TIMEOUTS: '1' }), 2);
    assert.match(s.err.join('\n'), /unknown setting MDL_TIMEOUTS/);
  });

  it('apps create --port registers the ports the platform may call the institution on', async () => {
    const c = capture();
    const args = ['apps', 'create', '--org-id', 'H35010200078', '--org-name', '端口医院', '--env', 'prod', '--json'];
    assert.equal(
      await main([...args, '--endpoint-url', 'https://his.example.org:8443/api', '--port', '8443', '--port', '443'], c.io, env),
      0,
    );
    const platform = await createPlatform(loadConfig(env), { queue: false });
    try {
      const row = await platform.db.selectFrom('institution').selectAll().where('org_id', '=', 'H35010200078').executeTakeFirstOrThrow();
      assert.deepEqual([row.endpoint_url, JSON.parse(row.outbound_ports)], ['https://his.example.org:8443/api', [8443, 443]]);
    } finally {
      await platform.close();
    }
  });

  it('says plainly when a running server holds the embedded database', async () => {
    writeFileSync(join(dir, 'mdl.lock'), String(process.ppid));
    try {
      const c = capture();
      assert.equal(await main(['apps', 'list'], c.io, env), 1);
      assert.match(c.err.join('\n'), new RegExp(`in use by process ${process.ppid}`));
    } finally {
      rmSync(join(dir, 'mdl.lock'), { force: true });
    }
  });

  it('with DATABASE_URL and no master key it refuses to start', async () => {
    const c = capture();
    assert.equal(await main(['migrate'], c.io, { DATABASE_URL: 'postgres://127.0.0.1/none' }), 2);
    assert.match(c.err.join('\n'), /MDL_MASTER_KEY is required/);
  });
});
