/**
 * The multi-node deployment of deploy/, started on this machine: nginx (deploy/nginx/mdl.conf) in
 * front of two `mdl serve` and beside two `mdl worker` processes (deploy/systemd/*), one PostgreSQL
 * database of its own on the shared server and the shared Redis. A hospital reports, is called back,
 * queries and updates through nginx while one API process is killed with SIGKILL.
 *
 * Run by .ci/run (npm run test:deploy), not by npm test (the file is not named *.test.ts): it needs nginx, PostgreSQL and Redis.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Redis } from 'ioredis';
import { PlatformClient } from '@mdl/hospital';
import { runtimeRole } from '@mdl/platform/testing';
import { TestHospital } from '../support/hospital.js';
import { chinaTime, eventually, residentId } from '../support/people.js';
import { fetchTrusting } from './https-fetch.js';
import { makeCertificate, renderSite, startNginx } from './nginx.js';
import { type Proc, freePort, freeUnitPort, run, start, stop, until } from './procs.js';
import { readEnvFile, readUnit } from './units.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const BASE_DATABASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';

/** The unit's command line on this checkout: /usr/bin/node and /opt/mdl are where docs/operations.md installs. */
function commandOf(unitFile: string, instance = '') {
  const unit = readUnit(join(DEPLOY, 'systemd', unitFile), instance);
  assert.deepEqual(unit.execStart.slice(0, 2), ['/usr/bin/node', '/opt/mdl/bin/mdl.js'], `${unitFile} runs the installed CLI`);
  assert.equal(unit.environmentFile, '/etc/mdl/mdl.env');
  return { argv: [process.execPath, join(ROOT, 'bin/mdl.js'), ...unit.execStart.slice(2)], environment: unit.environment };
}

