import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { DEMO_INSURED, dropTestSchema } from '@mdl/platform/testing';
import { call } from './support/client.js';
import { CITY_APP_ID, CITY_SECRET, startSimulator, type Simulator } from './support/ehc-simulator.js';
import { freePort } from './support/ports.js';

/**
 * `npm start` (mdl start) with MDL_EHC_REGISTRY=upstream as a real process beside the simulator process: it starts,
 * its demo people carry the city's cards, and ORG_EHC_004 is answered through the city. On PGlite, or on a schema
 * of its own in the PostgreSQL at DATABASE_URL.
 */
const MDL = fileURLToPath(new URL('../../bin/mdl.js', import.meta.url));
const databaseUrl = process.env.DATABASE_URL || undefined;

function run(args: string[], env: Record<string, string>) {
  const child: ChildProcess = spawn(process.execPath, [MDL, ...args], { env: { ...process.env, MDL_LOG_LEVEL: 'warn', ...env } });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  return { child, exited, out: () => out };
}

describe('mdl start with MDL_EHC_REGISTRY=upstream', () => {
  let sim: Simulator;
  const dir = mkdtempSync(join(tmpdir(), 'mdl-ehc-up-'));
  const schema = `t_ehcup_${randomBytes(5).toString('hex')}`;
  const db: Record<string, string> = databaseUrl
    ? { DATABASE_URL: databaseUrl, MDL_DB_SCHEMA: schema, MDL_MASTER_KEY: randomBytes(16).toString('hex'), MDL_DEPLOYMENT: 'sandbox' }
    : { DATABASE_URL: '', MDL_DATA_DIR: dir };
  const upstream = (url: string) => ({
    ...db,
    REDIS_URL: '',
    MDL_EHC_REGISTRY: 'upstream',
    MDL_EHC_UPSTREAM_URL: url,
    MDL_EHC_UPSTREAM_APP_ID: CITY_APP_ID,
    MDL_EHC_UPSTREAM_SECRET: CITY_SECRET,
  });

  before(async () => {
    sim = await startSimulator();
  });
  after(async () => {
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (databaseUrl) await dropTestSchema(databaseUrl, schema);
  });

  it('refuses to start without the city system’s address rather than issue cards itself', async () => {
    const p = run(['serve'], { ...upstream(''), PORT: String(await freePort()) });
    assert.equal(await p.exited, 2, p.out());
    assert.match(p.out(), /MDL_EHC_UPSTREAM_URL .* is required with MDL_EHC_REGISTRY=upstream/);
  });

  it('starts, seeds the demo people with the city’s cards, and answers ORG_EHC_004 through the city', async () => {
    const port = await freePort();
    const p = run(['start'], { ...upstream(sim.url), PORT: String(port) });
    try {
      const deadline = Date.now() + 120_000;
      while (!/secret:\s+\S+/.test(p.out()) || !/演示患者/.test(p.out())) {
        if (p.child.exitCode !== null) assert.fail(`mdl start exited:\n${p.out()}`);
        if (Date.now() > deadline) assert.fail(`mdl start did not come up:\n${p.out()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const out = p.out();
      const appId = /appId:\s+(\S+)/.exec(out)![1]!;
      const secret = /secret:\s+(\S+)/.exec(out)![1]!;
      const orgId = /orgId:\s+(\S+)/.exec(out)![1]!;
      const shownCard = /ehealthCardId (\S+)/.exec(out)![1]!;
      assert.match(shownCard, /^C35[0-9A-F]{30}$/, 'the demo person’s card is the city’s');
      const base = `http://127.0.0.1:${port}`;
      const d = DEMO_INSURED[0]!;
      const ask = (psnNo: string) =>
        call(base, '/ehc/queryEcAuthResult', appId, secret, { orgId, type: '01', psnNo, idNo: d.idNo, idType: '01', userName: d.userName });
      const r = await ask(d.psnNo);
      assert.equal(r.respCode, '000000', r.respMsg);
      assert.equal(r.payload!.ehealthCardId, shownCard);
      const wrong = await ask(DEMO_INSURED[1]!.psnNo);
      assert.equal(wrong.respCode, '-2');
      assert.equal(wrong.payload, undefined);
    } finally {
      p.child.kill('SIGTERM');
      assert.equal(await p.exited, 0, p.out());
    }
  });
});
