import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { startTestPlatform, type TestPlatform, CONSOLE_ASSETS, acceptedEncoding } from '@mdl/platform/testing';

const echarts = readFileSync(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'));

describe('static assets', () => {
  let t: TestPlatform;
  before(async () => (t = await startTestPlatform()));
  after(() => t.close());
  const get = (url: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url, headers });

  it('are served under a content hash, kept for a year, compressed as the browser asks', async () => {
    const url = CONSOLE_ASSETS.url('echarts.min.js');
    assert.match(url, /^\/console\/assets\/echarts\.min\.[0-9a-f]{16}\.js$/);
    const br = await get(url, { 'accept-encoding': 'gzip, deflate, br, zstd' });
    assert.equal(br.statusCode, 200);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(br.headers['vary'], 'accept-encoding');
    assert.match(String(br.headers['content-type']), /^text\/javascript/);
    assert.ok(brotliDecompressSync(br.rawPayload).equals(echarts), 'the brotli bytes decompress to the file');
    assert.ok(br.rawPayload.length < echarts.length * 0.35, `brotli: ${br.rawPayload.length} of ${echarts.length} bytes`);

    const gz = await get(url, { 'accept-encoding': 'br;q=0, gzip' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.ok(gunzipSync(gz.rawPayload).equals(echarts), 'the gzip bytes decompress to the file');

    const plain = await get(url);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.ok(plain.rawPayload.equals(echarts));

    const again = await get(url, { 'if-none-match': String(br.headers.etag), 'accept-encoding': 'br' });
    assert.equal(again.statusCode, 304);
    assert.equal(again.rawPayload.length, 0);
  });

  it('a URL of another release gets this content without a long cache, and unknown files 404', async () => {
    const old = await get('/console/assets/echarts.min.0123456789abcdef.js', { 'accept-encoding': 'gzip' });
    assert.equal(old.statusCode, 200);
    assert.equal(old.headers['cache-control'], 'no-cache');
    assert.ok(gunzipSync(old.rawPayload).equals(echarts));
    const dashboard = await get(CONSOLE_ASSETS.url('dashboard.js'), { 'accept-encoding': 'br' });
    assert.equal(dashboard.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.match(brotliDecompressSync(dashboard.rawPayload).toString('utf8'), /window\.echarts\.init/);
    assert.equal((await get('/console/assets/secrets.0123456789abcdef.js')).statusCode, 404);
    assert.equal((await get('/console/assets/..%2F..%2Fpackage.json')).statusCode, 404);
  });

  it('reads Accept-Encoding as RFC 9110 says', () => {
    assert.equal(acceptedEncoding(undefined), undefined);
    assert.equal(acceptedEncoding('identity'), undefined);
    assert.equal(acceptedEncoding('gzip;q=0, br;q=0'), undefined);
    assert.equal(acceptedEncoding('GZIP'), 'gzip');
    assert.equal(acceptedEncoding('*'), 'gzip');
    assert.equal(acceptedEncoding('gzip, br;q=0.5'), 'br');
  });
});
