import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../config.js';
import { buildEhcServices } from './index.js';

const base = { MDL_MASTER_KEY: '00112233445566778899aabbccddeeff', MDL_DATA_DIR: '/nonexistent-ehc-test' };

describe('e-health-card settings', () => {
  it('has defaults: built-in registry, 10-minute sessions, 5-minute codes, no mini-program', () => {
    const c = loadConfig(base);
    assert.equal(c.ehcRegistry, 'builtin');
    assert.equal(c.ehcSessionTtlSeconds, 600);
    assert.equal(c.ehcCodeTtlSeconds, 60);
    assert.equal(c.ehcEnv, 'DEV');
    assert.equal(c.ehcWxMiniAppId, undefined);
    assert.equal(c.ehcWxMiniPath, 'pages/loading/index');
  });

  it('reads the settings and refuses bad values and unknown names', () => {
    const c = loadConfig({ ...base, MDL_EHC_ENV: 'PROD', MDL_EHC_WX_MINI_APP_ID: 'wx1234567890abcdef', MDL_EHC_SESSION_TTL_S: '120' });
    assert.equal(c.ehcEnv, 'PROD');
    assert.equal(c.ehcWxMiniAppId, 'wx1234567890abcdef');
    assert.equal(c.ehcSessionTtlSeconds, 120);
    for (const bad of [
      { MDL_EHC_REGISTRY: 'city' },
      { MDL_EHC_ENV: 'prod env' },
      { MDL_EHC_CODE_TTL_S: '5' },
      { MDL_EHC_WX_MINI_PATH: 'pages/x?y=1' },
      { MDL_EHC_SESION_TTL_S: '60' },
      { PUBLIC_URL: 'https://example.org/' + 'x'.repeat(160) },
    ]) {
      assert.throws(() => loadConfig({ ...base, ...bad }), ConfigError, JSON.stringify(bad));
    }
  });

  it('reads the city card system settings, and will not run "upstream" without them', () => {
    const up = { MDL_EHC_REGISTRY: 'upstream', MDL_EHC_UPSTREAM_URL: 'https://ehc.city.example/api/', MDL_EHC_UPSTREAM_APP_ID: 'MDL01' };
    const c = loadConfig({ ...up, ...base, MDL_EHC_UPSTREAM_SECRET: 'S'.repeat(32), MDL_EHC_UPSTREAM_RETRIES: '1' });
    assert.deepEqual(c.ehcUpstream, {
      url: 'https://ehc.city.example/api',
      appId: 'MDL01',
      secret: 'S'.repeat(32),
      timeoutMs: 3000,
      retries: 1,
    });
    assert.equal(loadConfig(base).ehcUpstream, undefined);
    for (const bad of [
      { MDL_EHC_UPSTREAM_SECRET: 'S'.repeat(32), MDL_EHC_UPSTREAM_URL: '' },
      { MDL_EHC_UPSTREAM_SECRET: 'S'.repeat(32), MDL_EHC_UPSTREAM_URL: 'ftp://ehc.city.example' },
      { MDL_EHC_UPSTREAM_SECRET: 'short' },
      { MDL_EHC_UPSTREAM_SECRET: 'S'.repeat(32), MDL_EHC_UPSTREAM_APP_ID: '' },
      { MDL_EHC_UPSTREAM_SECRET: 'S'.repeat(32), MDL_EHC_UPSTREAM_RETRIES: '9' },
    ]) {
      assert.throws(() => loadConfig({ ...base, ...up, ...bad }), /MDL_EHC_UPSTREAM_/, JSON.stringify(bad));
    }
    // Settings given by a host application without the adapter: the start stops rather than issue cards itself.
    const noCity = { ...loadConfig(base), ehcRegistry: 'upstream' as const };
    assert.throws(
      () => buildEhcServices({ db: undefined as never, vault: undefined as never, config: noCity, city: undefined }),
      /no city card system/,
    );
  });
});
