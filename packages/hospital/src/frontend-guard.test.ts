import assert from 'node:assert/strict';
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openReply, sealRequest } from '@mdl/protocol';
import { main } from './cli.js';
import { type Frontend, type FrontendOptions, startFrontend } from './frontend.js';
import { LOCAL_ROUTES } from './frontend-routes.js';
import { TEST_APP, reportCsv, trickle } from './testing/fixtures.js';
import { type FakePlatform, startFakePlatform } from './testing/fake-platform.js';
import { parseCsv } from './csv.js';

const { appId, secret, orgId, orgName } = TEST_APP;

/** One request with exactly the headers given (fetch would set Host and Content-Type itself). */
function raw(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers ?? {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { text };
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

const oneRow = (() => {
  const [header, row] = parseCsv(reportCsv(1, { prefix: 'G-' }));
  return Object.fromEntries(header!.fields.map((h, i) => [h, row!.fields[i] ?? '']));
})();

/**
 * Issue #11 item 6 and the 前置机 part of item 7, over real HTTP on loopback: the local API is closed by
 * default, and what a web page on the HIS machine (CSRF, DNS rebinding) or a slow client could do is refused.
 */
describe('前置机 local API: closed by default', () => {
  let fake: FakePlatform;
  let dir: string;
  const opened: Frontend[] = [];
  const start = async (over: Partial<FrontendOptions> = {}) => {
    const fe = await startFrontend({
      platform: { baseUrl: fake.url, appId, secret },
      org: { orgId, orgName },
      dataDir: join(dir, 'main'),
      localPort: 0,
      platformHost: '127.0.0.1',
      platformPort: 0,
      stateTable: join(dir, 'none.json'),
      ...over,
    });
    opened.push(fe);
    return fe;
  };
  before(async () => {
    fake = await startFakePlatform({ appId, secret, orgName });
    dir = await mkdtemp(join(tmpdir(), 'mdl-frontend-guard-'));
    await writeFile(join(dir, 'none.json'), '{}');
  });
  after(async () => {
    for (const fe of opened) await fe.close();
    await fake.close();
  });

  it('makes a token on first start (0600, shown once), requires it on every /local/* call, and takes a rotated one', async () => {
    const logs: string[] = [];
    const tokenDir = join(dir, 'token');
    let fe = await start({ dataDir: tokenDir, log: (m) => logs.push(m) });
    const shown = logs.filter((l) => l.includes('本地接口令牌'));
    assert.equal(shown.length, 1);
    const token = /: (\S+)$/.exec(shown[0]!)![1]!;
    assert.ok(token.length >= 32);
    assert.equal((await stat(join(tokenDir, 'local-token'))).mode & 0o777, 0o600);

    for (const r of LOCAL_ROUTES) {
      const headers = { 'content-type': 'application/json' };
      const noToken = await raw(fe.localUrl + r.path, { method: r.method, headers, body: r.method === 'POST' ? '{}' : undefined });
      assert.equal(noToken.status, 401, `${r.method} ${r.path}`);
      const wrong = await raw(fe.localUrl + r.path, {
        method: r.method,
        headers: { ...headers, authorization: `Bearer ${token.slice(0, -1)}x` },
        body: r.method === 'POST' ? '{}' : undefined,
      });
      assert.equal(wrong.status, 401, `${r.method} ${r.path}`);
    }
    assert.equal((await raw(`${fe.localUrl}/local/health`, { headers: { authorization: `Bearer ${token}` } })).status, 200);

    // A restart keeps the token and does not show it again.
    await fe.close();
    opened.pop();
    fe = await start({ dataDir: tokenDir, log: (m) => logs.push(m) });
    assert.equal(logs.filter((l) => l.includes('本地接口令牌')).length, 1);
    assert.equal((await raw(`${fe.localUrl}/local/health`, { headers: { authorization: `Bearer ${token}` } })).status, 200);

    // mdl-hospital token rotate: the running 前置机 takes the new token at once, the old one stops working.
    let out = '';
    const code = await main(['token', 'rotate', '--data-dir', tokenDir, '--json'], { out: (t) => void (out += t), err: () => {} }, {});
    assert.equal(code, 0);
    const rotated = (JSON.parse(out) as { token: string }).token;
    assert.notEqual(rotated, token);
    assert.equal((await raw(`${fe.localUrl}/local/health`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
    assert.equal((await raw(`${fe.localUrl}/local/health`, { headers: { authorization: `Bearer ${rotated}` } })).status, 200);
  });

  it('refuses a Host outside the allow-list (DNS rebinding), a foreign Origin (CSRF) and any non-JSON body', async () => {
    const token = 'guard-test-token-0123456789';
    const fe = await start({ dataDir: join(dir, 'hosts'), localToken: token, localAllowedHosts: ['his-gw.hospital.local'] });
    const port = new URL(fe.localUrl).port;
    const auth = { authorization: `Bearer ${token}` };
    const json = { ...auth, 'content-type': 'application/json' };
    const query = JSON.stringify({ businessType: '01101', idNo: oneRow.idNo, idType: '01', userName: oneRow.userName, ehealthCardId: 'X' });

    for (const host of [`evil.example.com:${port}`, 'evil.example.com', `127.0.0.1.evil.example.com:${port}`, `[::2]:${port}`]) {
      const r = await raw(`${fe.localUrl}/local/query`, { method: 'POST', headers: { ...json, host }, body: query });
      assert.equal(r.status, 421, host);
      assert.equal(r.body.next, undefined);
      assert.equal((await raw(`${fe.localUrl}/docs`, { headers: { host } })).status, 421, host);
    }
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `his-gw.hospital.local:${port}`]) {
      assert.equal((await raw(`${fe.localUrl}/local/health`, { headers: { ...auth, host } })).status, 200, host);
    }

    for (const origin of ['http://evil.example.com', 'null', `http://evil.example.com:${port}`, `http://localhost:${Number(port) + 1}`]) {
      const r = await raw(`${fe.localUrl}/local/report`, {
        method: 'POST',
        headers: { ...json, origin },
        body: JSON.stringify({ rows: [oneRow] }),
      });
      assert.equal(r.status, 403, origin);
    }
    // Its own origin (a page the 前置机 served itself) is not foreign.
    assert.equal((await raw(`${fe.localUrl}/local/health`, { headers: { ...auth, origin: `http://127.0.0.1:${port}` } })).status, 200);

    for (const type of [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      '',
    ]) {
      const headers: Record<string, string> = { ...auth, ...(type ? { 'content-type': type } : {}) };
      const r = await raw(`${fe.localUrl}/local/report`, { method: 'POST', headers, body: JSON.stringify({ rows: [oneRow] }) });
      assert.equal(r.status, 415, type);
    }
    assert.deepEqual(fe.outbox.list(), [], 'nothing refused above was queued');
    const ok = await raw(`${fe.localUrl}/local/report`, { method: 'POST', headers: json, body: JSON.stringify({ rows: [oneRow] }) });
    assert.equal(ok.status, 202);
    assert.equal(fe.outbox.list().length, 1);
  });

  it('refuses to start beyond loopback without TLS when TLS is required, or with a short token', async () => {
    await assert.rejects(
      start({ dataDir: join(dir, 'tls'), localHost: '192.0.2.1', localRequireTls: true, localToken: 'long-enough-token-0123' }),
      /TLS/,
    );
    await assert.rejects(start({ dataDir: join(dir, 'short'), localToken: 'short' }), /至少 16/);
  });

  it('cuts off a trickled body on both listeners', async () => {
    const fe = await start({ dataDir: join(dir, 'slow'), localToken: 'slow-test-token-0123456789', requestTimeoutMs: 1000 });
    for (const base of [fe.localUrl, fe.platformUrl]) {
      const r = await trickle(base, '/local/report', { Authorization: 'Bearer slow-test-token-0123456789' });
      assert.ok(r.cutOff, `${base}: the body was cut off before it was complete`);
      assert.match(r.reply, /^HTTP\/1\.1 408/, base);
    }
  });

  it("takes each of the platform's calls once at the 前置机's ORG_001 endpoint", async () => {
    const fe = await start({ dataDir: join(dir, 'replay'), localToken: 'replay-test-token-0123456789' });
    const env = sealRequest({ orgId, orgTraceId: 'R-1' }, { appId, secret });
    const send = async (e: unknown) =>
      (await (await fetch(`${fe.platformUrl}/qmdl/getOverdueResult`, { method: 'POST', body: JSON.stringify(e) })).json()) as Record<
        string,
        unknown
      >;
    assert.equal(openReply(await send(env), secret, { allowPlain: false }).respCode, '000000');
    assert.equal((await send(env)).respCode, '010010');
    assert.equal((await send({ ...env, sign: ` ${env.sign!.replace(/=+$/, '')}` })).respCode, '010010');
  });
});
