import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { policyFromSettings } from './address-policy.js';
import { guardedPost } from './pinned-post.js';

/** A hospital endpoint on loopback that counts the TCP connections it was given. */
async function hospital(keepAliveTimeoutMs: number): Promise<{ server: Server; url: string; port: number; connections: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('{"ok":true}'));
  });
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.on('connection', () => n++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://127.0.0.1:${port}/umdl/callback`, port, connections: () => n };
}

// A sandbox deployment may call loopback on any port; the platform itself listens elsewhere.
const post = guardedPost(
  policyFromSettings({ deployment: 'sandbox', outboundAllowCidrs: undefined, outboundHttpCidrs: undefined, port: 1, host: '127.0.0.1' }),
);

describe('outbound connections to a hospital', () => {
  const servers: Server[] = [];
  after(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

  it('reuse one connection for calls that follow each other', async () => {
    const h = await hospital(5_000);
    servers.push(h.server);
    for (let i = 0; i < 5; i++) {
      const r = await post({ url: h.url, ports: [h.port] }, '{}', { 'content-type': 'application/json' }, 5_000);
      assert.equal(r.status, 200);
    }
    assert.equal(h.connections(), 1);
  });

  it('open a new connection when the hospital closed the idle one, and the call still succeeds', async () => {
    const h = await hospital(30);
    servers.push(h.server);
    const first = await post({ url: h.url, ports: [h.port] }, '{}', {}, 5_000);
    await new Promise((r) => setTimeout(r, 150));
    const second = await post({ url: h.url, ports: [h.port] }, '{}', {}, 5_000);
    assert.deepEqual([first.status, second.status], [200, 200]);
    assert.equal(h.connections(), 2);
  });
});
