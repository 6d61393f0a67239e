import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { residentId, sealRequest, openReply, type CallbackRequest, type Envelope } from '@mdl/protocol';
import { createHospitalServer } from '@mdl/hospital';
import { addInstitution, createApp, startTestPlatform, type TestInstitution, type TestPlatform } from '@mdl/platform/testing';
import { sql } from 'kysely';

const rid = (seq: number) => residentId('350102', '19900307', seq);

/**
 * Issue #11 items 3, 5 and 7 and issue #13 item 7 on a sandbox, over real HTTP on loopback: replays in other
 * spellings, the signing oracle and its forged ORG_002 callback, sign-string-shifting fields, a trickled body,
 * and the envelope every refusal answers with.
 */
describe('trust between machines: the gateway', () => {
  let t: TestPlatform;
  let inst: TestInstitution;
  let testChannel: { appId: string; secret: string };
  /** A 闽政通-style channel: queries a person by identity alone, so a good call answers 000000. */
  let channel: { appId: string; secret: string };

  before(async () => {
    // A short request time limit, so the trickled body below is cut off quickly.
    t = await startTestPlatform({ requestTimeoutMs: 5000 });
    await t.listen();
    inst = await addInstitution(t.platform, 'H35010200001');
    testChannel = await createApp(t.platform.db, t.platform.vault, { kind: 'channel', env: 'test', label: '测试渠道' });
    channel = await createApp(t.platform.db, t.platform.vault, { kind: 'channel', env: 'prod', label: '闽政通' });
  });
  after(() => t.close());

  const send = async (path: string, body: string, method = 'POST') => {
    const res = await fetch(t.url + path, {
      method,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      ...(method === 'GET' ? {} : { body }),
    });
    assert.equal(res.status, 200, `${method} ${path}`);
    return (await res.json()) as Envelope;
  };
  const post = (path: string, env: unknown) => send(path, JSON.stringify(env));
  const query = (seq: number) => ({ businessType: '01101', idNo: rid(seq), idType: '01', userName: '林晓梅', ehealthCardId: '' });
  const refusals = async () =>
    Number(
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_event WHERE action = 'interface.refused'`.execute(t.platform.db))
        .rows[0]!.n,
    );
  const batches = async () => Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM batch`.execute(t.platform.db)).rows[0]!.n);

  /** An unsigned reply with the guide's Y fields in the platform's own values, quoting nothing of `sent`. */
  function assertUnsigned(env: Envelope, code: string, sent: string[] = []): void {
    assert.equal(env.respCode, code);
    assert.equal(env.sign, undefined, 'no signature before authentication');
    assert.equal(env.encryptData, undefined);
    for (const f of ['appId', 'version', 'timestamp', 'encryptType', 'signType', 'respMsg'] as const)
      assert.equal(typeof env[f], 'string', f);
    assert.equal(env.version, '1.0.0');
    assert.equal(env.encryptType, 'PLAIN');
    assert.equal(env.signType, 'PLAIN');
    const text = JSON.stringify(env);
    for (const s of sent) assert.equal(text.includes(s), false, `the reply quotes "${s}"`);
  }

  it('the re-spellings of a used signature are replays, at once or later: one answer 000000, the rest 010010', async () => {
    const env = sealRequest(query(1), channel);
    const sign = env.sign!;
    assert.match(sign, /=$/, 'a 32-byte SM3 signature has one = of padding');
    const spellings: Envelope[] = [
      env,
      { ...env, sign: sign.replace(/=+$/, '') },
      { ...env, sign: sign + '=' },
      { ...env, sign: ' ' + sign },
      { ...env, sign: sign.replace(/-/g, '+').replace(/_/g, '/') + '\n' },
      { ...env, encryptData: env.encryptData!.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/') },
    ];
    const codes = (await Promise.all(spellings.map((s) => post('/qmdl/queryOverdueData', s)))).map((r) => r.respCode);
    assert.deepEqual(codes.filter((c) => c === '000000').length, 1, codes.join(','));
    assert.deepEqual(codes.filter((c) => c === '010010').length, spellings.length - 1, codes.join(','));
    for (const s of spellings) assert.equal((await post('/qmdl/queryOverdueData', s)).respCode, '010010');
  });

  it('PLAIN on a sandbox: whitespace, key order and the case of PLAIN do not make a new request', async () => {
    const data = { businessType: '01101', idNo: rid(2), idType: '01', userName: '林晓梅', ehealthCardId: '' };
    const base = { appId: testChannel.appId, version: '1.0.0', timestamp: String(Date.now()), encryptType: 'PLAIN', signType: 'PLAIN' };
    assert.equal((await post('/qmdl/queryOverdueData', { ...base, data })).respCode, '000000');
    const reordered = Object.fromEntries(Object.entries(data).reverse());
    const variants = [
      JSON.stringify({ ...base, data }, null, 2),
      ' \n' + JSON.stringify({ ...base, data }) + '\n',
      JSON.stringify({ ...base, data: reordered }),
      JSON.stringify({ ...base, encryptType: 'plain', signType: 'Plain', data }),
      JSON.stringify({ ...base, param: data }),
    ];
    for (const v of variants) assert.equal((await send('/qmdl/queryOverdueData', v)).respCode, '010010', v);
  });

  it('a bad signature, an unknown appId, a stale timestamp or an unknown algorithm get an unsigned reply that echoes nothing', async () => {
    const before = await refusals();
    const good = sealRequest(query(3), inst);
    const cases: [Envelope, string, string[]][] = [
      [{ ...good, version: 'EVIL-VERSION', sign: 'AAAA' }, '000102', ['EVIL']],
      [{ ...good, encryptType: 'EVIL-ALG' }, '000101', ['EVIL']],
      [{ ...good, signType: 'EVIL-SIG' }, '000102', ['EVIL']],
      [
        { ...sealRequest(query(3), { ...inst, timestamp: String(Date.now() - 3_600_000) }), version: 'EVIL-OLD', sign: 'AAAA' },
        '010010',
        ['EVIL'],
      ],
      [{ ...good, appId: 'APPEVILNOSUCHAPP' }, '-8', ['EVIL']],
    ];
    for (const [env, code, sent] of cases) assertUnsigned(await post('/qmdl/queryOverdueData', env), code, sent);
    const known = await post('/qmdl/queryOverdueData', { ...good, sign: 'AAAA' });
    assert.equal(known.appId, inst.appId, 'a known credential is named by its registered appId');
    assert.equal((await post('/qmdl/queryOverdueData', { ...good, appId: 'APPEVILNOSUCHAPP' })).appId, '');
    assert.equal(await refusals(), before + cases.length + 2, 'every refusal is audited');
  });

  it('a bad-signature request yields nothing that forges an ORG_002 callback the hospital kit accepts', async () => {
    const accepted: CallbackRequest[] = [];
    const his = createHospitalServer({
      appId: inst.appId,
      secret: inst.secret,
      allowPlain: true,
      getOverdueResult: async () => ({ state: '0' }),
      onCallback: async (req) => void accepted.push(req),
    });
    await new Promise<void>((r) => his.listen(0, '127.0.0.1', r));
    try {
      const hisUrl = `http://127.0.0.1:${(his.address() as AddressInfo).port}/umdl/callback`;
      // The callback the attacker wants the hospital to believe: every report of this batch "rejected".
      const forgedPayload = {
        orgId: inst.orgId,
        orgName: inst.orgName,
        notifyType: 'REPORT',
        orgRequestId: 'R-FORGED',
        reportResultList: [],
      };
      const p = JSON.stringify(forgedPayload);
      // The sign string is `k=v&…` unescaped: values that carry `&param=` pose as the payload field.
      const probes: Envelope[] = [
        {
          appId: inst.appId,
          version: '1.0.0',
          timestamp: String(Date.now()),
          encryptType: `PLAIN&param=${p}`,
          signType: 'SM3',
          sign: 'AAAA',
          encryptData: 'AAAA',
        },
        {
          appId: inst.appId,
          version: `1.0.0&param=${p}`,
          timestamp: String(Date.now()),
          encryptType: 'SM4',
          signType: 'SM3',
          sign: 'AAAA',
          encryptData: 'AAAA',
        },
        {
          appId: inst.appId,
          version: '1.0.0',
          timestamp: String(Date.now()),
          encryptType: 'SM4',
          signType: 'SM3',
          sign: 'AAAA',
          encryptData: 'AAAA',
        },
      ];
      for (const probe of probes) {
        const got = await post('/umdl/reportOverdueData', probe);
        assert.equal(got.sign, undefined, 'the platform signed nothing for an unauthenticated sender');
        // The attack: the reply's fields with the callback as a PLAIN payload, under the reply's signature.
        const forged = { ...got, encryptType: 'PLAIN', signType: 'SM3', param: forgedPayload };
        const res = await fetch(hisUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(forged) });
        const answer = (await res.json()) as Envelope;
        assert.notEqual(answer.respCode, '000000', 'the hospital refuses the forged callback');
      }
      assert.deepEqual(accepted, [], 'no forged callback reached the HIS');
    } finally {
      await new Promise((r) => his.close(r));
    }
  });

  it('000105 for envelope fields that could shift the sign string, before any key is used; nothing stored', async () => {
    const before = await batches();
    const good = sealRequest(query(4), channel);
    const cases: Envelope[] = [
      { ...good, version: '1.0.0&respCode=000000' },
      { ...good, timestamp: `${good.timestamp}&x=1` },
      { ...good, encryptType: 'SM4=' },
      { ...good, signType: 'SM3\u0000' },
      { ...good, version: '1.0.0\n' },
      { ...good, evilExtra: 'a=b' },
      { ...good, ['a&b']: 'c' },
      { ...good, version: { v: '1.0.0' } as unknown as string },
    ];
    for (const env of cases) assertUnsigned(await post('/qmdl/queryOverdueData', env), '000105', ['respCode=000000', 'x=1', 'a&b', 'evil']);
    assert.equal(await batches(), before);
    // The good request itself was never remembered as seen: it still goes through.
    assert.equal(openReply(await post('/qmdl/queryOverdueData', good), channel.secret, { allowPlain: false }).respCode, '000000');
  });

  it('GET and other methods on an interface path answer an envelope, not a page', async () => {
    const before = await refusals();
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH']) {
      assertUnsigned(await send('/umdl/reportOverdueData', '{}', method), '-5');
    }
    assert.equal(await refusals(), before + 4, 'audited');
  });

  it('a trickled body is cut off at the request time limit, without a 5xx', async () => {
    const socket = connect(Number(new URL(t.url).port), '127.0.0.1');
    let received = '';
    let sent = 0;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (received += d));
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => {});
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.write('POST /qmdl/queryOverdueData HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n');
    let open = true;
    void closed.then(() => (open = false));
    // One byte a second: 13 bytes would take 13 s; the limit is 5 s.
    while (open && sent < 13) {
      await new Promise((r) => setTimeout(r, 1000));
      if (open) socket.write('{"appId":"x"}'[sent++]!);
    }
    await closed;
    assert.ok(sent < 13, `the server read all ${sent} bytes of a trickled body`);
    assert.doesNotMatch(received, /^HTTP\/1\.1 5/, received);
  });
});
