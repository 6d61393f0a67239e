import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../config.js';
import { cardRegistry } from './registry.js';

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

  it('will not run "upstream" without an adapter, rather than fall back silently', () => {
    assert.throws(() => cardRegistry(undefined as never, undefined as never, 'upstream'), /no upstream card registry adapter/);
  });
});
