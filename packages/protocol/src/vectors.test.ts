import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import {
  MdlError,
  RespCode,
  buildSignString,
  checkSignature,
  computeSign,
  decryptPayload,
  encryptPayload,
  extractPayload,
  openReply,
  sm3Hex,
  sm4EcbEncrypt,
  type Envelope,
} from './index.js';

const here = dirname(fileURLToPath(import.meta.url));
// The repository carries its own copy of the conformance vectors (spec/), so a fresh clone tests itself.
const specDir = resolve(here, '../../../spec');
const vectors = JSON.parse(readFileSync(resolve(specDir, 'vectors.json'), 'utf8')) as {
  primitives: {
    sm3: { input: string; hex: string }[];
    sm4_ecb_block: { keyHex: string; plainHex: string; cipherHex: string; iterations?: number }[];
  };
  envelopes: { name: string; kind: string; secret: string; plaintext: string; signString: string; expect: string; envelope: Envelope }[];
  plainExamplesFromTheGuide: { name: string; json: string }[];
};

describe('spec/vectors.json', () => {
  it('has vectors to check', () => {
    assert.ok(vectors.primitives.sm3.length >= 3);
    assert.ok(vectors.envelopes.length >= 6);
  });

  for (const v of vectors.primitives.sm3) {
    it(`sm3(${JSON.stringify(v.input).slice(0, 20)})`, () => assert.equal(sm3Hex(v.input), v.hex));
  }

  for (const v of vectors.primitives.sm4_ecb_block) {
    it(`sm4 block x${v.iterations ?? 1}`, () => {
      const key = Buffer.from(v.keyHex, 'hex');
      let block: Buffer = Buffer.from(v.plainHex, 'hex');
      // One block without padding: the first 16 bytes of a padded encryption are the raw block cipher.
      for (let i = 0; i < (v.iterations ?? 1); i++) block = sm4EcbEncrypt(key, block).subarray(0, 16);
      assert.equal(block.toString('hex'), v.cipherHex);
    });
  }

  for (const v of vectors.envelopes) {
    describe(v.name, () => {
      const opts = { allowPlain: false, payloadRequired: true };
      it('decrypts to the exact plaintext', () => {
        assert.equal(decryptPayload(v.envelope.encryptData!, v.secret), v.plaintext);
      });
      it('builds the documented sign string', () => {
        const key = v.signString.includes('&data={') || v.signString.startsWith('data=') ? 'data' : 'param';
        const fields = { ...v.envelope };
        if (v.expect !== 'valid') fields.version = /version=([^&]+)/.exec(v.signString)![1];
        assert.equal(buildSignString(fields, v.plaintext, v.secret, key), v.signString);
      });
      if (v.expect === 'valid') {
        it('verifies', () => {
          const opened = extractPayload(v.envelope, v.secret, opts);
          assert.doesNotThrow(() => checkSignature(v.envelope, opened, v.secret, false));
        });
        if (!v.signString.includes('&data={') && !/\+|\//.test(v.envelope.encryptData!)) {
          it('re-encrypts and re-signs to the same bytes', () => {
            assert.equal(encryptPayload(v.plaintext, v.secret), v.envelope.encryptData);
            assert.equal(computeSign(v.envelope, v.plaintext, v.secret), v.envelope.sign);
          });
        }
      } else {
        it('is rejected with 000102', () => {
          const opened = extractPayload(v.envelope, v.secret, opts);
          assert.throws(
            () => checkSignature(v.envelope, opened, v.secret, false),
            (e: unknown) => e instanceof MdlError && e.code === RespCode.BAD_SIGNATURE,
          );
        });
      }
    });
  }

  for (const ex of vectors.plainExamplesFromTheGuide.filter((e) => e.name.includes('response'))) {
    it(`reads the guide's ${ex.name}`, () => {
      const reply = openReply(JSON.parse(ex.json), 'x'.repeat(32), { allowPlain: true });
      assert.equal(reply.respCode, RespCode.SUCCESS);
      assert.ok(reply.payload && typeof reply.payload.state === 'string');
    });
  }
});
