import { h, type Html } from '../html.js';
import type { ConsoleReader } from '../../domain/console/reader.js';
import { cells, scrollTable } from './components.js';
import { auditAction } from '../../domain/console/auth.js';
import { APPEAL_REASONS, APPEAL_STATUS_TEXT, AppealError, answerAppeal, decideAppeal, MAX_APPEAL_TEXT } from '../../domain/appeals.js';
import { actorOf, type ConsoleContext, html, need, notFound, readerOf } from './context.js';
import { listTotals } from './exports.js';
import { consolePage, csrfField, field, num, regionName, STATE_TEXT, str, tag, time, yuan } from './layout.js';
import { Fields, FormBody, IdParams } from '../route-schemas.js';

const statusTag = (s: keyof typeof APPEAL_STATUS_TEXT) =>
  tag(APPEAL_STATUS_TEXT[s], s === 'upheld' ? 'ok' : s === 'rejected' ? 'bad' : 'warn');

const DECIDE_CONFIRM = '提交裁决？裁决提交后不能更改；"申诉成立"会立即撤销该欠费记录并通知机构。';

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
  return h`<form class="filters" method="get"><label>状态 <select name="status">${options}</select></label><button type="submit">筛选</button></form>`;
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
    const d = id === undefined ? undefined : await readerOf(platform, req).appeal(id);
    if (!d) notFound('申诉');
    await auditAction(db, actor, 'console.appeal.view', `appeal:${d.appeal.id}`, null, {
      subject: d.appeal.subject_bidx,
      orgId: d.appeal.org_id,
    });
    const { appeal: a, item: i, inst, batch } = d;
    const open = a.status === 'open' || a.status === 'answered';
    const answerForm =
      open && actor.role === 'staff'
        ? h`<form method="post" action="/console/appeals/${a.id}/answer" class="card" id="answer-form">${csrfField(actor)}
${field({ label: '机构答复（将提供给运营人员裁决，并向患者展示）', name: 'reply', value: values.reply ?? a.org_reply ?? '', error: errors.reply, textarea: true, hint: `不超过 ${MAX_APPEAL_TEXT} 字` })}
<p><button type="submit">提交答复</button></p></form>`
        : '';
    const decideForm =
      open && actor.role === 'operator'
        ? h`<form method="post" action="/console/appeals/${a.id}/decide" class="card" id="decide-form" data-confirm="${DECIDE_CONFIRM}" data-confirm-ok="提交裁决">${csrfField(actor)}
${field({
  label: '裁决',
  name: 'decision',
  value: values.decision ?? '',
  error: errors.decision,
  options: [
    ['', '请选择'],
    ['upheld', '申诉成立：撤销该记录'],
    ['rejected', '申诉不成立：驳回'],
  ],
})}
${field({ label: '理由（驳回时必填，将向患者展示）', name: 'reason', value: values.reason ?? '', error: errors.reason, textarea: true })}
<p><button type="submit">提交裁决</button></p></form>`
        : '';
    const body = h`${errors.form ? h`<div class="card bad" role="alert">${errors.form}</div>` : ''}
<div class="card"><h3>申诉 ${statusTag(a.status)}</h3><dl class="kv">
<dt>提交时间</dt><dd>${time(a.created_at)}</dd><dt>原因</dt><dd>${APPEAL_REASONS[a.reason]}</dd><dt>患者说明</dt><dd id="citizen-text">${a.description}</dd>
<dt>收据照片</dt><dd>${
      (await readerOf(platform, req).appealHasReceipt(a.id))
        ? h`<a href="/console/appeals/${a.id}/receipt" target="_blank" id="receipt-link"><img src="/console/appeals/${a.id}/receipt" alt="患者上传的缴费收据照片" class="receipt" id="receipt-photo"></a>`
        : h`<span class="muted">未上传</span>`
    }</dd>
${a.org_reply ? h`<dt>机构答复</dt><dd id="org-reply">${a.org_reply}（${a.org_replied_by ?? ''}，${time(a.org_replied_at)}）</dd>` : ''}
${a.decided_at ? h`<dt>裁决</dt><dd id="decision">${APPEAL_STATUS_TEXT[a.status]}${a.decision_reason ? h`：${a.decision_reason}` : ''}（${a.decided_by ?? ''}，${time(a.decided_at)}）</dd>` : ''}
</dl></div>
<div class="card"><h3>被申诉的记录</h3><dl class="kv">
<dt>平台跟踪号</dt><dd><code>${i.trace_id}</code></dd><dt>机构流水号</dt><dd>${i.org_trace_id}</dd><dt>患者</dt><dd>${i.name} ${i.idNo} ${i.phone}</dd>
<dt>项目</dt><dd><a href="/console/items/${i.id}" id="appeal-item-link">${i.item_name}</a></dd><dt>金额</dt><dd>${yuan(i.amount_fen)}</dd><dt>发生时间</dt><dd>${time(i.actual_time)}</dd>
<dt>当前状态</dt><dd id="item-state">${STATE_TEXT[i.state]}${i.settled_at ? h`（${time(i.settled_at)}）` : ''}</dd>
<dt>上报批次</dt><dd>${batch ? h`<a href="/console/batches/${batch.id}">${batch.org_request_id}</a>（${time(batch.received_at)}）` : ''}</dd>
</dl></div>
<div class="card"><h3>上报机构</h3><dl class="kv"><dt>机构</dt><dd>${inst?.org_name ?? ''}（${a.org_id}）</dd><dt>地区</dt><dd>${regionName(inst?.region)}</dd></dl></div>
${answerForm}${decideForm}
${d.history.length ? h`<p class="muted">该记录的其他申诉：${d.history.map((x) => h`<a href="/console/appeals/${x.id}">#${x.id}</a>（${APPEAL_STATUS_TEXT[x.status]}） `)}</p>` : ''}`;
    return consolePage(actor, { title: `申诉 ${a.id}`, active: '/console/appeals', body });
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
