import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { residentId, sealRequest, type Envelope } from '@mdl/protocol';
import { createApp } from '../domain/credentials.js';
import { startTestPlatform, type TestPlatform } from '../testing.js';
import { RedisState } from './shared-state.js';

const REDIS_URL = process.env.REDIS_URL || undefined;

/**
 * A loopback TCP proxy in front of the real Redis that can be frozen: it keeps every connection open and stops
 * passing bytes either way, which is what a stopped (SIGSTOP) or wedged Redis looks like to a client.
 */
async function freezableProxy(target: URL): Promise<{ url: string; freeze(): void; thaw(): void; close(): Promise<void> }> {
  let frozen = false;
  const sockets: Socket[] = [];
  const held: (() => void)[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    sockets.push(client, upstream);
    const pipe = (from: Socket, to: Socket) => {
      from.on('data', (d) => (frozen ? held.push(() => to.write(d)) : to.write(d)));
      from.on('error', () => to.destroy());
      from.on('close', () => to.destroy());
    };
    pipe(client, upstream);
    pipe(upstream, client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze: () => void (frozen = true),
    thaw() {
      frozen = false;
      for (const write of held.splice(0)) write();
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

const rid = (seq: number) => residentId('350102', '19900307', seq);

describe('Redis with time limits and memory (issue #14)', { skip: !REDIS_URL && 'needs REDIS_URL' }, () => {
  let t: TestPlatform;
  let channel: { appId: string; secret: string };
  let proxy: Awaited<ReturnType<typeof freezableProxy>>;
  let raw: Redis;

  before(async () => {
    proxy = await freezableProxy(new URL(REDIS_URL!));
    t = await startTestPlatform({ redisUrl: proxy.url, redisTimeoutMs: 500 });
    await t.listen();
    channel = await createApp(t.platform.db, t.platform.vault, { kind: 'channel', env: 'prod', label: '闽政通' });
    raw = new Redis(REDIS_URL!, { maxRetriesPerRequest: 1 });
  });
  after(async () => {
    proxy.thaw();
    await t.close();
    await proxy.close();
    const keys = await raw.keys(`mdl:${t.platform.config.dbSchema}:*`);
    if (keys.length) await raw.del(...keys);
    raw.disconnect();
  });

  const query = (seq: number) =>
    sealRequest(
      { businessType: '01101', idNo: rid(seq), idType: '01', userName: '林晓梅' },
      { appId: channel.appId, secret: channel.secret },
    );
  async function post(env: Envelope): Promise<{ code: string; ms: number; msg: string }> {
    const started = Date.now();
    const res = await fetch(`${t.url}/qmdl/queryOverdueData`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(env),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Envelope;
    return { code: String(body.respCode), ms: Date.now() - started, msg: String(body.respMsg) };
  }

  it('a frozen Redis: every call is answered 000002 instead of waiting; service resumes when Redis does', async () => {
    assert.equal((await post(query(1))).code, '000000');
    proxy.freeze();
    const frozen = await Promise.all(Array.from({ length: 10 }, (_, i) => post(query(10 + i))));
    proxy.thaw();
    // Answered, not hung (the fetch itself would otherwise run into the test's time limit), and a system error.
    assert.deepEqual(
      frozen.map((r) => r.code),
      Array(10).fill('000002'),
    );
    let back = '';
    for (let i = 0; i < 50 && back !== '000000'; i++) {
      back = (await post(query(100 + i))).code;
      if (back !== '000000') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(back, '000000');
  });

  it('an emptied Redis: nothing accepted before is accepted again; new requests are', async () => {
    const accepted = [query(201), query(202), query(203)];
    for (const env of accepted) assert.equal((await post(env)).code, '000000');
    for (const env of accepted) assert.equal((await post(env)).code, '010010', 'a replay while Redis remembers');
    const keys = await raw.keys(`mdl:${t.platform.config.dbSchema}:*`);
    assert.ok(keys.length > 0);
    await raw.del(...keys); // what a restart without persistence, a FLUSHALL or an eviction leaves
    for (const env of accepted) {
      const r = await post(env);
      assert.equal(r.code, '010010', 'a replay after Redis lost its marks');
      assert.match(r.msg, /重放保护已重置/);
    }
    await new Promise((r) => setTimeout(r, 5));
    assert.equal((await post(query(204))).code, '000000', 'a request signed after the loss');
  });

  it('another process that learns of the loss from the replaced marker fences too, and a new process adopts the fence', async () => {
    const prefix = `mdl:t_fence_${randomBytes(4).toString('hex')}:`;
    const a = new RedisState(REDIS_URL!, prefix, { timeoutMs: 500, windowMs: 600_000 });
    const b = new RedisState(REDIS_URL!, prefix, { timeoutMs: 500, windowMs: 600_000 });
    try {
      await a.ping();
      await b.ping();
      const startFence = a.fence;
      assert.equal(b.fence, startFence, 'the fence of a first start is shared');
      assert.equal((await b.admit('k1', 600_000, 'r', 1000)).replay, false);
      await new Promise((r) => setTimeout(r, 20));
      const keys = await raw.keys(`${prefix}*`);
      await raw.del(...keys);
      const seenByA = await a.admit('k2', 600_000, 'r', 1000);
      assert.ok(seenByA.fence > startFence, 'A notices the missing marker and fences');
      // B still remembers the old marker; Redis has A's new one and no replay mark k1.
      const seenByB = await b.admit('k1', 600_000, 'r', 1000);
      assert.equal(seenByB.replay, false, 'the replay mark itself is gone');
      assert.ok(seenByB.fence >= seenByA.fence, 'but B fences on the replaced marker');
      const c = new RedisState(REDIS_URL!, prefix, { timeoutMs: 500, windowMs: 600_000 });
      try {
        await c.ping();
        assert.equal(c.fence, seenByB.fence, 'a process started later adopts the stored fence');
      } finally {
        await c.close();
      }
    } finally {
      const keys = await raw.keys(`${prefix}*`);
      if (keys.length) await raw.del(...keys);
      await a.close();
      await b.close();
    }
  });
});
