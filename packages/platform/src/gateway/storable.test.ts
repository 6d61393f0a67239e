import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { INTERFACES, STORABLE_LIMITS, openReply, residentIdCheckChar, sealRequest, verifySign, type Envelope } from '@mdl/protocol';
import { sql } from 'kysely';
import { API_HANDLERS } from '../api/index.js';
import { addInstitution, startTestPlatform, type TestInstitution, type TestPlatform } from '../testing.js';

/**
 * Bytes the database cannot store are refused at the door (issue #14): NUL, lone surrogates and hostile nesting
 * are 000105 with a message on every interface, over real HTTP, and nothing of such a request is stored; what the
 * door accepts at the very limits, processing stores.
 */
describe('unstorable bytes refused at the door', () => {
  let t: TestPlatform;
  let inst: TestInstitution;
  let plainInst: TestInstitution;

  before(async () => {
    t = await startTestPlatform();
    await t.listen();
    inst = await addInstitution(t.platform, 'H35010200031');
    plainInst = await addInstitution(t.platform, 'H35010200032', { env: 'test' });
  });
  after(() => t.close());

  async function post(path: string, body: unknown): Promise<Envelope> {
    const res = await fetch(`${t.url}${t.platform.config.apiPrefix}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    assert.equal(res.status, 200);
    return (await res.json()) as Envelope;
  }
  const batchCount = async () => (await sql<{ n: number }>`SELECT count(*)::int AS n FROM batch`.execute(t.platform.db)).rows[0]!.n;

  function nested(depth: number): Record<string, unknown> {
    let v: Record<string, unknown> = { leaf: 'x' };
    for (let i = 1; i < depth; i++) v = { a: v };
    return v;
  }

  const report = (item: Record<string, unknown> = {}, person: Record<string, unknown> = {}) => ({
    orgId: inst.orgId,
    orgName: inst.orgName,
    notifyUrl: 'http://127.0.0.1:9/umdl/callback',
    orgRequestId: `R${Math.random()}`.slice(0, 20),
    unsettleList: [
      {
        idNo: '',
        idType: '',
        userName: '无名氏',
        ehealthCardId: '',
        userType: '01',
        itemList: [
          {
            orgTraceId: 'T1',
            medType: '11',
            feeType: '01',
            itemName: '诊查费',
            amount: '25.00',
            actualTime: '2024-11-20 09:15:00',
            ...item,
          },
        ],
        ...person,
      },
    ],
  });

  const hostile: [string, unknown, RegExp][] = [
    ['a NUL character', { orgId: 'H350102\u000000031', idNo: '\u0000' }, /U\+0000/],
    ['a lone high surrogate', { userName: '林\uD800' }, /代理字符/],
    ['a lone low surrogate', { userName: '\uDC00林' }, /代理字符/],
    ['a NUL in a field name', { 'x\u0000': '1' }, /字段名.*U\+0000/],
    ['extData nested too deep', { extData: nested(STORABLE_LIMITS.extDataMaxDepth + 1) }, /extData 嵌套层数超过 8 层/],
    ['extData too large', { extData: { note: '医'.repeat(1400) } }, /extData 超过 4096 字节/],
    ['a payload nested 2,000 levels deep', { orgId: 'H35010200031', deep: nested(2000) }, /嵌套层数超过 32 层/],
  ];

  for (const handler of API_HANDLERS) {
    const path = INTERFACES[handler.code].path;
    it(`${handler.code} (${path}): 000105 with a message, signed, for every kind of unstorable input`, async () => {
      const before = await batchCount();
      for (const [what, payload, message] of hostile) {
        const env = await post(path, sealRequest(payload, { appId: inst.appId, secret: inst.secret }));
        assert.equal(env.respCode, '000105', `${what}: ${env.respMsg}`);
        assert.match(String(env.respMsg), message, what);
        assert.ok(verifySign(env, undefined, inst.secret), `${what}: the reply is signed`);
      }
      assert.equal(await batchCount(), before, 'nothing stored');
    });
  }

  it('an envelope field with NUL (appId, timestamp) or a lone surrogate is 000105, unsigned, before any lookup', async () => {
    const good = sealRequest(report(), { appId: inst.appId, secret: inst.secret });
    for (const [what, env] of [
      ['appId', { ...good, appId: `${inst.appId}\u0000` }],
      ['appId alone', { ...good, appId: '\u0000' }],
      ['timestamp', { ...good, timestamp: `${good.timestamp}\u0000` }],
      ['version', { ...good, version: '1.0.0\uDFFF' }],
    ] as const) {
      const reply = await post('/umdl/reportOverdueData', env);
      assert.equal(reply.respCode, '000105', `${what}: ${reply.respMsg}`);
      assert.equal(reply.sign, undefined, what);
      assert.match(String(reply.respMsg), /U\+0000|代理字符/, what);
    }
    // A PLAIN envelope carries the payload as JSON: its nesting is judged before the credential is even looked up.
    let deep = '{"x":1}';
    for (let i = 0; i < 100_000; i++) deep = `[${deep}]`;
    const raw = `{"appId":"${plainInst.appId}","version":"1.0.0","timestamp":"${Date.now()}","encryptType":"PLAIN","signType":"PLAIN","data":${deep}}`;
    const reply = await post('/umdl/reportOverdueData', raw);
    assert.equal(reply.respCode, '000105');
    assert.match(String(reply.respMsg), /嵌套层数超过 32 层/);
  });

  it('a report at the limits (extData 8 levels, 4,096 bytes; a surrogate pair) is accepted and processed', async () => {
    const ext = nested(STORABLE_LIMITS.extDataMaxDepth);
    const filler = 'x'.repeat(STORABLE_LIMITS.extDataMaxBytes - JSON.stringify({ ...ext, pad: '' }).length);
    const extData = { ...ext, pad: filler };
    assert.equal(Buffer.byteLength(JSON.stringify(extData)), STORABLE_LIMITS.extDataMaxBytes);
    const body = report({ itemName: '诊查费😀' }, { extData });
    const env = await post('/umdl/reportOverdueData', sealRequest(body, { appId: inst.appId, secret: inst.secret }));
    const r = openReply(env, inst.secret, { allowPlain: false });
    assert.equal(r.respCode, '000000', r.respMsg);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const row = await t.platform.db
        .selectFrom('batch')
        .select(['status', 'accepted_count'])
        .where('org_request_id', '=', body.orgRequestId)
        .executeTakeFirstOrThrow();
      if (row.status === 'done') {
        assert.equal(row.accepted_count, 1);
        break;
      }
      assert.ok(Date.now() < deadline, 'the batch is processed');
      await new Promise((res) => setTimeout(res, 100));
    }
    const names = await t.platform.db.selectFrom('arrears_item').select('item_name').where('org_id', '=', inst.orgId).execute();
    assert.ok(names.some((n) => n.item_name === '诊查费😀'));
  });

  it('a query with a NUL in the ID number is 000105, not a system error', async () => {
    const f = '35010219900307001';
    const env = await post(
      '/qmdl/queryOverdueData',
      sealRequest(
        { businessType: '01101', idNo: `${f}${residentIdCheckChar(f)}\u0000`, idType: '01', userName: '林晓梅' },
        { appId: inst.appId, secret: inst.secret },
      ),
    );
    assert.equal(env.respCode, '000105');
  });
});
