import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_PORTS,
  OutboundRefused,
  addressKind,
  checkDestination,
  normalizeAddress,
  policyFromSettings,
  type AddressPolicy,
} from './address-policy.js';

/**
 * The policy as a unit, on addresses outside loopback: nothing here connects anywhere. Name resolution
 * (DNS, outside our system) is replaced by a table, so rebinding and mixed answers can be staged.
 */
const DNS: Record<string, string[]> = {
  'his.example.org': ['203.0.114.10'],
  'intranet.example.org': ['10.20.30.40'],
  'metadata.example.org': ['169.254.169.254'],
  'mixed.example.org': ['203.0.114.11', '10.0.0.5'],
  'mapped.example.org': ['::ffff:127.0.0.1'],
  'v6.example.org': ['2400:3200::1'],
};

function policy(over: Partial<Parameters<typeof policyFromSettings>[0]> = {}, own: string[] = []): AddressPolicy {
  const p = policyFromSettings({
    deployment: 'production',
    outboundAllowCidrs: undefined,
    outboundHttpCidrs: undefined,
    port: 8080,
    host: '127.0.0.1',
    ...over,
  });
  return {
    ...p,
    ownAddresses: new Set([...p.ownAddresses, ...own]),
    lookup: async (h) => {
      const a = DNS[h];
      if (!a) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
      return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    },
  };
}

async function refused(p: AddressPolicy, url: string, ports: readonly number[] = DEFAULT_PORTS): Promise<string> {
  try {
    await checkDestination(p, url, ports);
  } catch (e) {
    assert.ok(e instanceof OutboundRefused, String(e));
    return e.reason;
  }
  assert.fail(`${url} was allowed`);
}

