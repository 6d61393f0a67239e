import type { FastifyPluginAsync } from 'fastify';
import { INTERFACES } from '@mdl/protocol';
import { sql } from 'kysely';
import { API_HANDLERS } from '../api/index.js';
import { h, page } from './html.js';
import type { Platform } from '../platform.js';

/** Health and the landing page (metrics have a listener of their own: start/metrics-listener.ts). Other pages (citizen app, console) register beside this. */
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

  app.get('/', async (_req, reply) => {
    const p = platform.config.apiPrefix;
    const interfaces = API_HANDLERS.map(({ code }) => {
      const def = INTERFACES[code];
      return h`<li><code>${p + def.path}</code> ${def.name}（${code}）</li>`;
    });
    reply.type('text/html; charset=utf-8');
    return page({
      title: '福建省诊疗失信人员信息管理系统',
      body: h`<div class="card"><p>先诊后付 · 医疗欠费名单平台接口服务运行中。</p>
<p>医疗机构接口（SM3 签名、SM4 加密的 JSON 报文，POST）：</p><ul>${interfaces}</ul>
<p>接口文档：<a href="/docs">/docs</a>（OpenAPI 3.1：<a href="/openapi.json">/openapi.json</a>）</p>
<p>电子健康卡：<a href="/card">我的电子健康卡</a>${platform.config.deployment === 'sandbox' ? h` · <a href="/card/kiosk">自助机演示</a>` : ''}</p>
<p>运营管理后台：<a href="/console">/console</a></p>
<p class="muted">健康检查：<a href="/healthz">/healthz</a></p></div>`,
    });
  });
};
