import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { UnsettledPerson } from '@mdl/protocol';
import { makePersons } from './testing/fixtures.js';
import { ConnectionError, InvalidRequestError, PermissionError, PlatformClient, RateLimitError, SignatureError } from './index.js';
import { type FakePlatform, startFakePlatform } from './testing/fake-platform.js';

const appId = 'HOSPAPP0001';
const secret = 'HospitalSecret-0123456789abcdefXYZ';
const org = { orgId: 'H35010200001', orgName: '福州市第一医院', notifyUrl: 'http://127.0.0.1:9/umdl/callback' };

describe('PlatformClient', () => {
  let fake: FakePlatform;
  let client: PlatformClient;
  before(async () => {
    fake = await startFakePlatform({ appId, secret, callbacks: false });
    client = new PlatformClient({ baseUrl: fake.url, appId, secret, retryBaseMs: 1, retryMaxMs: 5, timeoutMs: 2000 });
  });
  after(() => fake.close());

  const query = { businessType: '01101', idNo: '11010519491231002X', idType: '01', userName: '张三', ehealthCardId: 'C1' };

  it('gives every call its own timestamp, so identical calls in one millisecond are not one envelope (010010)', async () => {
    const stamps: string[] = [];
    const frozen = new PlatformClient({
      baseUrl: fake.url,
      appId,
      secret,
      now: () => 1_796_000_000_000,
      fetch: (url, init) => {
        stamps.push((JSON.parse(String(init?.body)) as { timestamp: string }).timestamp);
        return fetch(url, init);
      },
    });
    await Promise.all([frozen.queryOverdueData(query), frozen.queryOverdueData(query), frozen.queryOverdueData(query)]);
    assert.equal(new Set(stamps).size, 3, `three envelopes, three timestamps: ${stamps.join(', ')}`);
  });

  it('retries an HTTP 503 and then succeeds', async () => {
    fake.inject('/qmdl/queryOverdueData', { http: 503 });
    const before = fake.calls.length;
    const retries: number[] = [];
    const r = await client.queryOverdueData(query, { onRetry: (i) => retries.push(i.attempt) });
    assert.equal(r.next, '1');
    assert.deepEqual(retries, [1]);
    assert.equal(fake.calls.length - before, 1, 'the 503 never reached the business layer');
  });

  it('retries -6 (rate limited) and then succeeds', async () => {
    fake.inject('/qmdl/queryOverdueData', { respCode: '-6' }, { respCode: '-3' });
    const before = fake.calls.length;
    const r = await client.queryOverdueData(query);
    assert.equal(r.next, '1');
    assert.equal(fake.calls.length - before, 3);
  });

  it('retries 000002 (system error) with jittered backoff and then succeeds', async () => {
    const report = {
      ...org,
      orgRequestId: 'R-000002',
      unsettleList: makePersons(1, 1, 'E'),
    };
    fake.inject('/umdl/reportOverdueData', { respCode: '000002' }, { respCode: '000002' });
    const before = fake.calls.length;
    const retries: { attempt: number; delayMs: number; code: string }[] = [];
    const jittered = new PlatformClient({ baseUrl: fake.url, appId, secret, retryBaseMs: 100, retryMaxMs: 1000, sleep: async () => {} });
    const r = await jittered.reportOverdueData(report, {
      onRetry: (i) => retries.push({ attempt: i.attempt, delayMs: i.delayMs, code: i.error.respCode }),
    });
    assert.equal(r.state, 'success');
    assert.equal(fake.calls.length - before, 3);
    assert.deepEqual(
      retries.map((x) => [x.attempt, x.code]),
      [
        [1, '000002'],
        [2, '000002'],
      ],
    );
    assert.ok(retries[0]!.delayMs >= 50 && retries[0]!.delayMs <= 100, `first wait ${retries[0]!.delayMs}`);
    assert.ok(retries[1]!.delayMs >= 100 && retries[1]!.delayMs <= 200, `second wait ${retries[1]!.delayMs}`);
    assert.equal(fake.batches.get('R-000002')?.kind, 'REPORT', 'stored once');
  });

  it('gives up after maxRetries with a RateLimitError', async () => {
    fake.inject('/qmdl/queryOverdueData', { respCode: '-6' }, { respCode: '-6' }, { respCode: '-6' });
    await assert.rejects(client.queryOverdueData(query, { maxRetries: 2 }), (e) => e instanceof RateLimitError && e.respCode === '-6');
  });

  it('does not retry -4', async () => {
    fake.inject('/qmdl/queryOverdueData', { respCode: '-4' });
    const before = fake.calls.length;
    await assert.rejects(
      client.queryOverdueData(query),
      (e) => e instanceof PermissionError && e.respCode === '-4' && e.interfaceCode === 'ORG_MDL_002',
    );
    assert.equal(fake.calls.length - before, 1);
  });

  it('treats a reply with a wrong signature as an error and does not retry it', async () => {
    fake.inject('/qmdl/queryOverdueData', { badSign: true });
    const before = fake.calls.length;
    await assert.rejects(client.queryOverdueData(query), (e) => e instanceof SignatureError && e.respCode === '000102');
    assert.equal(fake.calls.length - before, 1);
  });

  it('refuses a PLAIN reply to an SM4 client', async () => {
    fake.inject('/qmdl/queryOverdueData', { plain: true });
    await assert.rejects(client.queryOverdueData(query), (e: unknown) => (e as { respCode?: string }).respCode === '000101');
  });

  it('retries a cut connection, and reports ConnectionError when the platform stays unreachable', async () => {
    fake.inject('/qmdl/getIntoMdlUrl', { drop: true });
    const r = await client.getIntoMdlUrl({ orgId: org.orgId, idNo: '11010519491231002X', idType: '01', userName: '张三' });
    assert.match(r.mdrUrl, /^https:/);
    const dead = new PlatformClient({ baseUrl: 'http://127.0.0.1:9', appId, secret, maxRetries: 1, retryBaseMs: 1 });
    await assert.rejects(
      dead.getIntoMdlUrl({ idNo: '11010519491231002X', idType: '01', userName: '张三' }),
      (e) => e instanceof ConnectionError && e.retryable,
    );
  });

  it('catches a bad amount or date before sending anything', async () => {
    const before = fake.calls.length;
    const persons = makePersons(1);
    persons[0]!.itemList[0]!.amount = '25.001';
    await assert.rejects(client.reportAll(persons, org), (e) => e instanceof InvalidRequestError && /amount/.test(e.message));
    const late = makePersons(1);
    late[0]!.itemList[0]!.actualTime = '2026/11/24 09:15';
    await assert.rejects(client.reportAll(late, org), (e) => e instanceof InvalidRequestError && /actualTime/.test(e.message));
    assert.equal(fake.calls.length, before);
  });

  it('splits 250 items into 3 calls of at most 100, each with its own orgRequestId', async () => {
    const before = fake.calls.length;
    const persons = makePersons(50, 5, 'B');
    const seen: number[] = [];
    const out = await client.reportAll(persons, { ...org, onBatch: (_d, i, total) => seen.push(total - i) });
    assert.equal(out.length, 3);
    assert.deepEqual(
      out.map((b) => b.itemCount),
      [100, 100, 50],
    );
    assert.equal(new Set(out.map((b) => b.orgRequestId)).size, 3);
    assert.ok(out.every((b) => b.orgRequestId.length <= 40));
    const sent = fake.calls.slice(before).map((c) => c.payload as { unsettleList: UnsettledPerson[] });
    assert.equal(sent.length, 3);
    assert.ok(sent.every((p) => p.unsettleList.reduce((n, x) => n + x.itemList.length, 0) <= 100));
    // Persons are kept whole: 5 items each, 20 per full batch.
    assert.ok(sent.every((p) => p.unsettleList.every((x) => x.itemList.length === 5)));
    assert.equal([...fake.items.keys()].filter((k) => k.startsWith('B')).length, 250);

    // Reporting the same items again reuses the ids; the platform stores nothing twice.
    const again = await client.reportAll(persons, org);
    assert.deepEqual(
      again.map((b) => b.orgRequestId),
      out.map((b) => b.orgRequestId),
    );
    assert.ok([...fake.items.values()].every((i) => i.stored === 1));
  });

  it('merges entries of one real-name patient and splits a patient with over 100 items', async () => {
    const id = { idNo: '11010519491231002X', idType: '01', userName: '张三', ehealthCardId: 'EHC1' };
    const a = { ...makePersons(1, 60, 'M')[0]!, ...id };
    const b = { ...makePersons(1, 60, 'N')[0]!, ...id };
    const out = await client.reportAll([a, b], org);
    assert.deepEqual(
      out.map((x) => x.itemCount),
      [100, 20],
    );
  });

  it('updates items with ORG_MDL_003', async () => {
    const item = fake.items.get('B0-0')!;
    const out = await client.updateAll([{ itemList: [{ orgTraceId: 'B0-0', traceId: item.traceId, state: '1' }] }], org);
    assert.equal(out.length, 1);
    assert.equal(fake.items.get('B0-0')!.state, '1');
    const result = await client.queryReportResult({ orgId: org.orgId, orgRequestId: out[0]!.orgRequestId });
    assert.equal(result.reportResultList?.[0]?.itemList[0]?.state, '1');
  });
});
