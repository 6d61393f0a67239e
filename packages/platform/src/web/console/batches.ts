import { MED_TYPES } from '@mdl/protocol';
import { h, type Html } from '../html.js';
import { auditAction, type Actor } from '../../domain/console/auth.js';
import { failedCallbackBatches, PAGE_SIZE, type ItemView } from '../../domain/console/batches.js';
import { resendCallback } from '../../domain/callbacks.js';
import { actorOf, type ConsoleContext, html, need, notFound, readerOf } from './context.js';
import { readableDetail } from './readable.js';
import { exportHref, listTotals } from './exports.js';
import { CALLBACK_TEXT, consolePage, csrfField, num, STATE_TEXT, str, tag, time, yuan } from './layout.js';
import { Fields, FormBody, IdParams } from '../route-schemas.js';
import { cells, scrollTable } from './components.js';
import type { ConsoleReader } from '../../domain/console/reader.js';

const cbTag = (s: string) => tag(CALLBACK_TEXT[s] ?? s, s === 'delivered' ? 'ok' : s === 'failed' ? 'bad' : 'warn');
const stateTag = (s: string) => tag(STATE_TEXT[s] ?? s, s === '0' ? 'warn' : s === '1' ? 'ok' : '');

type BatchRow = Awaited<ReturnType<ConsoleReader['batches']>>[number];

const BATCH_HEADINGS = ['编号', '机构', '请求批次号', '类型', '条数', '处理', '成功/失败', '回调', '回调次数', '接收时间'];
const FAILED_HEADINGS = ['批次', '机构', '请求批次号', '回调次数', '接收时间'];
const ATTEMPT_HEADINGS = ['批次', '机构', '第几次', '时间', '耗时', 'HTTP', '结果', '响应 / 原因'];

const batchLink = (b: BatchRow) => h`<a href="/console/batches/${b.id}">${b.id}</a>`;

function batchRow(b: BatchRow): Html {
  const processed = b.status === 'done' ? tag('已处理', 'ok') : tag('处理中', 'warn');
  const counts = `${b.accepted_count ?? '-'} / ${b.rejected_count ?? '-'}`;
  return h`<tr>${cells(batchLink(b), b.org_name ?? b.org_id, b.org_request_id, b.kind === 'REPORT' ? '上报' : '更新', b.item_count)}
${cells(processed, counts, cbTag(b.callback_status), b.callback_attempts, time(b.received_at))}</tr>`;
}

/** A batch whose callback failed; operators tick it to resend. */
function failedRow(b: BatchRow, canResend: boolean): Html {
  const tick = canResend ? h`<td><input type="checkbox" name="batchId" value="${b.id}" aria-label="选择批次 ${b.id}"></td>` : '';
  return h`<tr>${tick}${cells(batchLink(b), b.org_name ?? b.org_id, b.org_request_id, b.callback_attempts, time(b.received_at))}</tr>`;
}

function pager(base: string, query: Record<string, string | undefined>, page: number, more: boolean): Html {
  const link = (p: number) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
    q.set('page', String(p));
    return `${base}?${q.toString()}`;
  };
  return h`<div class="pager">${page > 1 ? h`<a href="${link(page - 1)}">上一页</a> ` : ''}第 ${page} 页${more ? h` <a href="${link(page + 1)}">下一页</a>` : ''}</div>`;
}

/** Key columns first (患者, 金额, 状态), so they stay in view on a tablet; identifiers after them. */
export function itemsTable(items: ItemView[], names: Map<string, string> = new Map()): Html {
  const med = MED_TYPES as Record<string, string>;
  const head = ['患者', '金额', '状态', '项目', '机构', '发生时间', '就诊类型', '证件号', '机构流水号', '平台跟踪号', '批次'];
  const row = (i: ItemView) => h`<tr><td>${i.name}${i.realName ? '' : h` <span class="tag">非实名</span>`}</td>
<td>${yuan(i.amountFen)}</td><td>${stateTag(i.state)}</td><td><a href="/console/items/${i.id}">${i.itemName}</a></td><td>${names.get(i.orgId) ?? i.orgId}</td>
<td>${time(i.actualTime)}</td><td>${med[i.medType] ?? i.medType}</td><td>${i.idNo}</td><td>${i.orgTraceId}</td>
<td><code>${i.traceId}</code></td><td><a href="/console/batches/${i.lastBatchId}">${i.lastBatchId}</a></td></tr>`;
  return h`<div class="tablewrap" tabindex="0" role="region" aria-label="表格，可左右滚动"><table class="data" id="items">
<thead><tr>${head.map((x) => h`<th scope="col">${x}</th>`)}</tr></thead><tbody>${items.map(row)}</tbody></table></div>`;
}

