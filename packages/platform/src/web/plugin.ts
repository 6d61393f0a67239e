import type { FastifyPluginAsync } from 'fastify';
import { sql } from 'kysely';
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

  app.get('/', async (_req, reply) => {
    reply.type('text/html; charset=utf-8');
    return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>福建省诊疗失信人员信息管理系统</title>
<style>body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1f2937;line-height:1.6}code{background:#f3f4f6;padding:.1rem .3rem;border-radius:.2rem}</style></head>
<body><h1>福建省诊疗失信人员信息管理系统</h1><p>先诊后付 · 医疗欠费名单平台接口服务运行中。</p>
<p>医疗机构接口（签名加密 JSON，POST）：</p><ul>
<li><code>${platform.config.apiPrefix}/umdl/reportOverdueData</code> 上报医疗欠费数据（ORG_MDL_001）</li>
<li><code>${platform.config.apiPrefix}/qmdl/queryOverdueData</code> 查询医疗欠费状况（ORG_MDL_002）</li>
<li><code>${platform.config.apiPrefix}/umdl/updateOverdueData</code> 更新医疗欠费数据（ORG_MDL_003）</li>
<li><code>${platform.config.apiPrefix}/qmdl/getIntoMdlUrl</code> 获取医疗欠费名单应用入口链接（ORG_MDL_004）</li>
<li><code>${platform.config.apiPrefix}/qmdl/queryReportResult</code> 查询上报/更新结果（ORG_MDL_005）</li>
<li><code>${platform.config.apiPrefix}/ehc/queryEcAuthResult</code> 查询医保患者主索引（ORG_EHC_004）</li>
</ul><p>健康检查：<a href="/healthz">/healthz</a></p></body></html>`;
  });
};
