import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MdlError,
  RespCode,
  base64LenientDecode,
  checkSignature,
  extractPayload,
  openReply,
  sealRequest,
  sealResponse,
  sm4EcbEncrypt,
  sm4KeyFromSecret,
  base64UrlEncode,
} from './index.js';

const secret = 'T3stSecret-0123456789-abcdefghijk';
const opts = { allowPlain: false, payloadRequired: true };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof MdlError, String(e));
    return e.code;
  }
}

describe('envelope', () => {
  it('round-trips a request with Chinese text', () => {
    const env = sealRequest({ userName: '林晓梅', n: 1 }, { appId: 'A1', secret });
    const opened = extractPayload(env, secret, opts);
    checkSignature(env, opened, secret, false);
    assert.deepEqual(opened.payload, { userName: '林晓梅', n: 1 });
  });

  it('accepts lower-case algorithm names', () => {
    const env = sealRequest({ a: 1 }, { appId: 'A1', secret, encryptType: 'sm4', signType: 'sm3' });
    const opened = extractPayload(env, secret, opts);
    assert.doesNotThrow(() => checkSignature(env, opened, secret, false));
  });

  it('rejects a tampered payload with 000102', () => {
    const env = sealRequest({ a: 1 }, { appId: 'A1', secret });
    const other = sealRequest({ a: 2 }, { appId: 'A1', secret, timestamp: env.timestamp });
    const forged = { ...env, encryptData: other.encryptData };
    const opened = extractPayload(forged, secret, opts);
    assert.equal(
      codeOf(() => checkSignature(forged, opened, secret, false)),
      RespCode.BAD_SIGNATURE,
    );
  });

  it('rejects a missing signature with 000102', () => {
    const env = sealRequest({ a: 1 }, { appId: 'A1', secret });
    delete env.sign;
    const opened = extractPayload(env, secret, opts);
    assert.equal(
      codeOf(() => checkSignature(env, opened, secret, false)),
      RespCode.BAD_SIGNATURE,
    );
  });

  it('answers 000101 for junk, partial blocks, bad padding, non-UTF-8 and non-JSON', () => {
    const key = sm4KeyFromSecret(secret);
    const cases = [
      '!!!not base64!!!',
      base64UrlEncode(Buffer.alloc(15)),
      base64UrlEncode(Buffer.alloc(16)), // decrypts to garbage padding
      base64UrlEncode(sm4EcbEncrypt(key, Buffer.from([0xff, 0xfe, 0x80]))),
      base64UrlEncode(sm4EcbEncrypt(key, Buffer.from('{"a":'))),
    ];
    for (const encryptData of cases) {
      const env = { appId: 'A1', encryptType: 'SM4', signType: 'SM3', encryptData };
      assert.equal(
        codeOf(() => extractPayload(env, secret, opts)),
        RespCode.DECRYPT_FAILED,
        encryptData,
      );
    }
  });

  it('answers 000105 for a payload that is JSON but not an object, and for a missing payload', () => {
    const key = sm4KeyFromSecret(secret);
    const env = { appId: 'A1', encryptType: 'SM4', signType: 'SM3', encryptData: base64UrlEncode(sm4EcbEncrypt(key, Buffer.from('[1]'))) };
    assert.equal(
      codeOf(() => extractPayload(env, secret, opts)),
      RespCode.INVALID_PARAM,
    );
    assert.equal(
      codeOf(() => extractPayload({ appId: 'A1', encryptType: 'SM4', signType: 'SM3' }, secret, opts)),
      RespCode.INVALID_PARAM,
    );
  });

  it('allows PLAIN only when the credential allows it', () => {
    const env = sealRequest({ a: 1 }, { appId: 'A1', secret, encryptType: 'PLAIN', signType: 'PLAIN' });
    assert.equal(
      codeOf(() => extractPayload(env, secret, opts)),
      RespCode.DECRYPT_FAILED,
    );
    const opened = extractPayload(env, secret, { ...opts, allowPlain: true });
    assert.deepEqual(opened.payload, { a: 1 });
    assert.equal(
      codeOf(() => checkSignature(env, opened, secret, false)),
      RespCode.BAD_SIGNATURE,
    );
    assert.doesNotThrow(() => checkSignature(env, opened, secret, true));
  });

  it('PLAIN encryption with an SM3 signature signs JSON.stringify of the object', () => {
    const env = sealRequest({ b: '二', a: 1 }, { appId: 'A1', secret, encryptType: 'PLAIN' });
    const opened = extractPayload(env, secret, { ...opts, allowPlain: true });
    assert.doesNotThrow(() => checkSignature(env, opened, secret, true));
  });

  it('replies carry business data only on success', () => {
    const ok = sealResponse({ state: 'success' }, { appId: 'A1', secret, respCode: '000000' });
    assert.ok(ok.encryptData);
    assert.equal(ok.respMsg, '成功');
    const bad = sealResponse({ state: 'success' }, { appId: 'A1', secret, respCode: '-4' });
    assert.equal(bad.encryptData, undefined);
    assert.equal(openReply(bad, secret, { allowPlain: false }).respCode, '-4');
    assert.deepEqual(openReply(ok, secret, { allowPlain: false }).payload, { state: 'success' });
  });

  it('refuses a reply whose signature is wrong', () => {
    const ok = sealResponse({ state: '1' }, { appId: 'A1', secret, respCode: '000000' });
    assert.equal(
      codeOf(() => openReply({ ...ok, respCode: '-1' }, secret, { allowPlain: false })),
      RespCode.BAD_SIGNATURE,
    );
  });

  it('decodes base64 leniently but not junk', () => {
    assert.deepEqual(base64LenientDecode('-_8'), Buffer.from([0xfb, 0xff]));
    assert.deepEqual(base64LenientDecode('+/8='), Buffer.from([0xfb, 0xff]));
    assert.equal(base64LenientDecode('a'), undefined);
    assert.equal(base64LenientDecode('ab$c'), undefined);
  });
});
