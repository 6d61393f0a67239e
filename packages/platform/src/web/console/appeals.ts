import { h, type Html } from '../html.js';
import type { ConsoleReader } from '../../domain/console/reader.js';
import { cells, scrollTable } from './components.js';
import { auditAction } from '../../domain/console/auth.js';
import { APPEAL_REASONS, APPEAL_STATUS_TEXT, AppealError, answerAppeal, decideAppeal } from '../../domain/appeals.js';
import { appealBody, statusTag } from './appeal-page.js';
import { actorOf, type ConsoleContext, html, need, notFound, readerOf } from './context.js';
import { listTotals } from './exports.js';
import { consolePage, num, str, time, yuan } from './layout.js';
import { Fields, FormBody, IdParams } from '../route-schemas.js';

type AppealRow = Awaited<ReturnType<ConsoleReader['appeals']>>[number];

const APPEAL_HEADINGS = ['编号', '提交时间', '机构', '记录', '金额', '原因', '说明', '状态'];

/** 待裁决 (the default: open or answered by the institution), 全部, or one status. */
function appealFilter(status: string): Html {
  const choices: [string, string][] = [
    ['pending', '待裁决（待处理 + 机构已答复）'],
    ['all', '全部'],
    ...Object.entries(APPEAL_STATUS_TEXT),
  ];
  const options = choices.map(([v, t]) => h`<option value="${v}" ${status === v ? 'selected' : ''}>${t}</option>`);
  const select = h`<label>状态 <select name="status">${options}</select></label>`;
  return h`<form class="filters" method="get">${select}<button type="submit">筛选</button></form>`;
}

function appealRow(a: AppealRow): Html {
  const link = h`<a href="/console/appeals/${a.id}">${a.id}</a>`;
  const item = h`<a href="/console/items/${a.item_id}">${a.item_name}</a><br><code>${a.trace_id}</code>`;
  const summary = [...a.description].slice(0, 60).join('');
  return h`<tr>${cells(link, time(a.created_at), a.org_name ?? a.org_id, item)}
${cells(yuan(a.amount_fen), APPEAL_REASONS[a.reason], { wrap: summary }, statusTag(a.status))}</tr>`;
}

export async function appealRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const { db } = platform;

  app.get('/appeals', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = actorOf(req);
    const q = req.query;
    const status = str(q.status) || 'pending';
    const rows = await readerOf(platform, req).appeals(status);
    const sum = rows.reduce((n, a) => n + Number(a.amount_fen), 0);
    const exportLink = `/console/appeals.csv?status=${encodeURIComponent(status)}`;
    const body = h`${appealFilter(status)}
${listTotals(h`共 <b>${rows.length}</b> 件申诉，涉及金额 <b>${yuan(sum)}</b>`, exportLink)}
${scrollTable('appeals', APPEAL_HEADINGS, rows.map(appealRow))}${rows.length === 0 ? h`<p class="muted">没有申诉。</p>` : ''}`;
    return html(reply, consolePage(actor, { title: '申诉', active: '/console/appeals', body }));
  });

  const show = async (
    req: Parameters<typeof actorOf>[0],
    id: number | undefined,
    errors: Record<string, string> = {},
    values: Record<string, string> = {},
  ) => {
    const actor = actorOf(req);
    const reader = readerOf(platform, req);
    const d = id === undefined ? undefined : await reader.appeal(id);
    if (!d) notFound('申诉');
    const hasReceipt = await reader.appealHasReceipt(d.appeal.id);
    await auditAction(db, actor, 'console.appeal.view', `appeal:${d.appeal.id}`, null, {
      subject: d.appeal.subject_bidx,
      orgId: d.appeal.org_id,
    });
    const body = appealBody(actor, d, hasReceipt, { errors, values });
    return consolePage(actor, { title: `申诉 ${d.appeal.id}`, active: '/console/appeals', body });
  };

  app.get('/appeals/:id', { schema: { params: IdParams } }, async (req, reply) => html(reply, await show(req, num(req.params.id))));

  app.post('/appeals/:id/answer', { schema: { params: IdParams, body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'staff');
    const id = num(req.params.id);
    const replyText = str((req.body ?? {}).reply);
    if (id === undefined) notFound('申诉');
    try {
      await answerAppeal(db, { appealId: id, orgId: actor.orgId!, reply: replyText, actor: actor.username });
    } catch (e) {
      if (!(e instanceof AppealError)) throw e;
      if (/不存在/.test(e.message)) notFound('申诉');
      return html(reply, await show(req, id, { reply: e.message }, { reply: replyText }), 400);
    }
    return reply.redirect(`/console/appeals/${id}`, 303);
  });

  app.post('/appeals/:id/decide', { schema: { params: IdParams, body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const id = num(req.params.id);
    if (id === undefined) notFound('申诉');
    const b = req.body ?? {};
    const decision = str(b.decision);
    const reason = str(b.reason);
    if (decision !== 'upheld' && decision !== 'rejected') {
      return html(reply, await show(req, id, { decision: '请选择裁决结果' }, { decision, reason }), 400);
    }
    try {
      await decideAppeal(db, { appealId: id, upheld: decision === 'upheld', reason, actor: actor.username }, platform.notices);
    } catch (e) {
      if (!(e instanceof AppealError)) throw e;
      return html(
        reply,
        await show(req, id, /理由/.test(e.message) ? { reason: e.message } : { form: e.message }, { decision, reason }),
        400,
      );
    }
    return reply.redirect(`/console/appeals/${id}`, 303);
  });
}
