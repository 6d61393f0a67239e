import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
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

/** Issue #4: where an institution's ORG_001 lives, and the 闽政通 channel credential, from the CLI. */
describe('mdl apps create: --endpoint-url and --channel', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdl-cli-citizen-'));
  const env = { MDL_DATA_DIR: dir, MDL_LOG_LEVEL: 'silent' };
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('records the institution endpoint (ORG_001 base URL)', async () => {
    const c = capture();
    const args = ['apps', 'create', '--org-id', 'H35010200001', '--org-name', '福州市第一医院', '--env', 'prod'];
    assert.equal(await main([...args, '--endpoint-url', 'https://his.example.org/api/', '--json'], c.io, env), 0, c.err.join('\n'));
    const bad = capture();
    assert.equal(await main([...args, '--endpoint-url', 'ftp://x'], bad.io, env), 2);
    assert.match(bad.err.join('\n'), /endpoint-url/);
    const platform = await createPlatform(loadConfig(env), { queue: false });
    try {
      const row = await platform.db
        .selectFrom('institution')
        .select('endpoint_url')
        .where('org_id', '=', 'H35010200001')
        .executeTakeFirstOrThrow();
      assert.equal(row.endpoint_url, 'https://his.example.org/api');
    } finally {
      await platform.close();
    }
  });

  it('a channel credential gets mdrUrl and is refused ORG_MDL_001', async () => {
    const c = capture();
    assert.equal(
      await main(['apps', 'create', '--channel', '--label', '闽政通', '--env', 'prod', '--json'], c.io, env),
      0,
      c.err.join('\n'),
    );
    const cred = JSON.parse(c.out[0]!) as { appId: string; secret: string; kind: string };
    assert.equal(cred.kind, 'channel');
    const platform = await createPlatform(loadConfig(env), { queue: false });
    try {
      const app = await buildApp(platform);
      const post = async (url: string, payload: unknown) =>
        openReply((await app.inject({ method: 'POST', url, payload: JSON.stringify(sealRequest(payload, cred)) })).json(), cred.secret, {
          allowPlain: false,
        });
      const link = await post('/qmdl/getIntoMdlUrl', { idType: '01', idNo: '11010519491231002X', userName: '张三' });
      assert.equal(link.respCode, '000000', link.respMsg);
      assert.match(String(link.payload!.mdrUrl), /^http:\/\/127\.0\.0\.1:8080\/mdr\/t\/[\w-]{43}$/);
      const write = await post('/umdl/reportOverdueData', {});
      assert.equal(write.respCode, '-4');
      await app.close();
    } finally {
      await platform.close();
    }
  });
});
