import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { startTestPlatform } from './testing.js';

describe('MDL_DEPLOYMENT', () => {
  const key = { masterKey: '0'.repeat(32) };
  it('makes the embedded default a sandbox and PostgreSQL production unless told otherwise', () => {
    assert.equal(loadConfig({}, key).deployment, 'sandbox');
    assert.equal(loadConfig({ DATABASE_URL: 'postgres://db/x' }, key).deployment, 'production');
    assert.equal(loadConfig({ DATABASE_URL: 'postgres://db/x', MDL_DEPLOYMENT: 'sandbox' }, key).deployment, 'sandbox');
    assert.equal(loadConfig({ MDL_DEPLOYMENT: 'production' }, key).deployment, 'production');
    assert.throws(() => loadConfig({ MDL_DEPLOYMENT: 'prod' }, key), ConfigError);
  });
});

describe('MDL_METRICS_PORT', () => {
  const key = { masterKey: '0'.repeat(32) };
  it('is off unless set, loopback by default, and never the public port', () => {
    assert.equal(loadConfig({}, key).metricsPort, undefined);
    assert.equal(loadConfig({}, key).metricsHost, '127.0.0.1');
    assert.equal(loadConfig({ MDL_METRICS_PORT: '9464' }, key).metricsPort, 9464);
    assert.equal(loadConfig({ MDL_METRICS_PORT: '0' }, key).metricsPort, 0);
    assert.equal(loadConfig({ MDL_METRICS_HOST: '10.1.2.3', MDL_METRICS_PORT: '9464' }, key).metricsHost, '10.1.2.3');
    for (const bad of ['abc', '-1', '70000', '1.5']) assert.throws(() => loadConfig({ MDL_METRICS_PORT: bad }, key), ConfigError, bad);
    assert.throws(() => loadConfig({ PORT: '8081', MDL_METRICS_PORT: '8081' }, key), /must differ from PORT/);
  });
});

describe('MDL_REQUEST_TIMEOUT_S', () => {
  it('is 30 s by default, configurable, and never 0 (no limit)', () => {
    const key = { masterKey: '0'.repeat(32) };
    assert.equal(loadConfig({}, key).requestTimeoutMs, 30_000);
    assert.equal(loadConfig({ MDL_REQUEST_TIMEOUT_S: '5' }, key).requestTimeoutMs, 5_000);
    for (const bad of ['0', '-1', '601', 'x']) assert.throws(() => loadConfig({ MDL_REQUEST_TIMEOUT_S: bad }, key), ConfigError, bad);
  });
});

describe('MDL_OUTBOUND_ALLOW_CIDRS, MDL_OUTBOUND_HTTP_CIDRS', () => {
  it('take CIDR ranges, addresses or none, and refuse anything else', () => {
    const key = { masterKey: '0'.repeat(32) };
    const c = loadConfig({ MDL_OUTBOUND_ALLOW_CIDRS: '10.0.0.0/8, 127.0.0.1,fd00::/8', MDL_OUTBOUND_HTTP_CIDRS: 'none' }, key);
    assert.equal(c.outboundAllowCidrs, '10.0.0.0/8, 127.0.0.1,fd00::/8');
    assert.equal(c.outboundHttpCidrs, 'none');
    assert.equal(loadConfig({}, key).outboundAllowCidrs, undefined);
    for (const bad of ['localhost', '10.0.0.0/33', '10.0.0.0/8/8', '*', '0x7f.0.0.1']) {
      assert.throws(() => loadConfig({ MDL_OUTBOUND_ALLOW_CIDRS: bad }, key), /MDL_OUTBOUND_ALLOW_CIDRS/, bad);
      assert.throws(() => loadConfig({ MDL_OUTBOUND_HTTP_CIDRS: bad }, key), /MDL_OUTBOUND_HTTP_CIDRS/, bad);
    }
  });
});

describe('MDL_TRUST_PROXY', () => {
  it('takes addresses and CIDR ranges, and refuses anything else', () => {
    assert.deepEqual(loadConfig({ MDL_TRUST_PROXY: '127.0.0.1, 10.0.0.0/8,::1' }, { masterKey: '0'.repeat(32) }).trustProxy, [
      '127.0.0.1',
      '10.0.0.0/8',
      '::1',
    ]);
    assert.deepEqual(loadConfig({}, { masterKey: '0'.repeat(32) }).trustProxy, []);
    for (const bad of ['nginx', '10.0.0.0/33', '127.0.0.1/8/8', 'true']) {
      assert.throws(() => loadConfig({ MDL_TRUST_PROXY: bad }, { masterKey: '0'.repeat(32) }), ConfigError, bad);
    }
  });

  it('believes X-Forwarded-For only from a listed proxy', async () => {
    const t = await startTestPlatform({ trustProxy: ['127.0.0.1'] });
    try {
      const ipOf = async (trustProxy: string[], remoteAddress: string) => {
        t.platform.config.trustProxy = trustProxy;
        const app = await buildApp(t.platform);
        app.get('/test-ip', async (req) => req.ip);
        const r = await app.inject({ url: '/test-ip', remoteAddress, headers: { 'x-forwarded-for': '203.0.113.7' } });
        await app.close();
        return r.body;
      };
      assert.equal(await ipOf(['127.0.0.1'], '127.0.0.1'), '203.0.113.7');
      assert.equal(await ipOf(['127.0.0.1'], '198.51.100.2'), '198.51.100.2', 'a caller that is not the proxy cannot name another address');
      assert.equal(await ipOf([], '127.0.0.1'), '127.0.0.1');
    } finally {
      await t.close();
    }
  });
});
