import assert from 'node:assert/strict';
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { SealedValueError, Vault } from './vault.js';

const MASTER = '00112233445566778899aabbccddeeff';

describe('vault: sealed values carry an integrity tag (issue #12)', () => {
  const vault = new Vault(MASTER);

  it('seals as v2 and opens it', () => {
    const sealed = vault.encrypt('350102199001011234');
    assert.match(sealed, /^v2:/);
    assert.equal(vault.decrypt(sealed), '350102199001011234');
  });

  it('refuses a ciphertext changed in the database, in any byte, and a value sealed under another key', () => {
    const sealed = vault.encrypt('350102199001011234');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    for (const at of [0, 8, 16, 20, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[at]! ^= 0x01;
      assert.throws(() => vault.decrypt('v2:' + bad.toString('base64')), SealedValueError, `byte ${at}`);
    }
    assert.throws(() => vault.decrypt('v2:' + raw.subarray(0, 40).toString('base64')), SealedValueError);
    assert.throws(() => new Vault('ffeeddccbbaa99887766554433221100').decrypt(sealed), SealedValueError);
  });

  it('still opens values sealed before the tag (v1)', () => {
    const key = createHmac('sm3', Buffer.from(MASTER, 'hex')).update('mdl/encryption').digest().subarray(0, 16);
    const iv = randomBytes(16);
    const c = createCipheriv('sm4-cbc', key, iv);
    const v1 = 'v1:' + Buffer.concat([iv, c.update('旧的值', 'utf8'), c.final()]).toString('base64');
    assert.equal(vault.decrypt(v1), '旧的值');
  });
});
