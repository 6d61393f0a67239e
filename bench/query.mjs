// Phase (a): ORG_MDL_002 fully signed and encrypted vs a plain Fastify echo route, same machine, same run.
import { openReply, sealRequest } from '@mdl/protocol';
import { cpuSnapshot, cpuUsage, fmt, loadAverage, log, personAt } from './common.mjs';
import { runLoad } from './httpload.mjs';

export const QUERY_PATH = '/qmdl/queryOverdueData';

/**
 * Sealed ORG_MDL_002 requests for distinct random persons (distinct payloads, so no two requests share
 * a signature and none is taken for a replay). Built before the clock starts; if the run outlasts the
 * pool, more are sealed on the fly and counted.
 */
/**
 * Who is asked about. The loader gives person #i (i % 7) items, so i % 7 = 0 is a person with a card and no
 * arrears. 'worst' asks only about persons with items (the headline); 'mix' is a booking day as hospitals see
 * it: 80 % persons with no arrears, 20 % with items.
 */
function pickPerson(mix, persons) {
  const i = Math.floor(Math.random() * persons);
  const clean = mix === 'mix' && Math.random() < 0.8;
  if (clean) return i - (i % 7);
  return i % 7 === 0 ? Math.min(persons - 1, i + 1 + Math.floor(Math.random() * 6)) : i;
}

export function requestPool(inst, persons, size, mix = 'worst') {
  const t = Date.now();
  // Person → the last timestamp sealed for them. A pool larger than the population asks about some persons twice,
  // and two requests for one person sealed in the same millisecond are the same request: the platform rightly
  // refuses the second as a replay. So a repeat gets a later timestamp than the person's last one.
  const seen = new Map();
  const bodies = [];
  const make = () => {
    let i;
    let tries = 0;
    do i = pickPerson(mix, persons);
    while (seen.has(i) && ++tries < 20);
    const timestamp = Math.max(Date.now(), (seen.get(i) ?? 0) + 1);
    seen.set(i, timestamp);
    const x = personAt(i);
    const payload = {
      orgId: inst.orgId,
      businessType: '01101',
      idNo: x.idNo,
      idType: '01',
      userName: x.userName,
      ehealthCardId: x.ehealthCardId,
    };
    return Buffer.from(JSON.stringify(sealRequest(payload, { appId: inst.appId, secret: inst.secret, timestamp: String(timestamp) })));
  };
  for (let k = 0; k < size; k++) bodies.push(make());
  log(`query: sealed ${fmt(size)} ORG_MDL_002 requests (${mix}) in ${fmt((Date.now() - t) / 1000, 1)} s`);
  let at = 0;
  const pool = {
    extra: 0,
    next() {
      if (at < bodies.length) return bodies[at++];
      pool.extra++;
      return make();
    },
  };
  return pool;
}

/** A reply counts as a success only with respCode 000000; every 50th is fully opened and verified. */
export function queryCheck(inst) {
  let n = 0;
  return (_status, body) => {
    const env = JSON.parse(body.toString('utf8'));
    if (env.respCode !== '000000') return false;
    if (n++ % 50 === 0) {
      const r = openReply(env, inst.secret, { allowPlain: false });
      if (r.respCode !== '000000' || (r.payload?.next !== '0' && r.payload?.next !== '1')) return false;
    }
    return true;
  };
}

export async function measureQuery({
  port,
  inst,
  persons,
  connections,
  warmupMs,
  durationMs,
  expectedRps = 4000,
  roles = new Map(),
  mix = 'worst',
  rate,
}) {
  const pool = requestPool(inst, persons, Math.ceil(((warmupMs + durationMs) / 1000) * expectedRps * 1.2), mix);
  const check = queryCheck(inst);
  const how = rate ? `at a fixed ${fmt(rate)} req/s over ${connections} connections` : `at ${connections} connections`;
  log(`query: ORG_MDL_002 (${mix}) warm-up ${warmupMs / 1000} s ${how}`);
  const warm = await runLoad({ port, path: QUERY_PATH, connections, durationMs: warmupMs, nextBody: pool.next, check, rate });
  log(`query: warm-up ${fmt(warm.rps)} req/s, ${warm.errors} errors`);
  const load0 = loadAverage();
  const c0 = cpuSnapshot();
  const r = await runLoad({ port, path: QUERY_PATH, connections, durationMs, nextBody: pool.next, check, rate });
  r.cpu = cpuUsage(c0, cpuSnapshot(), roles);
  r.loadAverage = `${load0} → ${loadAverage()}`;
  log(`query: CPU in cores ${JSON.stringify(r.cpu)}; load average ${r.loadAverage}`);
  log(
    `query: ORG_MDL_002 (${mix}${rate ? `, fixed rate ${fmt(rate)}/s` : ''}) ${fmt(r.rps)} req/s  p50 ${fmt(r.p50, 2)} ms  p99 ${fmt(r.p99, 2)} ms  errors ${r.errors}${r.firstErrors.length ? ' e.g. ' + r.firstErrors[0] : ''}`,
  );
  return { ...r, sealedOnTheFly: pool.extra };
}
