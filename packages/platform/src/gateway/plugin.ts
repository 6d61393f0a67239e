import { INTERFACES } from '@mdl/protocol';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { API_HANDLERS } from '../api/index.js';
import type { Platform } from '../platform.js';
import { runPipeline } from './pipeline.js';

/** One POST route per interface, at the guide's path suffix under the configured prefix. */
export const gatewayPlugin: FastifyPluginAsync<{ platform: Platform }> = async (app: FastifyInstance, { platform }) => {
  for (const handler of API_HANDLERS) {
    const path = platform.config.apiPrefix + INTERFACES[handler.code].path;
    app.post(path, async (req, reply) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      const r = await runPipeline(platform, handler, raw, req.id);
      req.log.debug({ code: handler.code, appId: r.appId, respCode: r.respCode }, 'interface call');
      platform.metrics.count(handler.code, r.respCode);
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(r.envelope));
    });
  }
};