function resendNotice(q: Record<string, unknown>): Html | '' {
  if (str(q.resendError) === 'none') {
    return h`<div class="card bad" role="alert" id="resend-result">没有勾选任何回调，未重发。请先勾选要重发的批次。</div>`;
  }
  const n = num(q.resent);
  if (n === undefined) return '';
  return h`<div class="card ${n > 0 ? 'ok' : 'warn'}" role="status" id="resend-result">${n > 0 ? `已重新排队 ${n} 个回调。` : '没有可重发的回调（可能已被处理）。'}</div>`;
}

/** Bulk resends ask first; "重发所选" with nothing ticked says so beside the button and sends nothing. */
function resendButtons(failedCount: number): Html {
  return h`<p><button type="submit" name="scope" value="selected" id="resend-selected" data-require-checked="batchId"
 data-require-message="请先勾选要重发的批次" aria-describedby="resend-selected-error" data-confirm="重新回调所勾选的批次？" data-confirm-ok="重发">重发所选</button>
<button type="submit" name="scope" value="all" class="secondary" id="resend-all"
 data-confirm="${`重新回调全部 ${failedCount} 个投递失败的批次？`}" data-confirm-ok="全部重发">重发全部失败回调</button></p>
<p class="field-error check-error" id="resend-selected-error" role="alert" hidden></p>`;
}

