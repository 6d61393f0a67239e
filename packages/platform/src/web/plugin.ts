import type { FastifyPluginAsync } from 'fastify';
import { databaseAnswers } from '../domain/deployment.js';
import { landingPage } from './landing.js';
import { FAVICON_SVG } from './error-pages.js';
import type { Platform } from '../platform.js';

/**
 * Health and the landing page (metrics have a listener of their own: start/metrics-listener.ts). Other pages
 * (citizen app, console) register beside this.
 */
export const webPlugin: FastifyPluginAsync<{ platform: Platform }> = async (app, { platform }) => {
  app.get('/healthz', async (_req, reply) => {
    if (!(await databaseAnswers(platform.db))) return reply.code(503).send({ status: 'unavailable', reason: 'database' });
    if (platform.draining) return reply.code(503).send({ status: 'draining' });
    return { status: 'ok' };
  });

  app.get('/', async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(landingPage({ kiosk: platform.config.deployment === 'sandbox' })),
  );

  for (const path of ['/favicon.svg', '/favicon.ico']) {
    app.get(path, async (_req, reply) => reply.type('image/svg+xml').header('cache-control', 'public, max-age=86400').send(FAVICON_SVG));
  }
};
