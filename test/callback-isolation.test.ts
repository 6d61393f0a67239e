import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { before, describe, it } from 'node:test';
import type { TestInstitution } from '@mdl/platform/testing';
import type { TestHospital } from './support/hospital.js';
import { anonymousPatient, eventually } from './support/people.js';
import { reportItem, reportOverdue } from './support/report.js';
import { suiteScope } from './support/scope.js';
import { startWithHospital } from './support/suite.js';

/**
 * One hospital's callback URL accepts the connection and never answers (broken, or hostile): each delivery to it
 * holds a worker until the callback time-out. Deliveries to other hospitals must not wait behind it. With
 * callbacks fetched several at a time, a worker is free only when the slowest of its jobs is done, and a few such
 * URLs would stall every hospital's callbacks; one job per worker keeps them apart (jobs/workers.ts).
 */
describe('a hospital whose callback URL never answers holds up no other hospital', () => {
  const scope = suiteScope();
  let base = '';
  let good: TestInstitution;
  let bad: TestInstitution;
  let hospital: TestHospital;
  let hangingUrl = '';
  const held = { arrived: 0, open: 0 };

  before(async () => {
    // The time-out is long enough that every assertion below runs while the nine deliveries are still held.
    const suite = await startWithHospital(
      scope,
      [
        { orgId: 'H35010200001', orgName: '福州市第一医院' },
        { orgId: 'H35010200002', orgName: '福州市第二医院' },
      ],
      { callbackTimeoutMs: 30_000 },
    );
    ({ base, hospital } = suite);
    [good, bad] = suite.insts;
    const server: Server = createServer((req) => {
      held.arrived++;
      held.open++;
      req.socket.once('close', () => held.open--);
      req.resume(); // read the request, answer nothing
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    scope.add(server, (s) => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r()))));
    hangingUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/umdl/callback`;
  });

  const report = (inst: TestInstitution, orgRequestId: string, notifyUrl: string) =>
    reportOverdue(base, inst, orgRequestId, notifyUrl, [anonymousPatient([reportItem(`${orgRequestId}-1`, { amount: '10' })])]);

  it('nine deliveries held by one hospital: another hospital still gets its callbacks at once', async () => {
    for (let i = 0; i < 9; i++) assert.equal((await report(bad, `HANG-${i}`, hangingUrl)).respCode, '000000');
    await eventually(async () => assert.equal(held.arrived, 9, 'all nine deliveries are waiting on the silent hospital'), 20_000);

    for (let i = 0; i < 3; i++) {
      assert.equal((await report(good, `GOOD-${i}`, `${hospital.url}/umdl/callback`)).respCode, '000000');
    }
    const got = await hospital.waitForCallbacks(3, 20_000);
    assert.deepEqual(got.map((c) => c.extData?.orgRequestId).sort(), ['GOOD-0', 'GOOD-1', 'GOOD-2']);
    assert.equal(held.open, 9, 'delivered while all nine were still held, not after a time-out freed a worker');
  });
});
