import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { sm4EcbDecrypt, sm4EcbEncrypt } from './crypto.js';

// The kept ciphers must give, message after message, exactly what a fresh OpenSSL cipher with its own padding gives.
function reference(key: Buffer, plain: Buffer): Buffer {
  const c = createCipheriv('sm4-ecb', key, null);
  return Buffer.concat([c.update(plain), c.final()]);
}

describe('SM4-ECB with kept ciphers', () => {
  it('matches a fresh cipher for every length, interleaving keys and directions', () => {
    const keys = [randomBytes(16), randomBytes(16)];
    for (let len = 0; len < 70; len++) {
      for (const key of keys) {
        const plain = randomBytes(len);
        const sealed = sm4EcbEncrypt(key, plain);
        assert.deepEqual(sealed, reference(key, plain), `length ${len}`);
        assert.deepEqual(sm4EcbDecrypt(key, sealed), plain);
        const d = createDecipheriv('sm4-ecb', key, null);
        assert.deepEqual(Buffer.concat([d.update(sealed), d.final()]), plain);
      }
    }
  });

  it('refuses bad padding, and a refusal leaves nothing behind for the next message', () => {
    const key = randomBytes(16);
    const good = sm4EcbEncrypt(key, Buffer.from('{"a":1}'));
    // A block whose last byte decrypts to 0 or to more than 16, or whose padding bytes disagree.
    const forged = [Buffer.alloc(16, 0), Buffer.alloc(16, 0x11), Buffer.concat([Buffer.alloc(14, 1), Buffer.from([9, 2])])];
    for (const plain of forged) {
      const c = createCipheriv('sm4-ecb', key, null).setAutoPadding(false);
      const block = c.update(plain);
      assert.throws(() => sm4EcbDecrypt(key, block), /bad decrypt/);
      assert.equal(sm4EcbDecrypt(key, good).toString(), '{"a":1}');
    }
    // A wrong key almost always fails the padding, and never returns the plaintext.
    let opened = 0;
    for (let i = 0; i < 50; i++) {
      try {
        if (sm4EcbDecrypt(randomBytes(16), good).toString() === '{"a":1}') opened++;
      } catch {
        /* refused, as expected */
      }
    }
    assert.equal(opened, 0);
  });

  it('refuses what is not whole blocks and keys that are not 16 bytes', () => {
    const key = randomBytes(16);
    assert.throws(() => sm4EcbDecrypt(key, Buffer.alloc(0)), /whole number of blocks/);
    assert.throws(() => sm4EcbDecrypt(key, Buffer.alloc(17)), /whole number of blocks/);
    assert.throws(() => sm4EcbEncrypt(Buffer.alloc(15), Buffer.from('x')), /key/i);
  });

  it('stays correct past the bound on kept keys', () => {
    const first = randomBytes(16);
    const sealed = sm4EcbEncrypt(first, Buffer.from('kept'));
    for (let i = 0; i < 1100; i++) sm4EcbEncrypt(randomBytes(16), Buffer.from('flood'));
    assert.equal(sm4EcbDecrypt(first, sealed).toString(), 'kept');
    assert.deepEqual(sm4EcbEncrypt(first, Buffer.from('kept')), sealed);
  });
});
