import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../../testing.js';
import { HttpSmsGateway, smsGateway, SmsUnavailable } from './gateway.js';

/** The SMS gateway adapter: the request shape of docs/operations.md over real HTTP, and no outbox on production. */
describe('SMS gateway', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({}, { queue: false });
  });
  after(() => t.close());

  it('POSTs {phone, text} as JSON with the bearer credential; a non-2xx answer is a failure', async () => {
    const seen: { auth?: string; type?: string; body: string; path?: string }[] = [];
    let status = 200;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ auth: req.headers.authorization, type: req.headers['content-type'], body, path: req.url });
        res.writeHead(status).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sms/send`;
      const gw = smsGateway(
        { deployment: 'production', smsUrl: url, smsCredential: 'cred-123' },
        { db: t.platform.db, vault: t.platform.vault, post: t.platform.post },
      );
      assert.ok(gw instanceof HttpSmsGateway);
      await gw.send('13900000001', '验证码 123456');
      assert.deepEqual(seen[0], {
        auth: 'Bearer cred-123',
        type: 'application/json; charset=utf-8',
        body: JSON.stringify({ phone: '13900000001', text: '验证码 123456' }),
        path: '/sms/send',
      });
      status = 500;
      await assert.rejects(gw.send('13900000001', 'x'), /HTTP 500/);
    } finally {
      server.close();
    }
  });

  it('production without MDL_SMS_URL never writes the outbox: every send fails', async () => {
    const gw = smsGateway(
      { deployment: 'production', smsUrl: undefined, smsCredential: undefined },
      { db: t.platform.db, vault: t.platform.vault, post: t.platform.post },
    );
    await assert.rejects(gw.send('13900000001', 'x'), SmsUnavailable);
    const rows = await t.platform.db.selectFrom('sms_outbox').selectAll().execute();
    assert.equal(rows.length, 0);
    const sandbox = smsGateway(
      { deployment: 'sandbox', smsUrl: undefined, smsCredential: undefined },
      { db: t.platform.db, vault: t.platform.vault, post: t.platform.post },
    );
    await sandbox.send('13900000001', '验证码 654321');
    const [row] = await t.platform.db.selectFrom('sms_outbox').selectAll().execute();
    assert.ok(row && !row.text_enc.includes('654321'), 'sealed in the outbox');
  });
});
