import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openRequest, sealResponse } from '@mdl/protocol';
import {
  createApp,
  refreshItem,
  isQuietHour,
  pushReminder,
  quietHoursEnd,
  runReminderScan,
  reminderEnqueuer,
  startTestPlatform,
  type TestPlatform,
} from '@mdl/platform/testing';
import { addSite, itemId, registerPatient, report, type Patient, type Site } from './support/citizen.js';
import { eventually, residentId } from './support/people.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
/** 2026-11-30 10:00 China time. */
const DAY0 = Date.UTC(2026, 10, 30, 2, 0, 0);

describe('reminders: who gets one and who does not (outbox adapter)', () => {
  let t: TestPlatform;
  let base: string;
  let site: Site;
  let alice: Patient;
  let bob: Patient;
  let carol: Patient;
  const scan = (now: number) => runReminderScan(t.platform, now, reminderEnqueuer(t.platform));
  const remindersOf = async (p: Patient) =>
    t.platform.db
      .selectFrom('reminder')
      .selectAll()
      .where('subject_bidx', '=', t.platform.vault.personKey('01', p.idNo))
      .orderBy('id')
      .execute();

  before(async () => {
    t = await startTestPlatform({ reminderCron: '', reconcileCron: '' });
    base = await t.listen();
    site = await addSite(t, 'H35010200001', '福州市第一医院');
    alice = await registerPatient(base, site, residentId('350102', '19900307', 123), '林晓梅', 'P-A');
    bob = await registerPatient(base, site, residentId('350203', '19851112', 456), '陈建国', 'P-B');
    carol = await registerPatient(base, site, residentId('350503', '20010520', 789), '黄丽华', 'P-C');
  });
  after(async () => {
    await site?.hospital.stop();
    await t?.close();
  });

  it('knows the quiet hours in China time', () => {
    assert.equal(isQuietHour(DAY0), false);
    assert.equal(isQuietHour(DAY0 + 11 * HOUR - 1), false, '20:59:59');
    assert.equal(isQuietHour(DAY0 + 11 * HOUR), true, '21:00');
    assert.equal(isQuietHour(DAY0 + 22 * HOUR - 1), true, '07:59:59');
    assert.equal(isQuietHour(DAY0 + 22 * HOUR), false, '08:00');
    // A push retry landing in the quiet hours waits until 08:00 China time.
    assert.equal(quietHoursEnd(DAY0 + 12 * HOUR).getTime(), DAY0 + 22 * HOUR, '22:00 → next 08:00');
    assert.equal(quietHoursEnd(DAY0 + 17 * HOUR).getTime(), DAY0 + 22 * HOUR, '03:00 → same-day 08:00');
  });

  it('carol was reminded three days before', async () => {
    await report(base, site, 'R-C', [{ patient: carol, items: [{ orgTraceId: 'C1', itemName: '诊查费', amount: '30.00', daysAgo: 1 }] }]);
    const r = await scan(DAY0 - 3 * DAY);
    assert.equal(r.created.length, 1);
    const [c] = await remindersOf(carol);
    assert.equal(c!.channel, 'outbox');
    assert.equal(c!.status, 'sent');
    assert.equal(c!.total_fen, 3000);
    assert.match(c!.message, /福州市第一医院.*1 笔.*30\.00 元/);
    assert.ok(c!.link.endsWith('/mdr/'));
    assert.ok(!c!.message.includes(carol.userName) && !c!.message.includes(carol.idNo), 'no personal data in the message');
  });

  it('nobody is reminded in the quiet hours', async () => {
    await report(base, site, 'R-AB', [
      {
        patient: alice,
        items: [
          { orgTraceId: 'A1', itemName: '诊查费', amount: '25.00', daysAgo: 1 },
          { orgTraceId: 'A2', itemName: '检查费', amount: '100.50', daysAgo: 1 },
        ],
      },
      { patient: bob, items: [{ orgTraceId: 'B1', itemName: '诊查费', amount: '18.00', daysAgo: 1 }] },
    ]);
    for (const at of [DAY0 - 3 * HOUR, DAY0 - 12 * HOUR, DAY0 + 12 * HOUR]) {
      const r = await scan(at);
      assert.equal(r.quiet, true);
      assert.deepEqual(r.created, []);
    }
  });

  it('two workers scanning at once: alice once, bob not (settled), carol not (3 days ago)', async () => {
    site.hospital.states.set('B1', '1');
    assert.equal((await refreshItem(t.platform, { itemId: await itemId(t, site.inst.orgId, 'B1'), actor: 'platform' })).kind, 'paid');
    const [w1, w2] = await Promise.all([scan(DAY0), scan(DAY0)]);
    assert.equal(w1!.created.length + w2!.created.length, 1, 'one reminder between the two workers');
    const a = await remindersOf(alice);
    assert.equal(a.length, 1);
    assert.equal(a[0]!.unpaid_count, 2);
    assert.equal(a[0]!.total_fen, 12550);
    assert.deepEqual(JSON.parse(a[0]!.org_summary), [{ orgId: site.inst.orgId, orgName: '福州市第一医院', count: 2, amountFen: 12550 }]);
    assert.equal((await remindersOf(bob)).length, 0);
    assert.equal((await remindersOf(carol)).length, 1);
  });

  it('seven days on, carol again and alice not; once settled, never', async () => {
    const r = await scan(DAY0 + 4 * DAY);
    assert.equal(r.created.length, 1);
    assert.equal((await remindersOf(carol)).length, 2);
    assert.equal((await remindersOf(alice)).length, 1);
    site.hospital.states.set('C1', '1');
    await refreshItem(t.platform, { itemId: await itemId(t, site.inst.orgId, 'C1'), actor: 'platform' });
    const [x, y, z] = await Promise.all([scan(DAY0 + 8 * DAY), scan(DAY0 + 8 * DAY), scan(DAY0 + 8 * DAY)]);
    assert.equal(x!.created.length + y!.created.length + z!.created.length, 1);
    assert.equal((await remindersOf(alice)).length, 2, 'alice: 8 days after the last one');
    assert.equal((await remindersOf(carol)).length, 2, 'carol settled: nothing more');
    assert.equal((await remindersOf(bob)).length, 0);
  });
});

