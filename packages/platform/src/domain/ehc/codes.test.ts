import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Vault } from '../../vault.js';
import { HealthCodes } from './codes.js';

const key = () => randomBytes(16).toString('hex');

describe('dynamic health codes', () => {
  const vault = new Vault(key());
  const codes = new HealthCodes(vault, 'TEST', 300);
  const now = Date.UTC(2026, 10, 25, 10, 0, 0);

  it('names the card it was issued for, fits in 128 characters and differs each time', () => {
    const a = codes.issue(42, now);
    const b = codes.issue(42, now);
    assert.ok(a.code.length <= 128, a.code);
    assert.match(a.code, /^EHC1\.TEST\./);
    assert.notEqual(a.code, b.code);
    assert.deepEqual(codes.verify(a.code, now + 1000), { ok: true, personId: 42, expiresAt: a.expiresAt, codeId: a.code.split('.')[2] });
    assert.equal(a.expiresAt, now + 300_000);
  });

  it('refuses an expired code', () => {
    const { code } = codes.issue(7, now);
    const r = codes.verify(code, now + 300_000);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'expired');
  });

  it('refuses a code with any character changed', () => {
    const { code } = codes.issue(7, now);
    const parts = code.split('.');
    for (const i of [2, 3]) {
      const p = parts[i]!;
      const flipped = [...parts];
      flipped[i] = (p[5] === 'A' ? 'B' : 'A') + p.slice(1, 5) + (p[5] === 'A' ? 'B' : 'A') + p.slice(6);
      const r = codes.verify(flipped.join('.'), now);
      assert.equal(!r.ok && r.reason, 'forged', flipped.join('.'));
    }
  });

  it('refuses a code from another environment, and one signed under another key', () => {
    const prod = new HealthCodes(new Vault(key()), 'PROD', 300).issue(7, now).code;
    const r1 = codes.verify(prod, now);
    assert.equal(!r1.ok && r1.reason, 'other_env');
    assert.match(!r1.ok ? r1.message : '', /PROD/);
    const sameLabel = new HealthCodes(new Vault(key()), 'TEST', 300).issue(7, now).code;
    const r2 = codes.verify(sameLabel, now);
    assert.equal(!r2.ok && r2.reason, 'forged');
  });

  it('refuses malformed codes', () => {
    for (const c of ['', 'EHC1', 'EHC1.TEST..', 'hello world', 'EHC2.TEST.' + 'A'.repeat(22) + '.' + 'A'.repeat(22), 'x'.repeat(129)]) {
      const r = codes.verify(c, now);
      assert.equal(!r.ok && r.reason, 'malformed', c);
    }
  });
});
