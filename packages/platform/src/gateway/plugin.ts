import { INTERFACES, RespCode } from '@mdl/protocol';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { API_HANDLERS } from '../api/index.js';
import { auditRefusal } from '../domain/refusals.js';
import type { Platform } from '../platform.js';
import { runPipeline, unsignedReply } from './pipeline.js';

/** Methods other than POST on an interface path: answered with an envelope too, not a page's 404. */
const OTHER_METHODS = ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** One POST route per interface, at the guide's path suffix under the configured prefix. */
export const gatewayPlugin: FastifyPluginAsync<{ platform: Platform }> = async (app: FastifyInstance, { platform }) => {
  for (const handler of API_HANDLERS) {
    const path = platform.config.apiPrefix + INTERFACES[handler.code].path;
    app.post(path, async (req, reply) => {
      const raw = typeof req.body === 'string' ? req.body : '';
      const r = await runPipeline(platform, handler, raw, req.id);
      // Since the request arrived (its body included), in milliseconds.
      const ms = reply.elapsedTime;
      platform.metrics.call(handler.code, r.respCode, ms / 1000);
      // One line per interface call; the request id joins it to nginx's access log, the jobs and the outbound calls.
      platform.log.info(
        { requestId: req.id, appId: r.appId, code: handler.code, respCode: r.respCode, durationMs: Math.round(ms * 10) / 10 },
        'interface call',
      );
      if (r.refusal !== undefined) {
        await auditRefusal(platform.auditWriter, platform.log, {
          appId: r.appId,
          interfaceCode: handler.code,
          respCode: r.respCode,
          reason: r.refusal,
          requestId: req.id,
        });
      }
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(r.envelope));
    });
    app.route({
      method: [...OTHER_METHODS],
      url: path,
      handler: async (req, reply) => {
        const r = unsignedReply(RespCode.BAD_PATH, '接口只接受 POST 请求');
        await auditRefusal(platform.auditWriter, platform.log, {
          appId: undefined,
          interfaceCode: handler.code,
          respCode: r.respCode,
          reason: `${req.method}: ${r.refusal}`,
          requestId: req.id,
        });
        return reply.type('application/json; charset=utf-8').send(JSON.stringify(r.envelope));
      },
    });
  }
};
