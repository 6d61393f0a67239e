import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import { RespCode } from '@mdl/protocol';
import { gatewayPlugin } from './gateway/plugin.js';
import { isDatabaseAway } from './db/outage.js';
import { unsignedReply } from './gateway/pipeline.js';
import type { Platform } from './platform.js';
import { citizenPlugin } from './web/citizen/plugin.js';
import { badRequestPage, isSchemaError, notFoundPage, sendPage, serverErrorPage, wantsPage } from './web/error-pages.js';
import { webPlugin } from './web/plugin.js';
import { markSandboxPages } from './web/sandbox-marker.js';
import { apiDocsPlugin } from './web/api-docs.js';
import { ehcPagesPlugin } from './web/ehc/plugin.js';
import { consolePlugin } from './web/console/plugin.js';
import { lazySchemaCompilers } from './start/lazy-compilers.js';
import { isRequestId } from './request-id.js';
import { limitedServer } from './start/time-limits.js';

/** Builds the HTTP application without listening, so tests can use inject(). */
export async function buildApp(platform: Platform): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: platform.log as FastifyBaseLogger,
    // One debug line per interface call comes from the gateway; Fastify's own two lines per request would
    // dominate the log at booking-time load.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: platform.config.bodyLimitBytes,
    serverFactory: limitedServer(platform.config.requestTimeoutMs),
    schemaController: lazySchemaCompilers(),
    // Fastify gives a plugin 10 s to start. Ours do no I/O while they register, but on a machine busy with
    // other work (CI running browsers and databases side by side) the event loop can be that late; a start that
    // truly hangs is still caught, by the start-up's own limit and the test runner's.
    pluginTimeout: 60_000,
    // Behind nginx (deploy/): the caller's address comes from X-Forwarded-For, believed only from listed proxies.
    ...(platform.config.trustProxy.length ? { trustProxy: platform.config.trustProxy.join(',') } : {}),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return isRequestId(given) ? given : randomUUID();
    },
  });
  // The gateway parses the envelope itself, so that malformed JSON still gets an enveloped reply.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  // Pages post ordinary HTML forms (they work without JavaScript) and keep sessions in cookies.
  await app.register(formbody);
  await app.register(cookie);
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });

  app.setNotFoundHandler((req, reply) => {
    if (req.method === 'POST') return reply.type('application/json; charset=utf-8').send(unsignedReply(RespCode.BAD_PATH).envelope);
    return sendPage(reply, 404, notFoundPage());
  });
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.type('application/json; charset=utf-8').send(unsignedReply(RespCode.INVALID_PARAM, '请求报文过大').envelope);
    }
    // A page route's schema refused the request: the styled page, not the interfaces' JSON.
    if (isSchemaError(err)) return sendPage(reply, 400, badRequestPage());
    if (err.statusCode && err.statusCode < 500) {
      return reply.type('application/json; charset=utf-8').send(unsignedReply(RespCode.INVALID_PARAM, '请求格式不正确').envelope);
    }
    if (isDatabaseAway(err)) req.log.warn({ err: err.message, requestId: req.id }, 'dependency unavailable: database');
    else req.log.error({ err, requestId: req.id }, 'unhandled error');
    if (wantsPage(req)) return sendPage(reply, 500, serverErrorPage(req.id));
    return reply
      .type('application/json; charset=utf-8')
      .send(unsignedReply(RespCode.SYSTEM_ERROR, `系统错误，请求编号 ${req.id}`).envelope);
  });

  if (platform.config.deployment === 'sandbox') markSandboxPages(app);
  await app.register(gatewayPlugin, { platform });
  await app.register(webPlugin, { platform });
  await app.register(apiDocsPlugin, { platform });
  await app.register(ehcPagesPlugin, { platform });
  await app.register(citizenPlugin, { platform });
  await app.register(consolePlugin, { platform, prefix: '/console' });
  return app;
}
