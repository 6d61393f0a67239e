import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { base32Decode, base32Encode, hotp, newTotpSecret, totp, verifyTotp } from './totp.js';

describe('TOTP (RFC 6238)', () => {
  // RFC 6238 Appendix B: 8 digits, seeds of 20/32/64 ASCII bytes.
  const seeds = {
    sha1: Buffer.from('12345678901234567890'),
    sha256: Buffer.from('12345678901234567890123456789012'),
    sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234'),
  };
  const vectors: [number, string, string, string][] = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  for (const [t, s1, s256, s512] of vectors) {
    it(`T=${t}`, () => {
      assert.equal(totp(seeds.sha1, t * 1000, { digits: 8 }), s1);
      assert.equal(totp(seeds.sha256, t * 1000, { digits: 8, algorithm: 'sha256' }), s256);
      assert.equal(totp(seeds.sha512, t * 1000, { digits: 8, algorithm: 'sha512' }), s512);
    });
  }

  it('HOTP RFC 4226 appendix D', () => {
    const key = Buffer.from('12345678901234567890');
    assert.deepEqual(
      [0, 1, 2, 9].map((c) => hotp(key, c)),
      ['755224', '287082', '359152', '520489'],
    );
  });

  it('base32 round trip and verification window, each step good once', () => {
    const s = newTotpSecret();
    assert.equal(s.length, 32);
    assert.equal(base32Encode(base32Decode(s)), s);
    assert.equal(base32Encode(Buffer.from('foobar')), 'MZXW6YTBOI');
    const now = 1_700_000_000_000;
    const code = totp(base32Decode(s), now);
    const step = verifyTotp(s, code, now);
    assert.equal(step, Math.floor(now / 30_000));
    assert.equal(verifyTotp(s, code, now + 30_000), step, 'one step of drift is accepted');
    assert.equal(verifyTotp(s, code, now + 90_000), undefined, 'older codes are not');
    assert.equal(verifyTotp(s, code, now, step), undefined, 'a used step is refused');
    assert.equal(verifyTotp(s, 'abcdef', now), undefined);
  });
});