describe('multi-node deployment behind nginx (deploy/)', { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mdl-deploy-'));
  const dbName = `mdl_deploy_${randomBytes(4).toString('hex')}`;
  const schema = `deploy_${randomBytes(4).toString('hex')}`;
  const procs: Proc[] = [];
  let hospital: TestHospital | undefined;
  let env: Record<string, string>;
  let nginx: Proc | undefined;
  let passed = false;
  const killAll = () => [...procs, ...(nginx ? [nginx] : [])].forEach((p) => p.child.exitCode === null && p.child.kill('SIGKILL'));

  before(async () => {
    process.once('exit', killAll); // also when the run itself is interrupted
    const admin = new pg.Client({ connectionString: BASE_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${dbName}`);
    await admin.end();
    const url = new URL(BASE_DATABASE_URL);
    url.pathname = `/${dbName}`;
    env = {
      ...readEnvFile(join(DEPLOY, 'mdl.env.example')),
      DATABASE_URL: url.toString(),
      REDIS_URL,
      MDL_MASTER_KEY: randomBytes(16).toString('hex'),
      // Its own key prefix on the shared Redis (the prefix follows the schema name).
      MDL_DB_SCHEMA: schema,
      // A production deployment calls no loopback address unless listed, and https only unless listed: the test
      // hospital is plain http on this host (docs/security.md "Outbound calls").
      MDL_OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8',
      MDL_OUTBOUND_HTTP_CIDRS: '127.0.0.0/8',
    };
  });

  after(async () => {
    if (!passed) {
      for (const p of [...procs, ...(nginx ? [nginx] : [])]) console.log(`--- ${p.name}\n${p.output().slice(-4000)}`);
      try {
        console.log(`--- nginx error.log\n${readFileSync(join(dir, 'error.log'), 'utf8').slice(-4000)}`);
      } catch {
        // nginx did not start
      }
    }
    await Promise.all([...procs, ...(nginx ? [nginx] : [])].map((p) => stop(p, 5000)));
    await hospital?.stop();
    const admin = new pg.Client({ connectionString: BASE_DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    // Roles belong to the cluster, not the database: the platform's runtime role would outlive it (one per run).
    await admin.query(`DROP ROLE IF EXISTS "${runtimeRole(schema)}"`);
    await admin.end();
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const keys = await redis.keys(`mdl:${schema}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports, is called back, queries and updates through nginx while an API process is killed', async () => {
    const started = Date.now();
    // The units derive metrics ports from their instance (serve: 1<port>, worker: the instance itself), so these
    // are four-digit ports whose metrics port is free too.
    const taken = new Set<number>();
    const [apiA, apiB, workerA, workerB] = [
      await freeUnitPort(taken),
      await freeUnitPort(taken),
      await freeUnitPort(taken),
      await freeUnitPort(taken),
    ];
    const [http, https, hisPort] = await Promise.all([freePort(), freePort(), freePort()]);
    env.PUBLIC_URL = `https://127.0.0.1:${https}`;
    const procEnv = (extra: Record<string, string>) => ({ PATH: process.env.PATH ?? '', ...env, ...extra });

    // 1. Migrations first (mdl-migrate.service), then the operator's first steps from docs/operations.md.
    const migrate = commandOf('mdl-migrate.service');
    await run('mdl migrate', migrate.argv, procEnv(migrate.environment), ROOT);
    // A command's answer is its standard output; its log lines go to standard error.
    const mdl = (args: string[], stdin = '') =>
      run(`mdl ${args[0]}`, [process.execPath, join(ROOT, 'bin/mdl.js'), ...args], procEnv({}), ROOT, stdin);
    const operator = JSON.parse(
      await mdl(['users', 'create', '--username', 'admin', '--role', 'operator', '--json'], 'Deploy-Admin-2026\n'),
    ) as {
      totpSecret: string;
    };
    assert.match(operator.totpSecret, /^[A-Z2-7]{16,}$/);
    const cred = JSON.parse(
      await mdl([
        'apps',
        'create',
        '--org-id',
        'H35010200099',
        '--org-name',
        '部署测试医院',
        '--env',
        'prod',
        '--notify-host',
        '127.0.0.1',
        // The test hospital's port: production calls only the ports registered for the institution.
        '--port',
        String(hisPort),
        '--json',
      ]),
    ) as { appId: string; secret: string };
    hospital = new TestHospital(cred.appId, cred.secret);
    const hospitalUrl = await hospital.start(hisPort);

    // 2. Two API processes and two workers, as their units start them; then nginx in front.
    // One after the other for now: concurrent first starts deadlock while pg-boss creates its schema (issue #9).
    const serve: Proc[] = [];
    for (const port of [apiA, apiB]) {
      const c = commandOf('mdl-serve@.service', String(port));
      assert.deepEqual(c.environment, { HOST: '127.0.0.1', PORT: String(port), MDL_METRICS_PORT: `1${port}` });
      const p = start(`mdl serve :${port}`, c.argv, procEnv(c.environment), ROOT);
      procs.push(p);
      serve.push(p);
      await until(`mdl serve on ${port}`, async () => ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined));
    }
    const workers: Proc[] = [];
    for (const n of [String(workerA), String(workerB)]) {
      const c = commandOf('mdl-worker@.service', n);
      assert.deepEqual(c.environment, { MDL_METRICS_PORT: n });
      const p = start(`mdl worker ${n}`, c.argv, procEnv(c.environment), ROOT);
      procs.push(p);
      workers.push(p);
      await until(`mdl worker ${n}`, async () => (/mdl worker running jobs/.test(p.output()) ? true : undefined));
    }
    const ca = makeCertificate(dir);
    const site = renderSite(readFileSync(join(DEPLOY, 'nginx', 'mdl.conf'), 'utf8'), dir, { http, https, upstreams: [apiA, apiB] });
    nginx = startNginx(site, dir);
    const tls = fetchTrusting(ca);
    const base = `https://127.0.0.1:${https}`;
    await until('nginx', async () => ((await tls(`${base}/healthz`)).ok ? true : undefined));

    // Plain HTTP only redirects; the console's cookies are Secure behind TLS.
    const redirect = await fetch(`http://127.0.0.1:${http}/console/login`, { redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), `https://127.0.0.1/console/login`);
    const login = await tls(`${base}/console/login`);
    assert.equal(login.status, 200);
    assert.match(login.headers.get('set-cookie') ?? '', /; Secure/);

    // 3. The flow, through nginx, with the hospital kit's client (it retries connection errors and 5xx).
    const client = new PlatformClient({
      baseUrl: base,
      appId: cred.appId,
      secret: cred.secret,
      fetch: tls,
      retryBaseMs: 100,
      retryMaxMs: 1000,
    });
    const idNo = residentId('350102', '19800101', 42);
    const card = await client.queryEcAuthResult({
      orgId: 'H35010200099',
      type: '01',
      psnNo: 'P-DEPLOY-1',
      idNo,
      idType: '01',
      userName: '郑部署',
    });
    const patient = { idNo, idType: '01', userName: '郑部署', ehealthCardId: card.ehealthCardId };
    const calls = { ok: 0, retried: 0, failed: [] as string[] };
    const query = () => client.queryOverdueData({ businessType: '01101', ...patient }, { onRetry: () => void calls.retried++ });

    // Queries keep coming from three booking desks for the whole run.
    let loading = true;
    const load = Array.from({ length: 3 }, async () => {
      while (loading) {
        try {
          await query();
          calls.ok++;
        } catch (e) {
          calls.failed.push(String(e));
        }
      }
    });

    await client.reportOverdueData({
      orgId: 'H35010200099',
      orgName: '部署测试医院',
      notifyUrl: `${hospitalUrl}/umdl/callback`,
      orgRequestId: 'DEPLOY-R1',
      unsettleList: [
        {
          ...patient,
          userType: '02',
          itemList: [{ orgTraceId: 'DEP-1', medType: '11', feeType: '01', itemName: '诊查费', amount: '36.50', actualTime: chinaTime(20) }],
        },
      ],
    });
    const [reported] = await hospital.waitForCallbacks(1, 30_000);
    assert.equal(reported!.notifyType, 'REPORT');
    const traceId = reported!.reportResultList![0]!.itemList[0]!.traceId!;
    const before = await query();
    assert.equal(before.next, '0');
    assert.deepEqual(
      before.itemList?.map((i) => [i.amount, i.state]),
      [['36.50', '0']],
    );
    const servedBefore = upstreamsIn(readFileSync(join(dir, 'access.log'), 'utf8'));
    assert.ok(
      servedBefore.has(`127.0.0.1:${apiA}`) && servedBefore.has(`127.0.0.1:${apiB}`),
      `both API processes served: ${[...servedBefore]}`,
    );

    // 4. kill -9 one API process in the middle of the run.
    const killedAt = readFileSync(join(dir, 'access.log'), 'utf8').length;
    serve[0]!.child.kill('SIGKILL');
    assert.equal(await serve[0]!.exited, -1);
    await new Promise((r) => setTimeout(r, 1000));

    await client.updateOverdueData({
      orgId: 'H35010200099',
      ...patient,
      notifyUrl: `${hospitalUrl}/umdl/callback`,
      orgRequestId: 'DEPLOY-U1',
      itemList: [{ orgTraceId: 'DEP-1', traceId, state: '1' }],
    });
    const [, updated] = await hospital.waitForCallbacks(2, 30_000);
    assert.equal(updated!.notifyType, 'UPDATE');
    assert.equal(updated!.updateResultList![0]!.itemList[0]!.state, '1');
    const afterUpdate = await query();
    assert.equal(afterUpdate.next, '1');
    assert.deepEqual(afterUpdate.itemList ?? [], []);
    for (const orgRequestId of ['DEPLOY-R1', 'DEPLOY-U1']) {
      const r = await client.queryReportResult({ orgId: 'H35010200099', orgRequestId });
      assert.equal(r.reportResultList?.[0]?.itemList[0]?.orgTraceId, 'DEP-1', orgRequestId);
    }
    await new Promise((r) => setTimeout(r, 500));
    loading = false;
    await Promise.all(load);

    // 5. Nothing was lost: every query was answered (retried where a request met the dead process),
    // nginx tried the dead process and moved on, the other processes are still running.
    assert.deepEqual(calls.failed, []);
    assert.ok(calls.ok > 20, `${calls.ok} queries during the run`);
    const errorLog = readFileSync(join(dir, 'error.log'), 'utf8');
    assert.match(
      errorLog,
      new RegExp(
        `(connect\\(\\) failed \\(111: Connection refused\\)|upstream prematurely closed|Connection reset).*127\\.0\\.0\\.1:${apiA}`,
      ),
    );
    const afterKill = readFileSync(join(dir, 'access.log'), 'utf8').slice(killedAt);
    assert.ok(upstreamsIn(afterKill).has(`127.0.0.1:${apiB}`));
    for (const p of [serve[1]!, ...workers]) assert.equal(p.child.exitCode, null, `${p.name} is still running:\n${p.output()}`);
    const health = await tls(`${base}/healthz`);
    assert.equal(health.status, 200);
    const requestId = health.headers.get('x-request-id') ?? '';
    assert.match(requestId, /^[0-9a-f]{32}$/, 'nginx gives the request id the platform logs and echoes');
    // nginx writes the access log after the response has gone out: the line may land a moment after we read it.
    await eventually(async () => assert.ok(readFileSync(join(dir, 'access.log'), 'utf8').includes(requestId)), 5_000);

    // 6. Metrics: on each process's own loopback port (MDL_METRICS_HOST from the env file), never through nginx.
    assert.equal(env.MDL_METRICS_HOST, '127.0.0.1');
    for (const path of ['/metrics', '/metrics?x=1']) {
      const viaNginx = await tls(`${base}${path}`);
      assert.equal(viaNginx.status, 404, `nginx ${path}`);
      assert.doesNotMatch(await viaNginx.text(), /mdl_|nodejs_|process_/);
    }
    const direct = await fetch(`http://127.0.0.1:${apiB}/metrics`);
    assert.equal(direct.status, 404, 'the API port itself serves no metrics');
    await direct.text();
    const scrape = async (port: number) => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(res.status, 200, `metrics on ${port}`);
      return res.text();
    };
    const served = await scrape(10000 + apiB);
    assert.ok(value(served, 'mdl_interface_requests_total{code="ORG_MDL_002",resp_code="000000"}') > 0, served.slice(0, 2000));
    assert.ok(value(served, 'mdl_interface_duration_seconds_count{code="ORG_MDL_002"}') > 0);
    assert.ok(value(served, 'mdl_db_pool_connections{state="max"}') >= 1);
    assert.ok(value(served, 'nodejs_heap_size_used_bytes') > 0);
    const workerTexts = await Promise.all([scrape(workerA), scrape(workerB)]);
    const delivered = workerTexts.reduce((n, t) => n + value(t, 'mdl_callback_attempts_total{outcome="delivered"}'), 0);
    assert.equal(delivered, 2, 'the two callbacks, delivered by the two workers between them');
    const processed = workerTexts.reduce((n, t) => n + value(t, 'mdl_batches_processed_total{outcome="done"}', 0), 0);
    assert.equal(processed, 2);
    for (const t of workerTexts) {
      assert.equal(value(t, 'mdl_job_queue_depth{queue="callback-deliver-v1",state="created"}'), 0);
      assert.ok(value(t, 'nodejs_eventloop_lag_seconds') >= 0);
      assert.equal(value(t, 'mdl_callbacks_failed'), 0);
    }
    passed = true;
    console.log(
      `deploy: ${calls.ok} queries under load (${calls.retried} retried by the client), one API process killed with SIGKILL, ${Date.now() - started} ms`,
    );
  });
});

/** One sample of Prometheus text by its exact series (name and labels as written); `absent` when missing, else it fails. */
function value(text: string, series: string, absent?: number): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) {
    if (absent !== undefined) return absent;
    throw new Error(`no ${series} in the metrics`);
  }
  return Number(line.slice(series.length + 1));
}

/** The upstream addresses in access-log lines written with the `upstream` format (nginx.ts). */
function upstreamsIn(log: string): Set<string> {
  const out = new Set<string>();
  for (const m of log.matchAll(/ upstream=([^ ]+(?:, [^ ]+)*) /g)) for (const a of m[1]!.split(', ')) out.add(a);
  return out;
}
