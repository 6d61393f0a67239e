import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RespCode, openRequest, sealRequest, type Envelope, type OpenRequestOptions, type RequestCredential } from './index.js';

const secret = 'T3stSecret-0123456789-abcdefghijk';
const appId = 'A1';
const now = Date.parse('2026-12-01T02:00:00Z');
const known: RequestCredential = { appId, secret, allowPlain: false };
const opts: OpenRequestOptions<RequestCredential> = { credential: (id) => (id === appId ? known : undefined), now, toleranceMs: 300_000 };
const ask = { orgId: 'H1', orgTraceId: 'X' };

async function codeOf(body: unknown, o = opts): Promise<string> {
  const r = await openRequest(body, o);
  return r.ok ? RespCode.SUCCESS : r.error.code;
}

describe('openRequest', () => {
  it('opens a good request and hands over its payload and replay key', async () => {
    const r = await openRequest(JSON.stringify(sealRequest(ask, { appId, secret, now: () => now })), opts);
    assert.ok(r.ok);
    assert.deepEqual(r.payload, ask);
    assert.match(r.replayKey, /^A1:s:[0-9a-f]{64}$/);
  });

  it('checks in one order: appId before anything, the timestamp before decryption and signature', async () => {
    const env = sealRequest(ask, { appId, secret, now: () => now });
    assert.equal(await codeOf('{'), RespCode.INVALID_PARAM);
    assert.equal(await codeOf('[1]'), RespCode.INVALID_PARAM);
    // An unknown appId with broken data and signature: -8, nothing decrypted.
    assert.equal(await codeOf({ ...env, appId: 'NOPE', encryptData: 'AAAA', sign: 'x' }), RespCode.APP_NOT_FOUND);
    const { version: _v, ...noVersion } = env;
    assert.equal(await codeOf(noVersion), RespCode.INVALID_PARAM);
    // A stale call with undecryptable data and a forged signature: refused on its timestamp.
    const stale = sealRequest(ask, { appId, secret, now: () => now - 3_600_000 });
    assert.equal(await codeOf({ ...stale, encryptData: 'AAAA', sign: 'AAAA' }), RespCode.REPLAY);
    assert.equal(await codeOf({ ...env, encryptData: 'AAAA' }), RespCode.DECRYPT_FAILED);
    assert.equal(
      await codeOf({ ...env, sign: sealRequest({ ...ask, orgTraceId: 'Y' }, { appId, secret, now: () => now }).sign }),
      RespCode.BAD_SIGNATURE,
    );
  });

  it('tells whether the appId was known when it refuses', async () => {
    const r = await openRequest({ ...sealRequest(ask, { appId, secret, now: () => now }), sign: 'AAAA' }, opts);
    assert.ok(!r.ok);
    assert.equal(r.credential?.appId, appId);
    const unknown = await openRequest({ appId: 'NOPE' }, opts);
    assert.ok(!unknown.ok);
    assert.equal(unknown.credential, undefined);
  });

  it('refuses PLAIN unless the credential allows it, and takes guide examples only where asked', async () => {
    const plain: Envelope = { encryptType: 'PLAIN', signType: 'PLAIN', version: '1.0.0', param: ask };
    assert.equal(await codeOf({ ...plain, appId, timestamp: String(now) }), RespCode.DECRYPT_FAILED);
    const test: OpenRequestOptions<RequestCredential> = { ...opts, credential: () => ({ ...known, allowPlain: true }) };
    assert.equal(await codeOf({ ...plain, appId, timestamp: String(now) }, test), RespCode.SUCCESS);
    assert.equal(await codeOf(plain, test), RespCode.INVALID_PARAM, 'no appId');
    assert.equal(await codeOf(plain, { ...test, guideExamples: { appId } }), RespCode.SUCCESS);
  });

  it('gives a re-spelt signature the same replay key, and re-spaced PLAIN the same key', async () => {
    const env = sealRequest(ask, { appId, secret, now: () => now });
    const a = await openRequest(env, opts);
    const b = await openRequest({ ...env, sign: ` ${env.sign!.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/')}` }, opts);
    assert.ok(a.ok && b.ok);
    assert.equal(a.replayKey, b.replayKey);
    const test: OpenRequestOptions<RequestCredential> = { ...opts, credential: () => ({ ...known, allowPlain: true }) };
    const p1 = await openRequest(
      { appId, encryptType: 'PLAIN', signType: 'PLAIN', version: '1.0.0', timestamp: String(now), param: ask },
      test,
    );
    const p2 = await openRequest(
      `{"param":{"orgTraceId":"X","orgId":"H1"},"timestamp":"${now}","version":"1.0.0","signType":"plain","encryptType":"plain","appId":"A1"}`,
      test,
    );
    assert.ok(p1.ok && p2.ok);
    assert.equal(p1.replayKey, p2.replayKey);
  });
});
