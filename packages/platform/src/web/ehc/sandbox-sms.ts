import type { FastifyInstance } from 'fastify';
import { epochMsToChinaTime } from '@mdl/protocol';
import { readOutbox } from '../../domain/sms/gateway.js';
import type { Platform } from '../../platform.js';
import { h } from '../html.js';
import { sendPage } from './common.js';

/**
 * The sandbox's SMS outbox, for the tester: the sign-in codes the platform "sent", newest first. Served
 * only by a sandbox without an SMS gateway (plugin.ts); production has no outbox at all.
 */
export function sandboxSmsRoutes(app: FastifyInstance, platform: Platform): void {
  app.get('/card/sandbox/sms', async (_req, reply) => {
    const rows = await readOutbox(platform.db, platform.vault, 20);
    const list = rows.length
      ? rows.map(
          (
            r,
          ) => h`<div class="card sms"><p class="muted">${epochMsToChinaTime(r.at.getTime())} 发往 <span class="sms-phone">${r.phone}</span></p>
<p class="sms-text">${r.text}</p></div>`,
        )
      : h`<div class="notice">还没有短信。</div>`;
    return sendPage(reply, '测试环境短信', h`<p class="muted">测试环境不发真实短信：验证码显示在这里（最近 20 条）。</p>${list}`);
  });
}
