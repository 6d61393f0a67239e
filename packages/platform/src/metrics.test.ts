import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metrics } from './metrics.js';
import { platformRegistry } from './metrics-scrape.js';
import type { Platform } from './platform.js';

/** The counting side alone; the whole listener over HTTP after a real flow is test/metrics.test.ts. */
describe('Metrics as Prometheus reads them', () => {
  it('puts each duration in the first bucket it fits, cumulatively, with +Inf, sum and count', async () => {
    const metrics = new Metrics();
    for (const s of [0.001, 0.0011, 0.004, 0.3, 20]) metrics.call('ORG_MDL_002', '000000', s);
    metrics.call('ORG_MDL_002', '-8', 0.0005);
    // Only the figures Metrics holds are read here (the database ones need a platform's database).
    const registry = platformRegistry({ metrics } as Platform);
    const text = await registry.getSingleMetricAsString('mdl_interface_duration_seconds');
    const bucket = (le: string) =>
      Number(new RegExp(`_bucket\\{code="ORG_MDL_002",le="${le.replace('+', '\\+')}"\\} (\\S+)`).exec(text)?.[1]);
    assert.equal(bucket('0.001'), 2, '0.0005 and 0.001 (a bound is inclusive)');
    assert.equal(bucket('0.0025'), 3);
    assert.equal(bucket('0.005'), 4);
    assert.equal(bucket('0.25'), 4);
    assert.equal(bucket('0.5'), 5);
    assert.equal(bucket('10'), 5);
    assert.equal(bucket('+Inf'), 6);
    assert.match(text, /^# TYPE mdl_interface_duration_seconds histogram$/m);
    assert.match(text, /^mdl_interface_duration_seconds_count\{code="ORG_MDL_002"\} 6$/m);
    assert.match(text, /^mdl_interface_duration_seconds_sum\{code="ORG_MDL_002"\} 20\.3066$/m);
    const calls = await registry.getSingleMetricAsString('mdl_interface_requests_total');
    assert.match(calls, /^mdl_interface_requests_total\{code="ORG_MDL_002",resp_code="000000"\} 5$/m);
    assert.match(calls, /^mdl_interface_requests_total\{code="ORG_MDL_002",resp_code="-8"\} 1$/m);
  });

  it('reads the counters as they stand at each scrape, from zero', async () => {
    const metrics = new Metrics();
    const registry = platformRegistry({ metrics } as Platform);
    const read = () => registry.getSingleMetricAsString('mdl_callback_attempts_total');
    assert.match(await read(), /outcome="delivered"\} 0$/m);
    metrics.callbackAttempt('delivered');
    metrics.callbackAttempt('error');
    metrics.callbackAttempt('delivered');
    assert.match(await read(), /outcome="delivered"\} 2$/m);
    assert.match(await read(), /outcome="error"\} 1$/m);
    assert.match(await read(), /outcome="refused"\} 0$/m);
    metrics.deadLetter('callback-dead-v1');
    assert.match(await registry.getSingleMetricAsString('mdl_dead_letters_total'), /queue="callback-dead-v1"\} 1$/m);
  });
});
