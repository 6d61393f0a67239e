import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRequire } from 'node:module';
import Fastify from 'fastify';
import { lazySchemaCompilers } from './lazy-compilers.js';

describe('lazily loaded schema compilers', () => {
  it('still validate request bodies and serialize responses of a route that has schemas', async () => {
    const app = Fastify({ schemaController: lazySchemaCompilers() });
    app.post(
      '/echo',
      {
        schema: {
          body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
          response: { 200: { type: 'object', properties: { n: { type: 'integer' } } } },
        },
      },
      async (req) => ({ n: (req.body as { n: number }).n, secret: 'left out by the response schema' }),
    );
    try {
      const bad = await app.inject({ method: 'POST', url: '/echo', payload: { n: 'one' } });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.json().message, /body\/n must be integer/);
      const good = await app.inject({ method: 'POST', url: '/echo', payload: { n: 7 } });
      assert.equal(good.statusCode, 200);
      assert.deepEqual(good.json(), { n: 7 });
    } finally {
      await app.close();
    }
  });

  it('loads ajv on the first request that needs a validator, not when a route with a schema is added', async () => {
    const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
    const ajvCompiler = fromFastify.resolve('@fastify/ajv-compiler');
    delete fromFastify.cache[ajvCompiler];
    const app = Fastify({ schemaController: lazySchemaCompilers() });
    app.get('/page', { schema: { querystring: { type: 'object', properties: { p: { type: 'string' } } } } }, async () => 'ok');
    try {
      await app.ready();
      assert.equal(fromFastify.cache[ajvCompiler], undefined, 'not loaded at start-up');
      assert.equal((await app.inject({ url: '/page?p=1' })).statusCode, 200);
      assert.ok(fromFastify.cache[ajvCompiler], 'loaded for the first request');
    } finally {
      await app.close();
    }
  });
});