describe('reminders through the HTTP push adapter (signed)', () => {
  let t: TestPlatform;
  let base: string;
  let site: Site;
  let alice: Patient;
  let server: Server;
  let fixed: number | undefined;
  const received: Record<string, unknown>[] = [];
  let failNext = 1;
  const PUSH_APP = 'APPMZTPUSH0000000000000000000001';
  let pushSecret = '';

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.statusCode = 500;
          return res.end('down');
        }
        // Opened as the receiving side of an interface opens a request (protocol's openRequest); tests keep their clock.
        const credential = { appId: PUSH_APP, secret: pushSecret, allowPlain: false };
        void openRequest(body, { credential: (id) => (id === PUSH_APP ? credential : undefined), now: Date.now(), toleranceMs: 0 }).then(
          (opened) => {
            res.setHeader('content-type', 'application/json');
            if (!opened.ok) return res.end(JSON.stringify({ respCode: opened.error.code, respMsg: opened.error.message }));
            received.push(opened.payload);
            res.end(JSON.stringify(sealResponse({ state: 'success' }, { appId: PUSH_APP, secret: pushSecret, respCode: '000000' })));
          },
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const pushUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/push`;
    t = await startTestPlatform(
      { reminderCron: '', reconcileCron: '', reminderPushUrl: pushUrl, reminderPushAppId: PUSH_APP },
      { now: () => fixed ?? Date.now() },
    );
    base = await t.listen();
    pushSecret = (await createApp(t.platform.db, t.platform.vault, { kind: 'channel', env: 'prod', appId: PUSH_APP, label: '闽政通推送' }))
      .secret;
    site = await addSite(t, 'H35010200001', '福州市第一医院');
    alice = await registerPatient(base, site, residentId('350102', '19900307', 123), '林晓梅', 'P-A');
    await report(base, site, 'R-1', [{ patient: alice, items: [{ orgTraceId: 'A1', itemName: '诊查费', amount: '25.00', daysAgo: 1 }] }]);
  });
  after(async () => {
    server?.close();
    await site?.hospital.stop();
    await t?.close();
  });

  it('queues a push, records a failed attempt, and sends it signed on the next try', async () => {
    fixed = DAY0;
    const r = await runReminderScan(t.platform, DAY0, reminderEnqueuer(t.platform));
    assert.equal(r.created.length, 1);
    const id = r.created[0]!;
    // The job ran once against an endpoint answering 500: recorded, still pending, retried later.
    const first = await eventually(async () => {
      const row = await t.platform.db.selectFrom('reminder').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
      assert.equal(row.attempts, 1);
      return row;
    });
    assert.equal(first.channel, 'http');
    assert.equal(first.status, 'pending');
    assert.match(first.last_error!, /HTTP 500/);
    // The retry (run here directly rather than waiting for the queue's backoff).
    assert.equal(await pushReminder(t.platform, id, DAY0 + HOUR), 'sent');
    const row = await t.platform.db.selectFrom('reminder').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.status, 'sent');
    assert.equal(row.attempts, 2);
    assert.equal(received.length, 1);
    const p = received[0]!;
    assert.equal(p.idNo, alice.idNo, 'the receiver can address the person (the payload travels SM4-encrypted)');
    assert.equal(p.unpaidTotal, '25.00');
    assert.deepEqual(p.orgList, [{ orgId: site.inst.orgId, orgName: '福州市第一医院', count: '1', amount: '25.00' }]);
    assert.equal(await pushReminder(t.platform, id, DAY0 + HOUR), 'skipped', 'a sent reminder is never sent again');
    const audits = await t.platform.db.selectFrom('audit_event').select('outcome').where('action', '=', 'reminder.push').execute();
    assert.deepEqual(audits.map((a) => a.outcome).sort(), ['error', 'ok']);
  });

  it('a pending push waits out the quiet hours and is dropped once the person has settled', async () => {
    await t.platform.db.deleteFrom('reminder_claim').execute();
    const r = await runReminderScan(t.platform, DAY0 + 9 * DAY, async () => undefined);
    const id = r.created[0]!;
    assert.equal(await pushReminder(t.platform, id, DAY0 + 9 * DAY + 12 * HOUR), 'deferred');
    fixed = undefined;
    site.hospital.states.set('A1', '1');
    await refreshItem(t.platform, { itemId: await itemId(t, site.inst.orgId, 'A1'), actor: 'platform' });
    assert.equal(await pushReminder(t.platform, id, DAY0 + 10 * DAY), 'cancelled');
    assert.equal(received.length, 1);
  });
});
