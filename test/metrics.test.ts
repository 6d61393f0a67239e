import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { before, describe, it } from 'node:test';
import pino from 'pino';
import {
  addInstitution,
  refreshItem,
  startMetricsListener,
  startTestPlatform,
  upsertInstitution,
  type TestInstitution,
  type TestPlatform,
} from '@mdl/platform/testing';
import { call } from './support/client.js';
import { TestHospital } from './support/hospital.js';
import { eventually, residentId } from './support/people.js';
import { reportItem, reportOverdue } from './support/report.js';
import { suiteScope } from './support/scope.js';

/** The value of one sample in Prometheus text, or undefined when the series is absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/**
 * Issue #16 item 2 over real HTTP: after report → callback (one failed attempt, then delivered; another batch's
 * callback dead-lettered) → query → ORG_001 refresh, the metrics listener (its own port) shows the figures, the
 * public port shows none, every interface call logs one line with its request id, and the jobs and outbound calls
 * carry that id.
 */
describe('metrics listener, request log and request id in jobs', () => {
  let t: TestPlatform;
  let base: string;
  let metricsUrl: string;
  let inst: TestInstitution;
  let hospital: TestHospital;
  let deadHospital: TestHospital;
  const lines: Record<string, unknown>[] = [];
  const scope = suiteScope();
  const idNo = residentId('350102', '19850203', 7);

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
        done();
      },
    });
    // One retry, so that the dead-letter case takes a second, not minutes.
    t = scope.add(
      await startTestPlatform(
        { metricsPort: 0, callbackRetryLimit: 1, reminderCron: '', reconcileCron: '' },
        { log: pino({ level: 'info' }, sink) },
      ),
      (t) => t.close(),
    );
    base = await t.listen();
    const listener = scope.add((await startMetricsListener(t.platform))!, (l) => l.close());
    metricsUrl = listener.url;
    inst = await addInstitution(t.platform, 'H35010200071', { orgName: '指标测试医院' });
    hospital = new TestHospital(inst.appId, inst.secret);
    deadHospital = new TestHospital(inst.appId, inst.secret);
    await scope.add(hospital, (h) => h.stop()).start();
    await scope.add(deadHospital, (h) => h.stop()).start();
    await upsertInstitution(t.platform.db, {
      orgId: inst.orgId,
      orgName: inst.orgName,
      notifyHosts: ['127.0.0.1'],
      endpointUrl: hospital.url,
    });
  });

  const report = (orgRequestId: string, notifyUrl: string, orgTraceId: string) =>
    reportOverdue(base, inst, orgRequestId, notifyUrl, [
      {
        idNo,
        idType: '01',
        userName: '陈指标',
        ehealthCardId: '',
        userType: '02',
        itemList: [reportItem(orgTraceId, { amount: '12.00' })],
      },
    ]);

  it('listens on its own port, loopback, and the public port serves no metrics', async () => {
    const url = new URL(metricsUrl);
    assert.equal(url.hostname, '127.0.0.1');
    assert.notEqual(url.port, new URL(base).port);
    const pub = await fetch(`${base}/metrics`);
    assert.equal(pub.status, 404);
    assert.doesNotMatch(await pub.text(), /mdl_|nodejs_/);
    const other = await fetch(new URL('/console', metricsUrl));
    assert.equal(other.status, 404, 'the metrics listener serves nothing but /metrics');
  });

  it('carries the request id from the call into the jobs, the callback and the outbound calls', async () => {
    hospital.failNext = 1; // the first attempt gets HTTP 500, the retry is delivered
    const r = await report('M-R1', `${hospital.url}/umdl/callback`, 'M-1');
    assert.equal(r.respCode, '000000', r.respMsg);
    const requestId = r.requestId!;
    assert.ok(requestId);
    const [cb] = await hospital.waitForCallbacks(1, 30_000);
    assert.equal(cb!.extData?.orgRequestId, 'M-R1');
    // Both attempts (the refused one and the delivered one) sent the request id to the hospital.
    assert.deepEqual(hospital.requestIds, [requestId, requestId]);

    const logged = (msg: string) => lines.filter((l) => l.msg === msg);
    const callLine = logged('interface call').find((l) => l.requestId === requestId)!;
    assert.equal(callLine.level, 30, 'info level');
    assert.equal(callLine.appId, inst.appId);
    assert.equal(callLine.code, 'ORG_MDL_001');
    assert.equal(callLine.respCode, '000000');
    assert.equal(typeof callLine.durationMs, 'number');
    assert.equal(logged('interface call').filter((l) => l.requestId === requestId).length, 1, 'one line per call');
    await eventually(async () => assert.ok(logged('callback').some((l) => l.requestId === requestId && l.outcome === 'delivered')));
    assert.ok(
      logged('batch processed').some((l) => l.requestId === requestId),
      'the batch job carried the request id',
    );
    assert.ok(logged('callback not delivered').some((l) => l.requestId === requestId));
    const outbound = logged('outbound call').filter((l) => l.requestId === requestId);
    assert.deepEqual(
      outbound.map((l) => l.ok),
      [false, true],
    );

    // Stored too: in the queued jobs' data, the callback attempts and the audit of each outbound attempt.
    const jobs = await t.platform.database.executeSql(
      `SELECT name, data->>'requestId' AS rid FROM "${t.platform.jobs.schema}".job WHERE data->>'batchId' IS NOT NULL ORDER BY created_on`,
      [],
    );
    assert.deepEqual(
      jobs.rows.map((j) => [j.name, j.rid]),
      [
        ['batch-process-v1', requestId],
        ['callback-deliver-v1', requestId],
      ],
    );
    const attempts = await t.platform.db.selectFrom('callback_attempt').select(['outcome', 'request_id']).orderBy('attempt').execute();
    assert.deepEqual(
      attempts.map((a) => [a.outcome, a.request_id]),
      [
        ['error', requestId],
        ['delivered', requestId],
      ],
    );
    const audited = await t.platform.db.selectFrom('audit_event').select(['request_id']).where('action', '=', 'callback.deliver').execute();
    assert.deepEqual(
      audited.map((a) => a.request_id),
      [requestId, requestId],
    );

    // A query and a refused call each log their line too.
    const q = await call(base, '/qmdl/queryReportResult', inst.appId, inst.secret, { orgId: inst.orgId, orgRequestId: 'M-R1' });
    assert.equal(q.respCode, '000000', q.respMsg);
    // An unknown appId gets an unsigned -8 (nothing to verify it with): read it as it is.
    const refusedRes = await fetch(`${base}/qmdl/queryReportResult`, {
      method: 'POST',
      body: JSON.stringify({ appId: 'no-such-app', timestamp: String(Date.now()), version: '1.0', encryptType: 'SM4', signType: 'SM3' }),
    });
    const refused = {
      respCode: ((await refusedRes.json()) as { respCode: string }).respCode,
      requestId: refusedRes.headers.get('x-request-id'),
    };
    assert.equal(refused.respCode, '-8');
    for (const [rid, respCode] of [
      [q.requestId, '000000'],
      [refused.requestId, '-8'],
    ] as const) {
      const l = logged('interface call').find((x) => x.requestId === rid);
      assert.equal(l?.respCode, respCode);
      assert.equal(l?.code, 'ORG_MDL_005');
    }

    // ORG_001 asked for a citizen's request: the hospital sees that request's id.
    const item = await t.platform.db.selectFrom('arrears_item').select('id').where('org_trace_id', '=', 'M-1').executeTakeFirstOrThrow();
    const refreshed = await refreshItem(t.platform, { itemId: item.id, actor: 'platform', requestId: 'citizen-req-1' });
    assert.equal(refreshed.kind, 'unpaid');
    assert.equal(hospital.requestIds.at(-1), 'citizen-req-1');
    // An id that could break a header or a log line is not sent on; the call itself goes ahead.
    const odd = await refreshItem(t.platform, { itemId: item.id, actor: 'platform', requestId: 'x\r\nX-Injected: 1' });
    assert.equal(odd.kind, 'unpaid');
    assert.equal(hospital.requestIds.at(-1), undefined);
  });

  it('dead-letters a callback the hospital never accepts, with its request id', async () => {
    deadHospital.failNext = 1000;
    const r = await report('M-R2', `${deadHospital.url}/umdl/callback`, 'M-2');
    assert.equal(r.respCode, '000000', r.respMsg);
    await eventually(async () => {
      const b = await t.platform.db
        .selectFrom('batch')
        .select('callback_status')
        .where('org_request_id', '=', 'M-R2')
        .executeTakeFirstOrThrow();
      assert.equal(b.callback_status, 'failed');
    }, 30_000);
    assert.ok(lines.some((l) => l.msg === 'callback gave up after its retries' && l.requestId === r.requestId));
    assert.deepEqual(deadHospital.requestIds, [r.requestId, r.requestId]);
  });

  it('shows the figures on the metrics port after the flow', async () => {
    const res = await fetch(metricsUrl);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    // Per interface, by response code; latency histograms by interface.
    assert.equal(sample(text, 'mdl_interface_requests_total', { code: 'ORG_MDL_001', resp_code: '000000' }), 2);
    assert.equal(sample(text, 'mdl_interface_requests_total', { code: 'ORG_MDL_005', resp_code: '000000' }), 1);
    assert.equal(sample(text, 'mdl_interface_requests_total', { code: 'ORG_MDL_005', resp_code: '-8' }), 1);
    assert.equal(sample(text, 'mdl_interface_duration_seconds_count', { code: 'ORG_MDL_001' }), 2);
    assert.equal(sample(text, 'mdl_interface_duration_seconds_bucket', { code: 'ORG_MDL_005', le: '+Inf' }), 2);
    assert.ok(sample(text, 'mdl_interface_duration_seconds_sum', { code: 'ORG_MDL_001' })! > 0);
    // Callbacks by outcome, dead letters, failed callbacks, batches, refreshes.
    assert.equal(sample(text, 'mdl_callback_attempts_total', { outcome: 'delivered' }), 1);
    assert.equal(sample(text, 'mdl_callback_attempts_total', { outcome: 'error' }), 3);
    assert.equal(sample(text, 'mdl_callback_attempts_total', { outcome: 'refused' }), 0);
    assert.equal(sample(text, 'mdl_dead_letters_total', { queue: 'callback-dead-v1' }), 1);
    assert.equal(sample(text, 'mdl_callbacks_failed'), 1);
    assert.equal(sample(text, 'mdl_batches_processed_total', { outcome: 'done' }), 2);
    assert.equal(sample(text, 'mdl_item_refreshes_total', { outcome: 'unpaid' }), 2);
    // Queues (depth by state and age of the oldest runnable job), every queue listed.
    assert.equal(sample(text, 'mdl_job_queue_depth', { queue: 'callback-deliver-v1', state: 'created' }), 0);
    assert.equal(sample(text, 'mdl_job_queue_depth', { queue: 'batch-process-v1', state: 'retry' }), 0);
    assert.equal(sample(text, 'mdl_job_oldest_ready_seconds', { queue: 'batch-process-v1' }), 0);
    assert.notEqual(sample(text, 'mdl_job_queue_depth', { queue: 'reminder-push-v1', state: 'active' }), undefined);
    // Database pool and the process.
    assert.ok(sample(text, 'mdl_db_pool_connections', { state: 'max' })! >= 1);
    assert.ok(sample(text, 'mdl_db_pool_connections', { state: 'open' })! >= 1);
    assert.notEqual(sample(text, 'mdl_db_pool_waiting'), undefined);
    assert.ok(sample(text, 'nodejs_heap_size_used_bytes')! > 0);
    assert.notEqual(sample(text, 'nodejs_eventloop_lag_seconds'), undefined);
    assert.ok(sample(text, 'process_cpu_user_seconds_total')! > 0);
    assert.equal(sample(text, 'mdl_metrics_collect_errors_total'), 0);
    // The shipped alert rules only name figures that exist.
    const families = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const rules = readFileSync(join(import.meta.dirname, '..', '..', 'deploy', 'prometheus', 'mdl-alerts.yml'), 'utf8');
    const named = new Set([...rules.matchAll(/\b((?:mdl|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, '')));
    assert.ok(named.size >= 8);
    for (const name of named) assert.ok(families.has(name), `deploy/prometheus/mdl-alerts.yml names ${name}, which is not exposed`);
  });

  it('counts a waiting job and its age, read when scraped', async () => {
    // A queue that no worker serves, holding one job that could have run a minute ago.
    await t.platform.jobs.boss.createQueue('metrics-test-v1');
    await t.platform.jobs.boss.send('metrics-test-v1', { requestId: 'x' }, { startAfter: new Date(Date.now() - 60_000) });
    await t.platform.jobs.boss.send('metrics-test-v1', { requestId: 'y' }, { startAfter: new Date(Date.now() + 3600_000) });
    const text = await (await fetch(metricsUrl)).text();
    assert.equal(sample(text, 'mdl_job_queue_depth', { queue: 'metrics-test-v1', state: 'created' }), 2);
    const age = sample(text, 'mdl_job_oldest_ready_seconds', { queue: 'metrics-test-v1' })!;
    assert.ok(age >= 59 && age < 3600, `the oldest runnable job waited ${age} s; the deferred one does not count`);
  });
});