describe('outbound address policy (unit, no connection)', () => {
  it('classifies addresses', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', 'loopback'],
      ['127.9.9.9', 'loopback'],
      ['::1', 'loopback'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['169.254.169.254', 'link-local'],
      ['fe80::1', 'link-local'],
      ['224.0.0.1', 'multicast'],
      ['ff02::1', 'multicast'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['192.168.1.1', 'private'],
      ['100.64.0.1', 'private'],
      ['fd00::1', 'private'],
      ['255.255.255.255', 'reserved'],
      ['2001:db8::1', 'reserved'],
      ['64:ff9b::7f00:1', 'reserved'],
      ['::7f00:1', 'reserved'],
      ['2002:7f00:1::', 'reserved'],
      ['203.0.114.10', 'public'],
      ['8.8.8.8', 'public'],
      ['2400:3200::1', 'public'],
    ];
    for (const [a, kind] of cases) {
      const n = normalizeAddress(a)!;
      assert.equal(addressKind(n.address, n.family), kind, a);
    }
    assert.deepEqual(normalizeAddress('[::ffff:169.254.169.254]'), { address: '169.254.169.254', family: 4 });
    assert.deepEqual(normalizeAddress('::ffff:7f00:1'), { address: '127.0.0.1', family: 4 });
  });

  it('refuses link-local (cloud metadata) in every spelling, even when an operator lists it', async () => {
    const p = policy({ outboundAllowCidrs: '169.254.0.0/16,0.0.0.0/0', outboundHttpCidrs: '0.0.0.0/0' });
    for (const url of [
      'http://169.254.169.254/latest/meta-data',
      'http://0xa9.0xfe.0xa9.0xfe/',
      'http://2852039166/',
      'http://0251.0376.0251.0376/',
      'http://[::ffff:169.254.169.254]/',
      'http://[fe80::1]/',
      'https://metadata.example.org/',
    ]) {
      assert.match(await refused(p, url), /link-local/, url);
    }
    assert.match(await refused(p, 'http://0.0.0.0/'), /unspecified/);
    assert.match(await refused(p, 'http://[::]/'), /unspecified/);
    assert.match(await refused(p, 'http://224.0.0.1/'), /multicast/);
    assert.match(await refused(p, 'http://[ff02::1]/'), /multicast/);
    assert.match(await refused(p, 'http://[64:ff9b::a9fe:a9fe]/'), /reserved/);
  });

  it('allows private ranges only inside MDL_OUTBOUND_ALLOW_CIDRS', async () => {
    const closed = policy({ outboundHttpCidrs: '10.0.0.0/8' });
    assert.match(await refused(closed, 'https://10.20.30.40/'), /not in MDL_OUTBOUND_ALLOW_CIDRS/);
    assert.match(await refused(closed, 'https://intranet.example.org/'), /private address 10\.20\.30\.40/);
    assert.match(await refused(closed, 'https://[fd00::5]/'), /private/);
    const open = policy({ outboundAllowCidrs: '10.20.0.0/16', outboundHttpCidrs: '10.20.0.0/16' });
    const d = await checkDestination(open, 'http://intranet.example.org/cb', DEFAULT_PORTS);
    assert.deepEqual([d.address, d.port, d.servername], ['10.20.30.40', 80, 'intranet.example.org']);
    assert.match(await refused(open, 'https://10.21.0.1/'), /not in MDL_OUTBOUND_ALLOW_CIDRS/);
    assert.match(await refused(open, 'https://192.168.1.1/'), /not in MDL_OUTBOUND_ALLOW_CIDRS/);
  });

  it('allows public addresses on registered ports, with https on production', async () => {
    const p = policy();
    const d = await checkDestination(p, 'https://his.example.org/umdl/callback', DEFAULT_PORTS);
    assert.deepEqual([d.address, d.family, d.port, d.servername], ['203.0.114.10', 4, 443, 'his.example.org']);
    const v6 = await checkDestination(p, 'https://v6.example.org/', DEFAULT_PORTS);
    assert.equal(v6.address, '2400:3200::1');
    assert.match(await refused(p, 'https://his.example.org:8443/'), /port 8443 is not registered/);
    assert.equal((await checkDestination(p, 'https://his.example.org:8443/', [8443])).port, 8443);
    assert.match(await refused(p, 'https://his.example.org:22/', [8443])!, /port 22/);
    assert.match(await refused(p, 'http://his.example.org/'), /https required/);
    const httpOk = policy({ outboundHttpCidrs: '203.0.114.0/24' });
    assert.equal((await checkDestination(httpOk, 'http://his.example.org/', DEFAULT_PORTS)).port, 80);
    // A sandbox does not require https.
    assert.equal((await checkDestination(policy({ deployment: 'sandbox' }), 'http://his.example.org/', DEFAULT_PORTS)).port, 80);
  });

  it('refuses a name with any address inside, an unknown name, odd schemes and credentials', async () => {
    const p = policy({ outboundHttpCidrs: '0.0.0.0/0' });
    assert.match(await refused(p, 'https://mixed.example.org/'), /10\.0\.0\.5/);
    assert.match(await refused(p, 'https://mapped.example.org/'), /loopback address 127\.0\.0\.1/);
    assert.match(await refused(p, 'https://nowhere.example.org/'), /does not resolve/);
    assert.match(await refused(p, 'file:///etc/passwd'), /scheme/);
    assert.match(await refused(p, 'gopher://his.example.org/'), /scheme/);
    assert.match(await refused(p, 'https://u:p@his.example.org/'), /credentials/);
    assert.match(await refused(p, 'not a url'), /not a URL/);
  });

  it("refuses the platform's own addresses, even inside the allow-list", async () => {
    const p = policy({ outboundAllowCidrs: '10.0.0.0/8', outboundHttpCidrs: '10.0.0.0/8' }, ['10.20.30.40']);
    assert.match(await refused(p, 'http://10.20.30.40/'), /own addresses/);
    assert.match(await refused(p, 'http://intranet.example.org/'), /own addresses/);
    assert.match(await refused(p, 'http://[::ffff:10.20.30.40]/'), /own addresses/);
  });

  it('loopback: refused on production unless listed; the sandbox allows it on any port but never its own', async () => {
    const prod = policy();
    for (const url of ['http://127.0.0.1/', 'http://localhost.invalid/', 'http://[::1]/', 'http://0x7f.1/', 'http://2130706433/']) {
      await refused(prod, url);
    }
    const sandbox = policy({ deployment: 'sandbox' });
    assert.equal((await checkDestination(sandbox, 'http://127.0.0.1:4567/', DEFAULT_PORTS)).port, 4567);
    assert.match(await refused(sandbox, 'http://127.0.0.1:8080/'), /platform itself/);
    // A sandbox that sets the list replaces its loopback default.
    assert.match(await refused(policy({ deployment: 'sandbox', outboundAllowCidrs: 'none' }), 'http://127.0.0.1:4567/'), /loopback/);
  });
});
