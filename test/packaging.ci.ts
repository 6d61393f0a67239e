/**
 * The kit as a HIS vendor gets it: `npm pack` of @mdl/protocol and @mdl/hospital, installed from the
 * tarballs into an empty project (offline), a TypeScript file type-checked against the installed types,
 * and a typed client call against a running platform. Run by .ci/run (npm run test:packaging): it takes
 * half a minute of npm and tsc, and does not depend on the database that npm test runs twice for.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { addInstitution, startTestPlatform, type TestInstitution, type TestPlatform } from '@mdl/platform/testing';
import { residentId } from './support/people.js';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const require = createRequire(import.meta.url);

const CLIENT_TS = `import { PlatformClient, PlatformError } from '@mdl/hospital';
import { TEST_APP } from '@mdl/hospital/testing';
import { INTERFACES, type QueryOverdueDataResponse } from '@mdl/protocol';
import { platformOpenApi } from '@mdl/protocol/openapi';

const [baseUrl, appId, secret, orgId, idNo] = process.argv.slice(2) as [string, string, string, string, string];
const client = new PlatformClient({ baseUrl, appId, secret });
const card = await client.queryEcAuthResult({ orgId, type: '01', psnNo: 'P-PACK-1', idNo, idType: '01', userName: '林包装' });
const r: QueryOverdueDataResponse = await client.queryOverdueData({
  businessType: '01101',
  idNo,
  idType: '01',
  userName: '林包装',
  ehealthCardId: card.ehealthCardId,
});
let refused = '';
try {
  await client.queryReportResult({ orgId: 'H00000000000', orgRequestId: 'NOT-MINE' });
} catch (e) {
  if (e instanceof PlatformError) refused = e.respCode;
}
console.log(JSON.stringify({ next: r.next, card: card.ehealthCardId.length > 0, refused, interfaces: Object.keys(INTERFACES).length,
  paths: Object.keys(platformOpenApi().paths).length, testing: TEST_APP.orgId.length }));

// Never called: the compiler must refuse these, or the types would not be worth having.
export function misuse(): void {
  // @ts-expect-error businessType is required
  void client.queryOverdueData({ idNo, idType: '01', userName: 'x' });
  // @ts-expect-error no such interface
  void client.call('ORG_MDL_999', {});
}
`;

describe('the kit packed, installed into an empty project and used', () => {
  let t: TestPlatform;
  let inst: TestInstitution;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdl-pack-'));
    t = await startTestPlatform();
    await t.listen();
    inst = await addInstitution(t.platform, 'H35010200077', { orgName: '福州市包装医院' });
  });
  after(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('installs offline from the tarballs, type-checks, and makes typed calls', async () => {
    const npm = (args: string[], cwd: string) =>
      exec(NPM, [...args, '--cache', join(dir, 'npm-cache'), '--no-audit', '--no-fund', '--loglevel=error'], { cwd, maxBuffer: 16 << 20 });
    const packed = JSON.parse(
      (await npm(['pack', '-w', '@mdl/protocol', '-w', '@mdl/hospital', '--pack-destination', dir, '--json'], ROOT)).stdout,
    ) as { name: string; filename: string; files: { path: string }[] }[];
    assert.deepEqual(
      packed.map((p) => p.name),
      ['@mdl/protocol', '@mdl/hospital'],
    );
    for (const p of packed) {
      const files = p.files.map((f) => f.path);
      for (const want of ['package.json', 'README.md', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts'])
        assert.ok(files.includes(want), `${p.name} lacks ${want}`);
      assert.deepEqual(
        files.filter((f) => /\.test\.|tsbuildinfo/.test(f)),
        [],
        `${p.name} ships no tests`,
      );
    }

    const app = join(dir, 'his-app');
    await exec('mkdir', ['-p', join(app, 'src')]);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'his-app', version: '1.0.0', private: true, type: 'module' }));
    await npm(['install', '--offline', ...packed.map((p) => join(dir, p.filename))], app);
    const installed = JSON.parse(await readFile(join(app, 'node_modules/@mdl/hospital/package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(installed.private, undefined);

    await writeFile(join(app, 'src', 'client.ts'), CLIENT_TS);
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          outDir: 'dist',
          rootDir: 'src',
          // The installed declarations are checked too: they must stand on their own.
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [join(ROOT, 'node_modules/@types')],
        },
        include: ['src'],
      }),
    );
    const tsc = require.resolve('typescript/bin/tsc');
    await exec(process.execPath, [tsc, '-p', app]).catch((e: { stdout: string }) => assert.fail(`type-check failed:\n${e.stdout}`));

    const idNo = residentId('350102', '19900214', 31);
    const { stdout } = await exec(process.execPath, [join(app, 'dist', 'client.js'), t.url, inst.appId, inst.secret, inst.orgId, idNo], {
      cwd: app,
    });
    assert.deepEqual(JSON.parse(stdout), { next: '1', card: true, refused: '-4', interfaces: 11, paths: 9, testing: 12 });

    // Only the declared entry points exist, and the command is installed.
    const internal = await exec(process.execPath, ['--input-type=module', '-e', "await import('@mdl/hospital/dist/csv.js')"], {
      cwd: app,
    }).catch((e: { stderr: string }) => e.stderr);
    assert.match(String(internal), /ERR_PACKAGE_PATH_NOT_EXPORTED/);
    const help = await exec(join(app, 'node_modules', '.bin', 'mdl-hospital'), ['--help'], { cwd: app });
    assert.match(help.stdout, /report/);
  });
});
