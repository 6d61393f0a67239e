import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../config.js';
import { createPlatform } from '../platform.js';
import { secureDataDir } from './data-dir-modes.js';

function modes(dir: string): { path: string; mode: number; dir: boolean }[] {
  const out: { path: string; mode: number; dir: boolean }[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    out.push({ path: p, mode: st.mode & 0o777, dir: st.isDirectory() });
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(dir);
  return out;
}

describe('data directory modes (issue #12)', () => {
  const parent = mkdtempSync(join(tmpdir(), 'mdl-modes-'));
  const dir = join(parent, 'data');
  after(() => rmSync(parent, { recursive: true, force: true }));

  it('a fresh data directory is 0700 and every file in it 0600, including what the database wrote', async () => {
    const p = await createPlatform(loadConfig({ MDL_DATA_DIR: dir, MDL_LOG_LEVEL: 'silent' }), { queue: false });
    await p.db.insertInto('setting').values({ key: 'x', value: 'y' }).execute();
    await p.close();
    const all = modes(dir);
    assert.ok(all.length > 20, 'the database files are there');
    const loose = all.filter((m) => m.mode !== (m.dir ? 0o700 : 0o600));
    assert.deepEqual(loose, []);
  });

  it('start-up repairs looser modes and says so', async () => {
    const victim = modes(dir).find((m) => !m.dir && m.path.includes('pglite'))!.path;
    chmodSync(victim, 0o666);
    chmodSync(dir, 0o755);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const p = await createPlatform(loadConfig({ MDL_DATA_DIR: dir, MDL_LOG_LEVEL: 'silent' }), { queue: false });
      await p.close();
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    assert.equal(statSync(victim).mode & 0o777, 0o600);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.ok(
      warnings.some((w) => /readable by other users/.test(w)),
      warnings.join('\n'),
    );
  });

  it('tightens a loose file inside a private directory without a warning (nobody else could reach it)', () => {
    const victim = modes(dir).find((m) => !m.dir && m.path.includes('pglite'))!.path;
    chmodSync(victim, 0o644);
    const warnings: string[] = [];
    assert.equal(
      secureDataDir(dir, (w) => warnings.push(w)),
      0,
    );
    assert.deepEqual(warnings, []);
    assert.equal(statSync(victim).mode & 0o777, 0o600);
  });
});
