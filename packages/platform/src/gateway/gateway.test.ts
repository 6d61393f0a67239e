import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { residentId, sealRequest, openReply, verifySign, type Envelope } from '@mdl/protocol';
import { sql } from 'kysely';
import { addInstitution, startTestPlatform, type TestInstitution, type TestPlatform } from '../testing.js';
import { createApp, setAppStatus } from '../domain/credentials.js';

const rid = (seq: number) => residentId('350102', '19900307', seq);

/** Every response code of PROTOCOL.md, reached through the HTTP interface (inject: no socket needed). */
describe('gateway response codes', () => {
  let t: TestPlatform;
  let inst: TestInstitution;
  let testInst: TestInstitution;
  let channel: { appId: string; secret: string };

  before(async () => {
    t = await startTestPlatform();
    inst = await addInstitution(t.platform, 'H35010200001');
    testInst = await addInstitution(t.platform, 'H35010200002', { env: 'test' });
    channel = await createApp(t.platform.db, t.platform.vault, { kind: 'channel', env: 'prod', label: '闽政通' });
  });
  after(() => t.close());

  async function post(path: string, body: unknown): Promise<Envelope> {
    const res = await t.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
    assert.equal(res.statusCode, 200);
    return res.json() as Envelope;
  }
  const seal = (
    payload: unknown,
    who: { appId: string; secret: string } = inst,
    extra: Parameters<typeof sealRequest>[1] extends infer O ? Partial<O> : never = {},
  ) => sealRequest(payload, { appId: who.appId, secret: who.secret, ...extra });

  const report = (over: Record<string, unknown> = {}, item: Record<string, unknown> = {}, n = 1) => ({
    orgId: inst.orgId,
    orgName: inst.orgName,
    notifyUrl: 'http://127.0.0.1:9/umdl/callback',
    orgRequestId: `R${Math.random()}`.slice(0, 20),
    unsettleList: [
      {
        idNo: '',
        idType: '',
        userName: '',
        ehealthCardId: '',
        userType: '01',
        itemList: Array.from({ length: n }, (_, i) => ({
          orgTraceId: `T${i}`,
          medType: '11',
          feeType: '01',
          itemName: '诊查费',
          amount: '25.00',
          actualTime: '2024-11-20 09:15:00',
          ...item,
        })),
      },
    ],
    ...over,
  });
  const query = (over: Record<string, unknown> = {}) => ({
    businessType: '01101',
    idNo: rid(1),
    idType: '01',
    userName: '林晓梅',
    ...over,
  });
  const batchCount = async () => Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM batch`.execute(t.platform.db)).rows[0]!.n);

  function codeOf(env: Envelope, secret = inst.secret): string {
    if (env.sign) assert.ok(verifySign(env, undefined, secret), 'error replies are signed with the caller secret');
    assert.equal(env.encryptData, undefined, 'an error reply carries no business data');
    return String(env.respCode);
  }

  it('000000 on a good call, reply signed and encrypted', async () => {
    const env = await post('/umdl/reportOverdueData', seal(report()));
    const r = openReply(env, inst.secret, { allowPlain: false });
    assert.equal(r.respCode, '000000');
    assert.equal(r.payload!.state, 'success');
  });

  it('-8 for an unknown appId and for a disabled credential, unsigned', async () => {
    const env = await post('/umdl/reportOverdueData', seal(report(), { appId: 'NOPE', secret: inst.secret }));
    assert.equal(env.respCode, '-8');
    assert.equal(env.sign, undefined);
    const extra = await createApp(t.platform.db, t.platform.vault, { kind: 'institution', orgId: inst.orgId, env: 'prod' });
    await setAppStatus(t.platform.db, extra.appId, 'disabled');
    assert.equal((await post('/umdl/reportOverdueData', seal(report(), extra))).respCode, '-8');
  });

  it('000105 for malformed JSON, unsigned', async () => {
    const env = await post('/umdl/reportOverdueData', '{"appId": ');
    assert.equal(env.respCode, '000105');
    assert.equal(env.sign, undefined);
  });

  it('000105 for a missing envelope field', async () => {
    const env = seal(report());
    delete env.version;
    assert.equal(codeOf(await post('/umdl/reportOverdueData', env)), '000105');
  });

  it('010010 for a timestamp outside the window', async () => {
    const env = seal(report(), inst, { timestamp: String(Date.now() - 301_000) });
    assert.equal(codeOf(await post('/umdl/reportOverdueData', env)), '010010');
  });

  it('000101 for data that does not decrypt, and for PLAIN from a production credential', async () => {
    const env = seal(report());
    env.encryptData = env.encryptData!.slice(0, -8);
    assert.equal(codeOf(await post('/umdl/reportOverdueData', env)), '000101');
    assert.equal(
      codeOf(await post('/umdl/reportOverdueData', seal(report(), inst, { encryptType: 'PLAIN', signType: 'PLAIN' }))),
      '000101',
    );
  });

  it('000102 for a wrong or missing signature, and for PLAIN signing from a production credential', async () => {
    const env = seal(report());
    assert.equal(codeOf(await post('/umdl/reportOverdueData', { ...env, version: '9.9.9' })), '000102');
    const { sign: _s, ...unsigned } = env;
    assert.equal(codeOf(await post('/umdl/reportOverdueData', unsigned)), '000102');
    assert.equal(codeOf(await post('/umdl/reportOverdueData', seal(report(), inst, { signType: 'PLAIN' }))), '000102');
  });

  it('PLAIN works for a test credential', async () => {
    const env = await post(
      '/umdl/reportOverdueData',
      seal(report({ orgId: testInst.orgId }), testInst, { encryptType: 'plain', signType: 'plain' }),
    );
    assert.equal(env.respCode, '000000');
    assert.deepEqual(env.param, { state: 'success', msg: '已接收' });
    assert.equal(env.encryptType, 'plain', 'the reply uses the caller spelling');
  });

  it('010010 for the same signed request again; a forgery does not poison the cache', async () => {
    const env = seal(query({ ehealthCardId: '' }), channel);
    const forged = { ...env, version: '2.0.0' };
    assert.equal(codeOf(await post('/qmdl/queryOverdueData', forged), channel.secret), '000102');
    assert.equal((await post('/qmdl/queryOverdueData', env)).respCode, '000000');
    assert.equal(codeOf(await post('/qmdl/queryOverdueData', env), channel.secret), '010010');
  });

  it('000105 for every kind of bad business field, and nothing is stored', async () => {
    const before = await batchCount();
    const cases: [string, unknown][] = [
      ['missing orgRequestId', report({ orgRequestId: '' })],
      ['over-long orgName', report({ orgName: '医'.repeat(41) })],
      ['medType outside its dictionary', report({}, { medType: '77' })],
      ['amount with three decimals', report({}, { amount: '1.001' })],
      ['amount as a number', report({}, { amount: 25 })],
      ['malformed actualTime', report({}, { actualTime: '2024/11/20 09:15' })],
      ['notifyUrl not http', report({ notifyUrl: 'file:///etc/passwd' })],
    ];
    for (const [name, payload] of cases) {
      const env = await post('/umdl/reportOverdueData', seal(payload));
      assert.equal(codeOf(env), '000105', name);
      assert.ok(String(env.respMsg).length > 0);
    }
    // Calls the platform does not take for business reasons: 000000 with state fail (§4.3.1.3, issue #13).
    for (const [name, payload] of [
      ['more than 100 items', report({}, {}, 101)],
      ['notifyUrl host not registered', report({ notifyUrl: 'http://10.0.0.1/cb' })],
    ] as [string, unknown][]) {
      const r = openReply(await post('/umdl/reportOverdueData', seal(payload)), inst.secret, { allowPlain: false });
      assert.equal(r.respCode, '000000', name);
      assert.equal(r.payload!.state, 'fail', name);
      assert.ok(String(r.payload!.msg).length > 0);
    }
    assert.equal(
      codeOf(await post('/qmdl/queryOverdueData', seal(query({ idNo: '350102199003071235', ehealthCardId: '' })))),
      '000105',
      'a query with a wrong ID check digit (without a card an institution asks about its non-real-name patient)',
    );
    assert.equal(await batchCount(), before, 'nothing stored');
  });

  it('000105 for a body over the size limit', async () => {
    const env = await post(
      '/umdl/reportOverdueData',
      JSON.stringify({ appId: inst.appId, encryptData: 'A'.repeat(t.platform.config.bodyLimitBytes + 10) }),
    );
    assert.equal(env.respCode, '000105');
  });

  it('-4 when a credential acts for another orgId, or a channel writes', async () => {
    assert.equal(codeOf(await post('/umdl/reportOverdueData', seal(report({ orgId: 'H35099900009' })))), '-4');
    // ORG_MDL_002's orgId is a filter of what is read (空时查全部机构的待缴费数据), not the institution acted for:
    // the query goes on to the 强校验, where the made-up card is refused (-2, a business refusal).
    assert.equal(codeOf(await post('/qmdl/queryOverdueData', seal(query({ orgId: 'H35099900009', ehealthCardId: 'C' })))), '-2');
    assert.equal(codeOf(await post('/qmdl/queryReportResult', seal({ orgId: 'H35099900009', orgRequestId: 'x' }))), '-4');
    assert.equal(codeOf(await post('/umdl/reportOverdueData', seal(report(), channel)), channel.secret), '-4');
    assert.equal(
      codeOf(await post('/qmdl/queryReportResult', seal({ orgId: inst.orgId, orgRequestId: 'x' }, channel)), channel.secret),
      '-4',
    );
  });

  it('-6 past the per-credential rate limit', async () => {
    const limit = t.platform.config.rateLimitPerSecond;
    t.platform.config.rateLimitPerSecond = 3;
    try {
      const codes: string[] = [];
      // Start at the beginning of a fixed one-second window so all eight calls share it.
      await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
      for (let i = 0; i < 8; i++)
        codes.push(String((await post('/qmdl/queryOverdueData', seal(query({ ehealthCardId: '', extData: { i } }), channel))).respCode));
      assert.ok(codes.includes('-6'), codes.join(','));
      assert.ok(
        codes.slice(0, 3).every((c) => c === '000000'),
        codes.join(','),
      );
    } finally {
      t.platform.config.rateLimitPerSecond = limit;
    }
  });

  it('-5 for a path not served', async () => {
    assert.equal((await post('/umdl/noSuchThing', seal(report()))).respCode, '-5');
  });

  it('000002 for an unexpected fault, with a request id and nothing internal', async () => {
    await sql`ALTER TABLE batch RENAME TO batch_away`.execute(t.platform.database.ownerDb);
    try {
      const env = await post('/qmdl/queryReportResult', seal({ orgId: inst.orgId, orgRequestId: 'R1' }));
      assert.equal(codeOf(env), '000002');
      assert.match(String(env.respMsg), /请求编号 [\w-]+/);
      assert.doesNotMatch(String(env.respMsg), /batch|relation|sql/i);
    } finally {
      await sql`ALTER TABLE batch_away RENAME TO batch`.execute(t.platform.database.ownerDb);
    }
  });

  it('000003 while draining', async () => {
    t.platform.draining = true;
    try {
      assert.equal((await post('/qmdl/queryOverdueData', seal(query(), channel))).respCode, '000003');
    } finally {
      t.platform.draining = false;
    }
  });

  it('a 闽政通 channel credential may query without ehealthCardId', async () => {
    const r = openReply(await post('/qmdl/queryOverdueData', seal(query({ ehealthCardId: '' }), channel)), channel.secret, {
      allowPlain: false,
    });
    assert.equal(r.respCode, '000000');
    assert.equal(r.payload!.next, '1');
  });
});
