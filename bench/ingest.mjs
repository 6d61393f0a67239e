// Phase (b): N concurrent test hospitals report items in 100-item ORG_MDL_001 batches; the platform
// processes them with its job workers and calls each hospital's ORG_002 endpoint back. The clock runs
// from the first report sent until the last callback arrived.
import { performance } from 'node:perf_hooks';
import { setInterval, clearInterval } from 'node:timers';
import { createServer } from 'node:http';
import { checkSignature, extractPayload, openReply, sealRequest, sealResponse } from '@mdl/protocol';
import { addInstitution } from '@mdl/platform/testing';
import { sql } from 'kysely';
import { chinaTime, cpuSnapshot, cpuUsage, fmt, loadAverage, log, personAt } from './common.mjs';

const ITEMS_PER_BATCH = 100;
const ITEMS_PER_PERSON = 4;

/** A hospital's ORG_002 endpoint: verifies the platform's envelope, counts what it is told, says success. */
function callbackServer(inst, totals) {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const send = (obj) => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify(obj));
      };
      try {
        const env = JSON.parse(body);
        const opened = extractPayload(env, inst.secret, { allowPlain: false, payloadRequired: true });
        checkSignature(env, opened, inst.secret, false);
        const p = opened.payload;
        const key = `${p.orgId}/${p.extData?.orgRequestId}`;
        if (!totals.seenBatches.has(key)) {
          totals.seenBatches.add(key);
          totals.callbacks++;
          for (const person of p.reportResultList ?? []) {
            totals.items += person.itemList.length;
            totals.withTraceId += person.itemList.filter((i) => i.traceId).length;
          }
          totals.accepted += Number(p.extData?.accepted ?? 0);
          totals.rejected += Number(p.extData?.rejected ?? 0);
          totals.lastAt = performance.now();
          totals.wake?.();
        } else totals.duplicates++;
        send(sealResponse({ state: 'success', msg: '' }, { appId: inst.appId, secret: inst.secret, respCode: '000000' }));
      } catch {
        totals.refused++;
        send(sealResponse(undefined, { appId: inst.appId, secret: inst.secret, respCode: '000102' }));
      }
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r(server)));
}

function batchPayload(inst, notifyUrl, h, b, persons, run) {
  const unsettleList = [];
  const nPersons = ITEMS_PER_BATCH / ITEMS_PER_PERSON;
  for (let n = 0; n < nPersons; n++) {
    const itemList = Array.from({ length: ITEMS_PER_PERSON }, (_, k) => ({
      orgTraceId: `${inst.orgId}-${b}-${n}-${k}`,
      medType: '11',
      feeType: '01',
      itemName: '诊查费',
      amount: `${10 + ((b * 7 + n * 3 + k) % 490)}.${String((n * 13 + k) % 100).padStart(2, '0')}`,
      actualTime: chinaTime(((b + n + k) % 30) * 86_400_000 + 3600_000),
    }));
    if (n === nPersons - 1) {
      // One non-real-name patient per batch (guide §1.2.2): no card, visible to this hospital only.
      unsettleList.push({ idNo: '', idType: '', userName: '', ehealthCardId: '', userType: '01', itemList });
      continue;
    }
    // Each run reports other persons (a new day's patients), so that a second run, or a run on a kept data set,
    // does not find the first run's persons and index pages already in PostgreSQL's cache.
    const x = personAt((((h * 1_000_003 + b * 7919 + n * 104_729 + (Number(run) % persons) * 15_485_863) % persons) + persons) % persons);
    unsettleList.push({
      idNo: x.idNo,
      idType: '01',
      userName: x.userName,
      ehealthCardId: x.ehealthCardId,
      mobilePhone: x.phone,
      userType: '02',
      itemList,
    });
  }
  return { orgId: inst.orgId, orgName: inst.orgName, notifyUrl, orgRequestId: `B${b}`, unsettleList };
}