export async function batchRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const { db } = platform;

  app.get('/batches', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = actorOf(req);
    const q = req.query;
    const f = { orgId: str(q.orgId).trim() || undefined, callbackStatus: str(q.callbackStatus) || undefined, page: num(q.page) ?? 1 };
    const reader = readerOf(platform, req);
    const rows = await reader.batches(f);
    const more = rows.length > PAGE_SIZE;
    const totals = await reader.batchTotals(f);
    const exportLink = exportHref('/console/batches.csv', { orgId: f.orgId, callbackStatus: f.callbackStatus });
    const body = h`<form class="filters" method="get">
${actor.role !== 'staff' ? h`<label>机构编码 <input name="orgId" value="${f.orgId ?? ''}"></label>` : ''}
<label>回调状态 <select name="callbackStatus"><option value="">全部</option>${Object.entries(CALLBACK_TEXT).map(([v, t]) => h`<option value="${v}" ${f.callbackStatus === v ? 'selected' : ''}>${t}</option>`)}</select></label>
<button type="submit">筛选</button></form>
${listTotals(h`共 <b>${totals.count}</b> 个批次，<b>${totals.items}</b> 条记录，回调失败 <b>${totals.failedCallbacks}</b> 个`, exportLink)}
${scrollTable('batches', BATCH_HEADINGS, rows.slice(0, PAGE_SIZE).map(batchRow))}${pager('/console/batches', { orgId: f.orgId, callbackStatus: f.callbackStatus }, f.page, more)}`;
    return html(reply, consolePage(actor, { title: '批次', active: '/console/batches', body }));
  });

  app.get('/batches/:id', { schema: { params: IdParams } }, async (req, reply) => {
    const actor = actorOf(req);
    const id = num(req.params.id);
    const d = id === undefined ? undefined : await readerOf(platform, req).batch(id);
    if (!d) notFound('批次');
    await auditAction(db, actor, 'console.batch.view', `batch:${d.batch.id}`, null, { orgId: d.batch.org_id });
    const b = d.batch;
    const resend =
      actor.role === 'operator' && b.status === 'done'
        ? h`<form method="post" action="/console/batches/${b.id}/resend" data-confirm="${`重新向机构回调批次 ${b.id} 的处理结果？`}" data-confirm-ok="重新回调">
${csrfField(actor)}<button type="submit" id="resend">重新回调</button></form>`
        : '';
    const body = h`<div class="card"><dl class="kv">
<dt>机构</dt><dd>${b.org_name ?? ''}（${b.org_id}）</dd><dt>请求批次号</dt><dd>${b.org_request_id}</dd><dt>类型</dt><dd>${b.kind === 'REPORT' ? '上报（ORG_MDL_001）' : '更新（ORG_MDL_003）'}</dd>
<dt>appId</dt><dd><code>${b.app_id}</code></dd><dt>条数</dt><dd>${b.item_count}</dd><dt>接收时间</dt><dd>${time(b.received_at)}</dd>
<dt>处理</dt><dd>${b.status === 'done' ? h`已处理 ${time(b.processed_at)}，成功 ${b.accepted_count} 条，失败 ${b.rejected_count} 条` : '处理中'}</dd>
<dt>回调地址</dt><dd>${b.notify_url}</dd><dt>回调状态</dt><dd id="callback-status">${cbTag(b.callback_status)} 共 ${b.callback_attempts} 次${b.delivered_at ? h`，送达于 ${time(b.delivered_at)}` : ''}</dd>
</dl>${resend}</div>
<h3>处理结果</h3>
${
  d.result
    ? h`<div class="tablewrap" tabindex="0" role="region" aria-label="表格，可左右滚动"><table class="data" id="result"><thead><tr><th>患者</th><th>证件号</th><th>结果</th><th>项目（机构流水号 → 平台跟踪号 · 状态）</th></tr></thead><tbody>
${d.result.persons.map((p) => {
  const ext = (p.extData ?? {}) as Record<string, unknown>;
  return h`<tr><td>${p.userName}</td><td>${p.idNo}</td><td>${ext.result === 'fail' ? h`${tag('失败', 'bad')} ${String(ext.msg ?? '')}` : tag('成功', 'ok')}</td>
<td class="wrap">${(p.itemList ?? []).map((i) => h`<div>${i.orgTraceId} → ${i.traceId || '—'} · ${STATE_TEXT[i.state ?? ''] ?? i.state ?? ''}</div>`)}</td></tr>`;
})}</tbody></table></div>`
    : h`<p class="muted">尚未处理。</p>`
}
<h3>涉及的欠费记录</h3>${itemsTable(d.items, await readerOf(platform, req).institutionNames())}
<h3>回调记录</h3>${attemptsTable(
      d.attempts.map((a) => ({ ...a, org_id: b.org_id, org_request_id: b.org_request_id })),
      await readerOf(platform, req).institutionNames(),
    )}`;
    return html(reply, consolePage(actor, { title: `批次 ${b.id}`, active: '/console/batches', body }));
  });

  const resendMany = async (actor: Actor, ids: number[], requestId: string) => {
    let queued = 0;
    for (const id of ids) if (await resendCallback(platform, id, actor, requestId)) queued++;
    return queued;
  };

  app.post('/batches/:id/resend', { schema: { params: IdParams, body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const id = num(req.params.id);
    if (id === undefined || !(await resendMany(actor, [id], req.id))) notFound('批次');
    return reply.redirect(`/console/batches/${id}?resent=1`, 303);
  });

  app.get('/callbacks', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = actorOf(req);
    const reader = readerOf(platform, req);
    const failed = await reader.batches({ callbackStatus: 'failed' });
    const attempts = await reader.callbackAttempts();
    const q = req.query;
    const canResend = actor.role === 'operator';
    const body = h`${resendNotice(q)}
<h3>投递失败的回调（${failed.length > PAGE_SIZE ? `${PAGE_SIZE}+` : failed.length}）</h3>
${
  failed.length === 0
    ? h`<p class="muted" id="no-failed">没有失败的回调。</p>`
    : h`<form method="post" action="/console/callbacks/resend" id="bulk-resend">${csrfField(actor)}
${scrollTable(
  'failed',
  [...(canResend ? ['选择'] : []), ...FAILED_HEADINGS],
  failed.slice(0, PAGE_SIZE).map((b) => failedRow(b, canResend)),
)}
${canResend ? resendButtons(Math.min(failed.length, 1000)) : ''}</form>`
}
<h3>最近的回调尝试</h3>${attemptsTable(attempts, await readerOf(platform, req).institutionNames())}`;
    return html(reply, consolePage(actor, { title: '回调', active: '/console/callbacks', body }));
  });

  app.post('/callbacks/resend', { schema: { body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const b = req.body ?? {};
    let ids: number[];
    if (str(b.scope) === 'all') {
      ids = await failedCallbackBatches(db, 1000);
    } else {
      const raw = Array.isArray(b.batchId) ? b.batchId : b.batchId === undefined ? [] : [b.batchId];
      ids = raw.map((x) => num(x)).filter((x): x is number => x !== undefined);
      // Nothing ticked is a mistake to point out, not a green "0 queued".
      if (ids.length === 0) return reply.redirect('/console/callbacks?resendError=none', 303);
    }
    const queued = await resendMany(actor, ids.slice(0, 1000), req.id);
    await auditAction(db, actor, 'console.callback.resend.bulk', null, { requested: ids.length, queued }, { orgId: null });
    return reply.redirect(`/console/callbacks?resent=${queued}`, 303);
  });

  app.get('/items', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = actorOf(req);
    const q = req.query;
    const f = {
      orgId: str(q.orgId).trim() || undefined,
      state: str(q.state) || undefined,
      traceId: str(q.traceId).trim() || undefined,
      page: num(q.page) ?? 1,
    };
    const reader = readerOf(platform, req);
    const items = await reader.items(f);
    const totals = await reader.itemTotals(f);
    const exportLink = exportHref('/console/items.csv', { orgId: f.orgId, state: f.state, traceId: f.traceId });
    await auditAction(db, actor, 'console.items.view', null, { filter: f, rows: Math.min(items.length, PAGE_SIZE) });
    const body = h`<form class="filters" method="get">
${actor.role !== 'staff' ? h`<label>机构编码 <input name="orgId" value="${f.orgId ?? ''}"></label>` : ''}
<label>状态 <select name="state"><option value="">全部</option>${Object.entries(STATE_TEXT).map(([v, t]) => h`<option value="${v}" ${f.state === v ? 'selected' : ''}>${t}</option>`)}</select></label>
<label>跟踪号 / 流水号 <input name="traceId" value="${f.traceId ?? ''}"></label><button type="submit">筛选</button></form>
${listTotals(h`共 <b>${totals.count}</b> 条，合计 <b>${yuan(totals.amountFen)}</b>；其中欠费 <b>${totals.unpaidCount}</b> 条 <b>${yuan(totals.unpaidFen)}</b>`, exportLink)}
${itemsTable(items.slice(0, PAGE_SIZE), await readerOf(platform, req).institutionNames())}${pager('/console/items', { orgId: f.orgId, state: f.state, traceId: f.traceId }, f.page, items.length > PAGE_SIZE)}`;
    return html(reply, consolePage(actor, { title: '欠费记录', active: '/console/items', body }));
  });
}

function attemptsTable(
  rows: {
    batch_id: number;
    attempt: number;
    url: string;
    started_at: Date;
    duration_ms: number;
    http_status: number | null;
    outcome: string;
    detail: string | null;
    org_id: string;
    org_request_id: string;
  }[],
  names: Map<string, string>,
): Html {
  if (rows.length === 0) return h`<p class="muted">暂无回调记录。</p>`;
  const text: Record<string, string> = { delivered: '成功', refused: '医院拒绝', error: '出错' };
  const row = (a: (typeof rows)[number]) => {
    const batch = h`<a href="/console/batches/${a.batch_id}">${a.batch_id}</a>`;
    const outcome = tag(text[a.outcome] ?? a.outcome, a.outcome === 'delivered' ? 'ok' : 'bad');
    return h`<tr>${cells(batch, names.get(a.org_id) ?? a.org_id, a.attempt, time(a.started_at), `${a.duration_ms} ms`)}
${cells(a.http_status ?? '-', outcome, { wrap: readableDetail(a.detail) })}</tr>`;
  };
  return scrollTable('attempts', ATTEMPT_HEADINGS, rows.map(row));
}
