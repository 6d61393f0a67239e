import type { FastifyInstance } from 'fastify';
import { epochMsToChinaTime } from '@mdl/protocol';
import { readOutbox } from '../../domain/sms/gateway.js';
import type { Platform } from '../../platform.js';
import { notice } from '../components.js';
import { h, type Html } from '../html.js';
import { sendPage } from './common.js';

/**
 * The sandbox's SMS outbox, for the tester: the sign-in codes the platform "sent", newest first. Served
 * only by a sandbox without an SMS gateway (plugin.ts); production has no outbox at all.
 */
export function sandboxSmsRoutes(app: FastifyInstance, platform: Platform): void {
  app.get('/card/sandbox/sms', async (_req, reply) => {
    const rows = await readOutbox(platform.db, platform.vault, 20);
    const list = rows.length ? rows.map(smsCard) : notice('', '还没有短信。');
    return sendPage(reply, '测试环境短信', h`<p class="muted">测试环境不发真实短信：验证码显示在这里（最近 20 条）。</p>${list}`);
  });
}

/** One message as the phone would have shown it, with when and to which number it went. */
function smsCard(m: { phone: string; text: string; at: Date }): Html {
  return h`<div class="card sms"><p class="muted">${epochMsToChinaTime(m.at.getTime())} 发往 <span class="sms-phone">${m.phone}</span></p>
<p class="sms-text">${m.text}</p></div>`;
}
