import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { type Envelope, openReply, sealRequest } from '@mdl/protocol';
import type { CallbackRequest } from '@mdl/protocol';
import { createHospitalListener, createHospitalServer, fastifyHospitalPlugin } from './handlers.js';
import { listen, trickle } from './testing/fixtures.js';

const appId = 'HOSPAPP0001';
const secret = 'HospitalSecret-0123456789abcdefXYZ';
const orgId = 'H35010200001';

async function post(url: string, body: unknown): Promise<Envelope> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  assert.equal(r.status, 200);
  return (await r.json()) as Envelope;
}

describe('hospital handlers (ORG_001, ORG_002)', () => {
  const callbacks: CallbackRequest[] = [];
  const server = createHospitalServer({
    appId,
    secret,
    orgId,
    getOverdueResult: async (req) => ({ state: req.orgTraceId === 'PAID' ? '1' : '0' }),
    onCallback: async (req) => {
      if (req.orgRequestId === 'BOOM') throw new Error('HIS 数据库不可用');
      callbacks.push(req);
    },
  });
  let url = '';
  before(async () => void (url = await listen(server)));
  after(() => new Promise<void>((r) => server.close(() => r())));

  const ask = { orgId, orgTraceId: 'PAID', traceId: 'T1' };

  it('answers a correctly signed ORG_001 with the HIS state, signed and encrypted', async () => {
    const reply = await post(`${url}/qmdl/getOverdueResult`, sealRequest(ask, { appId, secret }));
    assert.ok(reply.encryptData && reply.sign);
    const opened = openReply(reply, secret, { allowPlain: false });
    assert.equal(opened.respCode, '000000');
    assert.deepEqual(opened.payload, { state: '1' });
  });

  it('accepts a path prefix before the guide suffix', async () => {
    const reply = await post(`${url}/his/api/qmdl/getOverdueResult`, sealRequest({ ...ask, orgTraceId: 'X' }, { appId, secret }));
    assert.deepEqual(openReply(reply, secret, { allowPlain: false }).payload, { state: '0' });
  });

  it('refuses a wrong signature, a missing one and another secret with 000102', async () => {
    const good = sealRequest(ask, { appId, secret });
    const forged = { ...good, sign: sealRequest({ ...ask, orgTraceId: 'Y' }, { appId, secret, timestamp: good.timestamp }).sign };
    const unsigned: Envelope = { ...good };
    delete unsigned.sign;
    const otherKey = sealRequest(ask, { appId, secret: secret.slice(0, 16) + 'another-secret-tail-000' });
    for (const env of [forged, unsigned, otherKey]) {
      const reply = await post(`${url}/qmdl/getOverdueResult`, env);
      assert.equal(reply.respCode, '000102');
      assert.equal(reply.encryptData, undefined, 'no business data on a refusal');
      assert.equal(reply.sign, undefined, 'a refusal before authentication is unsigned (no signing oracle)');
      assert.equal(reply.appId, '', 'and echoes nothing the sender chose');
    }
  });

  it('refuses PLAIN from the platform for a production credential', async () => {
    const plain = sealRequest(ask, { appId, secret, encryptType: 'PLAIN', signType: 'PLAIN' });
    assert.equal((await post(`${url}/qmdl/getOverdueResult`, plain)).respCode, '000101');
    const plainSign = sealRequest(ask, { appId, secret, signType: 'PLAIN' });
    assert.equal((await post(`${url}/qmdl/getOverdueResult`, plainSign)).respCode, '000102');
  });

  it('answers 000101 for undecryptable data and 000105 for an invalid payload', async () => {
    const env = sealRequest(ask, { appId, secret });
    assert.equal((await post(`${url}/qmdl/getOverdueResult`, { ...env, encryptData: 'AAAA' })).respCode, '000101');
    const missing = sealRequest({ orgId }, { appId, secret });
    assert.equal((await post(`${url}/qmdl/getOverdueResult`, missing)).respCode, '000105');
    assert.equal((await post(`${url}/qmdl/getOverdueResult`, 'not json')).respCode, '000105');
  });

  it('refuses a stale timestamp (010010) and another orgId (-4)', async () => {
    const old = sealRequest(ask, { appId, secret, now: () => Date.now() - 3_600_000 });
    assert.equal((await post(`${url}/qmdl/getOverdueResult`, old)).respCode, '010010');
    const other = sealRequest({ ...ask, orgId: 'H99999999999' }, { appId, secret });
    assert.equal((await post(`${url}/qmdl/getOverdueResult`, other)).respCode, '-4');
  });

  it('passes a verified ORG_002 callback to the HIS and answers success', async () => {
    const cb = {
      orgId,
      orgName: '福州市第一医院',
      notifyType: 'REPORT',
      orgRequestId: 'R1',
      reportResultList: [{ idNo: '', userName: '张三', itemList: [{ orgTraceId: 'A', traceId: 'T9', state: '0' }] }],
    };
    const reply = await post(`${url}/umdl/callback`, sealRequest(cb, { appId, secret }));
    assert.deepEqual(openReply(reply, secret, { allowPlain: false }).payload, { state: 'success', msg: '' });
    assert.equal(callbacks.length, 1);
    assert.equal(callbacks[0]!.reportResultList?.[0]?.itemList[0]?.traceId, 'T9');
    const failing = await post(`${url}/umdl/callback`, sealRequest({ ...cb, orgRequestId: 'BOOM' }, { appId, secret }));
    assert.equal(openReply(failing, secret, { allowPlain: false }).payload?.state, 'fail');
    const forged = await post(`${url}/umdl/callback`, { ...sealRequest(cb, { appId, secret }), sign: 'AAAA' });
    assert.equal(forged.respCode, '000102');
    assert.equal(callbacks.length, 1, 'a forged callback never reaches the HIS');
  });

  it('takes a call once: the same envelope again, in any spelling of its signature, is refused with 010010', async () => {
    const env = sealRequest({ ...ask, orgTraceId: 'REPLAY-1' }, { appId, secret });
    assert.equal(openReply(await post(`${url}/qmdl/getOverdueResult`, env), secret, { allowPlain: false }).respCode, '000000');
    const sign = env.sign!;
    const respelled = [
      sign,
      sign.replace(/=+$/, ''),
      `${sign.replace(/=+$/, '')}==`,
      ` ${sign}`,
      sign.replace(/-/g, '+').replace(/_/g, '/'),
    ];
    for (const s of respelled) {
      const reply = await post(`${url}/qmdl/getOverdueResult`, { ...env, sign: s });
      assert.equal(reply.respCode, '010010', JSON.stringify(s));
      assert.equal(reply.encryptData, undefined);
    }
    // Sent five times at once: exactly one is answered.
    const fresh = sealRequest({ ...ask, orgTraceId: 'REPLAY-2' }, { appId, secret });
    const codes = await Promise.all(Array.from({ length: 5 }, () => post(`${url}/qmdl/getOverdueResult`, fresh)));
    assert.deepEqual(codes.map((r) => r.respCode).sort(), ['000000', '010010', '010010', '010010', '010010']);
  });

  it('passes a replayed ORG_002 callback to the HIS only once', async () => {
    const before = callbacks.length;
    const cb = { orgId, orgName: '福州市第一医院', notifyType: 'UPDATE', orgRequestId: 'RP-1', updateResultList: [] };
    const env = sealRequest(cb, { appId, secret });
    assert.equal(openReply(await post(`${url}/umdl/callback`, env), secret, { allowPlain: false }).payload?.state, 'success');
    assert.equal((await post(`${url}/umdl/callback`, { ...env, sign: env.sign!.replace(/=+$/, '') })).respCode, '010010');
    assert.equal((await post(`${url}/umdl/callback`, env)).respCode, '010010');
    assert.equal(callbacks.length, before + 1);
  });

  it('answers PLAIN in the guide example form when the credential is a test one', async () => {
    const test = createHospitalServer({
      appId,
      secret,
      allowPlain: true,
      getOverdueResult: async () => ({ state: '2' }),
      onCallback: async () => {},
    });
    const u = await listen(test);
    const reply = await post(`${u}/qmdl/getOverdueResult`, { encryptType: 'plain', signType: 'plain', version: '1.0.0', param: ask });
    assert.deepEqual(reply.param, { state: '2' });
    assert.equal(reply.encryptType, 'plain');
    // A PLAIN call has no signature: a replay is the same canonical JSON, however it is spaced or ordered.
    const once = { encryptType: 'plain', signType: 'plain', version: '1.0.0', timestamp: '1', param: { ...ask, orgTraceId: 'P-ONCE' } };
    assert.equal((await post(`${u}/qmdl/getOverdueResult`, once)).respCode, '000000');
    const respaced = JSON.stringify(
      { param: { traceId: 'T1', orgTraceId: 'P-ONCE', orgId }, timestamp: '1', version: '1.0.0', signType: 'plain', encryptType: 'plain' },
      null,
      2,
    );
    assert.equal((await post(`${u}/qmdl/getOverdueResult`, respaced)).respCode, '010010');
    await new Promise<void>((r) => test.close(() => r()));
  });

  it('createHospitalServer cuts off a trickled body', async () => {
    const slow = createHospitalServer({ appId, secret, getOverdueResult: async () => ({ state: '0' }), onCallback: async () => {} }, 1000);
    const u = await listen(slow);
    const r = await trickle(u, '/qmdl/getOverdueResult');
    assert.ok(r.cutOff, 'the body was cut off before it was complete');
    assert.match(r.reply, /^HTTP\/1\.1 408/);
    await new Promise<void>((res) => slow.close(() => res()));
  });

  it('works as Express-style middleware and as a Fastify plugin', async () => {
    const mw = createHospitalListener({ appId, secret, getOverdueResult: async () => ({ state: '0' }), onCallback: async () => {} });
    const s = createServer((req, res) =>
      mw(req, res, () => {
        res.writeHead(404);
        res.end('other route');
      }),
    );
    const u = await listen(s);
    assert.equal((await fetch(`${u}/health`)).status, 404);
    assert.equal(
      openReply(await post(`${u}/qmdl/getOverdueResult`, sealRequest(ask, { appId, secret })), secret, { allowPlain: false }).respCode,
      '000000',
    );
    await new Promise<void>((r) => s.close(() => r()));

    type Reply = { code(n: number): Reply; send(b: unknown): unknown };
    const routes = new Map<string, (rq: { body: unknown; url: string }, rp: Reply) => Promise<unknown>>();
    await fastifyHospitalPlugin({ appId, secret, getOverdueResult: async () => ({ state: '1' }), onCallback: async () => {} })({
      post: (p, h) => routes.set(p, h),
    });
    let sent: Envelope | undefined;
    const rp: Reply = { code: () => rp, send: (b: unknown) => (sent = b as Envelope) };
    await routes.get('/qmdl/getOverdueResult')!({ body: sealRequest(ask, { appId, secret }), url: '/qmdl/getOverdueResult' }, rp);
    assert.deepEqual(openReply(sent, secret, { allowPlain: false }).payload, { state: '1' });
  });
});