export async function measureIngest({ admin, port, run, hospitals, totalItems, persons, timeoutMs, procMem, roles = new Map() }) {
  const base = `http://127.0.0.1:${port}`;
  const batchesPerHospital = Math.ceil(totalItems / hospitals / ITEMS_PER_BATCH);
  const expected = batchesPerHospital * hospitals * ITEMS_PER_BATCH;
  const totals = {
    callbacks: 0,
    items: 0,
    withTraceId: 0,
    accepted: 0,
    rejected: 0,
    duplicates: 0,
    refused: 0,
    lastAt: 0,
    seenBatches: new Set(),
    wake: undefined,
  };
  const hs = [];
  for (let h = 0; h < hospitals; h++) {
    const orgId = `H${run}${String(h).padStart(2, '0')}`;
    // The callback server needs the credential to check envelopes, the institution needs the server's port
    // (a production deployment calls only registered ports): the holder is filled in between.
    const holder = {};
    const server = await callbackServer(holder, totals);
    const inst = await addInstitution(admin, orgId, { orgName: `压测医院${run}-${h}`, ports: [server.address().port] });
    Object.assign(holder, inst);
    hs.push({ inst, server, notifyUrl: `http://127.0.0.1:${server.address().port}/umdl/callback` });
  }
  log(`ingest: ${hospitals} hospitals × ${batchesPerHospital} batches × ${ITEMS_PER_BATCH} items = ${fmt(expected)} items`);

  let reported = 0;
  let reportErrors = 0;
  const firstErrors = [];
  const load0 = loadAverage();
  const c0 = cpuSnapshot();
  const started = performance.now();
  let submittedAt = 0;
  const progress = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    const m = procMem();
    log(
      `ingest: ${fmt(s, 0)} s  reported ${fmt(reported)}/${fmt(batchesPerHospital * hospitals)} batches  callbacks ${fmt(totals.callbacks)}  items called back ${fmt(totals.items)} (${fmt(totals.items / s)}/s)  server RSS ${fmt(m.rssMb)} MB`,
    );
  }, 5000);

  const hospitalLoop = async (h) => {
    const { inst, notifyUrl } = hs[h];
    for (let b = 0; b < batchesPerHospital; b++) {
      const payload = batchPayload(inst, notifyUrl, h, b, persons, run);
      const env = sealRequest(payload, { appId: inst.appId, secret: inst.secret });
      try {
        const res = await fetch(`${base}/umdl/reportOverdueData`, {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8', 'x-api-sign-version': '2.0.0' },
          body: JSON.stringify(env),
        });
        const reply = openReply(await res.json(), inst.secret, { allowPlain: false });
        if (reply.respCode !== '000000' || reply.payload?.state !== 'success') throw new Error(`${reply.respCode} ${reply.respMsg}`);
        reported++;
      } catch (e) {
        reportErrors++;
        if (firstErrors.length < 5) firstErrors.push(String(e));
      }
    }
  };
  await Promise.all(hs.map((_, h) => hospitalLoop(h)));
  submittedAt = performance.now();
  log(
    `ingest: all ${fmt(reported)} batches accepted in ${fmt((submittedAt - started) / 1000, 1)} s (${reportErrors} refused${firstErrors[0] ? ', e.g. ' + firstErrors[0] : ''}); waiting for callbacks`,
  );

  const deadline = started + timeoutMs;
  while (totals.callbacks < reported && performance.now() < deadline) {
    await new Promise((r) => {
      const t = setTimeout(r, 1000);
      totals.wake = () => {
        clearTimeout(t);
        r();
      };
    });
  }
  clearInterval(progress);
  const cpu = cpuUsage(c0, cpuSnapshot(), roles);
  const loadAvg = `${load0} → ${loadAverage()}`;
  log(`ingest: CPU in cores ${JSON.stringify(cpu)}; load average ${loadAvg}`);
  const doneAt = totals.lastAt || performance.now();
  const timedOut = totals.callbacks < reported;
  const seconds = (doneAt - started) / 1000;

  // Every item accounted for: in the ledger, and in the callbacks.
  const orgs = hs.map((x) => x.inst.orgId);
  const db = admin.db;
  const inLedger = await sql`SELECT count(*)::int AS n FROM arrears_item WHERE org_id = ANY(${orgs})`.execute(db);
  // The platform records a delivery after the hospital has answered, so the last few callbacks may still be on
  // their way into the ledger when the last one arrives: the records get up to 10 s (the clock has stopped).
  const statusOf = () =>
    sql`SELECT callback_status, count(*)::int AS n, sum(callback_attempts)::int AS attempts FROM batch WHERE org_id = ANY(${orgs}) GROUP BY 1`.execute(
      db,
    );
  let batches = await statusOf();
  for (let waited = 0; !timedOut && waited < 10_000; waited += 100) {
    if (batches.rows.find((r) => r.callback_status === 'delivered')?.n === batchesPerHospital * hospitals) break;
    await new Promise((r) => setTimeout(r, 100));
    batches = await statusOf();
  }
  const byStatus = Object.fromEntries(batches.rows.map((r) => [r.callback_status, r.n]));
  const attempts = batches.rows.reduce((s, r) => s + r.attempts, 0);
  await Promise.all(hs.map((x) => new Promise((r) => x.server.close(r))));
  const result = {
    hospitals,
    batches: batchesPerHospital * hospitals,
    expected,
    reported,
    reportErrors,
    firstErrors,
    seconds,
    submitSeconds: (submittedAt - started) / 1000,
    itemsPerSecond: totals.items / seconds,
    callbacks: totals.callbacks,
    callbackItems: totals.items,
    callbackItemsWithTraceId: totals.withTraceId,
    callbackAccepted: totals.accepted,
    callbackRejected: totals.rejected,
    duplicateCallbacks: totals.duplicates,
    refusedCallbacks: totals.refused,
    ledgerItems: inLedger.rows[0].n,
    batchesByCallbackStatus: byStatus,
    callbackAttempts: attempts,
    timedOut,
    cpu,
    loadAverage: loadAvg,
  };
  result.allAccounted =
    !timedOut &&
    result.ledgerItems === expected &&
    result.callbackItems === expected &&
    result.callbackAccepted === expected &&
    byStatus.delivered === result.batches;
  log(
    `ingest: ${fmt(result.callbackItems)} items called back in ${fmt(seconds, 1)} s = ${fmt(result.itemsPerSecond)} items/s; ledger ${fmt(result.ledgerItems)}; accepted ${fmt(result.callbackAccepted)}; all accounted: ${result.allAccounted}`,
  );
  return result;
}
