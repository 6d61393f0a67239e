import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../config.js';
import { createPlatform } from '../platform.js';
import { signIn } from '../domain/console/auth.js';
import { base32Decode, totp } from '../domain/console/totp.js';
import { main } from './mdl.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

describe('mdl users create', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdl-users-'));
  const env = { MDL_DATA_DIR: dir, MDL_LOG_LEVEL: 'silent' };
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('makes the first operator, prints the TOTP secret once, and that operator can sign in', async () => {
    const c = capture();
    const code = await main(
      ['users', 'create', '--username', 'admin', '--role', 'operator', '--password', 'First-Operator-1', '--json'],
      c.io,
      env,
    );
    assert.equal(code, 0, c.err.join('\n'));
    const out = JSON.parse(c.out[0]!) as { username: string; role: string; totpSecret: string; otpauth: string };
    assert.equal(out.role, 'operator');
    assert.match(out.totpSecret, /^[A-Z2-7]{32}$/);
    assert.match(out.otpauth, /^otpauth:\/\/totp\/.+secret=[A-Z2-7]{32}/);
    const platform = await createPlatform(loadConfig(env), { queue: false });
    try {
      const r = await signIn(platform, {
        username: 'admin',
        password: 'First-Operator-1',
        code: totp(base32Decode(out.totpSecret), Date.now()),
        ip: null,
      });
      assert.equal(r.ok, true);
    } finally {
      await platform.close();
    }
  });

  it('refuses bad input with a clear message', async () => {
    const weak = capture();
    assert.equal(await main(['users', 'create', '--username', 'a2', '--role', 'auditor', '--password', 'short'], weak.io, env), 2);
    assert.match(weak.err.join('\n'), /密码长度/);
    const staff = capture();
    assert.equal(await main(['users', 'create', '--username', 's1', '--role', 'staff', '--password', 'Staff-Pass-123'], staff.io, env), 2);
    assert.match(staff.err.join('\n'), /--org-id is required/);
    const role = capture();
    assert.equal(await main(['users', 'create', '--username', 'x', '--role', 'root', '--password', 'x'], role.io, env), 2);
    assert.match(role.err.join('\n'), /--role/);
    const dup = capture();
    assert.equal(
      await main(['users', 'create', '--username', 'admin', '--role', 'auditor', '--password', 'Second-User-12'], dup.io, env),
      2,
    );
    assert.match(dup.err.join('\n'), /已存在/);
    const plain = capture();
    assert.equal(
      await main(['users', 'create', '--username', 'aud1', '--role', 'auditor', '--password', 'Auditor-Pass-1'], plain.io, env),
      0,
    );
    assert.match(plain.out.join('\n'), /created auditor aud1/);
    assert.match(plain.out.join('\n'), /TOTP secret: [A-Z2-7]{32}/, 'every role gets a second factor');
    const list = capture();
    assert.equal(await main(['users', 'list', '--json'], list.io, env), 0);
    const rows = JSON.parse(list.out[0]!) as { username: string; role: string }[];
    assert.deepEqual(
      rows.map((r) => [r.username, r.role]),
      [
        ['admin', 'operator'],
        ['aud1', 'auditor'],
      ],
    );
    assert.doesNotMatch(list.out[0]!, /scrypt|totp/, 'no hashes or secrets');
  });
});
