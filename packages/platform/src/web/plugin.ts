import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
import { landingPage } from './landing.js';
import { FAVICON_SVG } from './error-pages.js';
import type { Platform } from '../platform.js';

/** Health, metrics and the landing page. Other pages (citizen app, console) register beside this. */
export const webPlugin: FastifyPluginAsync<{ platform: Platform }> = async (app, { platform }) => {
  app.get('/healthz', async (_req, reply) => {
    try {
      await sql`SELECT 1`.execute(platform.db);
    } catch {
      return reply.code(503).send({ status: 'unavailable', reason: 'database' });
    }
    if (platform.draining) return reply.code(503).send({ status: 'draining' });
    return { status: 'ok' };
  });

  app.get('/metrics', async (_req, reply) => reply.type('text/plain; version=0.0.4').send(platform.metrics.prometheus()));

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(landingPage()));

  for (const path of ['/favicon.svg', '/favicon.ico']) {
    app.get(path, async (_req, reply) => reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON_SVG));
  }
};
