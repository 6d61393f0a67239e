import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, describe, it } from 'node:test';
import { sealResponse } from '@mdl/protocol';
import { runConformance } from './check.js';
import { createHospitalServer, readBody, sendJson } from './handlers.js';
import { TEST_APP, listen } from './testing/fixtures.js';

const { appId, secret, orgId } = TEST_APP;

/** A deliberately broken hospital: `reply` decides what each call gets, whatever its signature. */
function broken(reply: (path: string) => unknown): Server {
  return createServer((req, res) => {
    void readBody(req).then(() => sendJson(res, 200, reply(req.url ?? '')));
  });
}

describe('mdl-hospital check', () => {
  const servers: Server[] = [];
  after(() => Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))));
  async function start(s: Server): Promise<string> {
    servers.push(s);
    return listen(s);
  }
  const failed = (r: Awaited<ReturnType<typeof runConformance>>) => r.results.filter((x) => x.status === 'fail').map((x) => x.id);

  it('passes a hospital built with the kit', async () => {
    const url = await start(
      createHospitalServer({ appId, secret, getOverdueResult: async () => ({ state: '0' }), onCallback: async () => {} }),
    );
    const r = await runConformance({ url, appId, secret, orgId });
    assert.ok(r.ok, JSON.stringify(r.results));
    assert.deepEqual(
      r.results.map((x) => x.status),
      ['pass', 'pass', 'pass', 'pass', 'pass', 'pass'],
    );
  });

  it('finds replies signed with the wrong key', async () => {
    const url = await start(
      broken(() => {
        const env = sealResponse({ state: '1' }, { appId, secret, respCode: '000000' });
        env.sign = sealResponse(
          { state: '1' },
          { appId, secret: 'WrongSecret-0123456789abcdefghijk', respCode: '000000', timestamp: env.timestamp },
        ).sign;
        return env;
      }),
    );
    const r = await runConformance({ url, appId, secret, orgId });
    assert.equal(r.ok, false);
    assert.deepEqual(failed(r), ['ORG_001.reply', 'ORG_002.reply']);
    assert.match(r.results.find((x) => x.id === 'ORG_001.reply')!.detail, /签名错误/);
  });

  it('finds a wrong reply shape', async () => {
    const url = await start(
      broken((p) => sealResponse(p.includes('callback') ? { ok: true } : { status: 'paid' }, { appId, secret, respCode: '000000' })),
    );
    const r = await runConformance({ url, appId, secret, orgId });
    assert.ok(failed(r).includes('ORG_001.reply'));
    assert.ok(failed(r).includes('ORG_002.reply'));
    assert.match(r.results.find((x) => x.id === 'ORG_001.reply')!.detail, /格式错误.*state/);
  });

  it('finds a hospital that answers forged and unsigned calls', async () => {
    const url = await start(broken((p) => (p.includes('callback') ? { state: 'success' } : { state: '1' })));
    const r = await runConformance({ url, appId, secret, orgId });
    assert.deepEqual(failed(r), ['ORG_001.forged', 'ORG_001.unsigned', 'ORG_002.forged', 'ORG_002.unsigned']);
    assert.equal(r.results.find((x) => x.id === 'ORG_001.reply')!.status, 'warn', 'single-layer replies are allowed');
  });

  it('says when the hospital is unreachable', async () => {
    const r = await runConformance({ url: 'http://127.0.0.1:9', appId, secret, orgId, timeoutMs: 2000 });
    assert.equal(r.ok, false);
    assert.match(r.results[0]!.detail, /无法连接/);
  });
});
