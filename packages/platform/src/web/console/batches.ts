import { h, type Html } from '../html.js';
import { auditAction, type Actor } from '../../domain/console/auth.js';
import { failedCallbackBatches, PAGE_SIZE } from '../../domain/console/batches.js';
import { resendCallback } from '../../domain/callbacks.js';
import { actorOf, type ConsoleContext, html, need, notFound, readerOf } from './context.js';
import { exportHref, listTotals } from './exports.js';
import { CALLBACK_TEXT, consolePage, csrfField, notice, num, STATE_TEXT, str, tag, time, yuan } from './layout.js';
import { Fields, FormBody, IdParams } from '../route-schemas.js';
import { alertCard, cells, filterSelect, postForm, scrollTable } from './components.js';
import type { ConsoleReader } from '../../domain/console/reader.js';
import { attemptsTable, cbTag, itemsTable } from './batch-tables.js';
import { batchBody } from './batch-page.js';

type BatchRow = Awaited<ReturnType<ConsoleReader['batches']>>[number];

const BATCH_HEADINGS = ['编号', '机构', '请求批次号', '类型', '条数', '处理', '成功/失败', '回调', '回调次数', '接收时间'];
const FAILED_HEADINGS = ['批次', '机构', '请求批次号', '回调次数', '接收时间'];

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
  const previous = page > 1 ? h`<a href="${link(page - 1)}">上一页</a> ` : '';
  return h`<div class="pager">${previous}第 ${page} 页${more ? h` <a href="${link(page + 1)}">下一页</a>` : ''}</div>`;
}

/** A GET form above a list; staff see only their institution, so they get no 机构编码 box. */
function listFilter(actor: Actor, orgId: string | undefined, fields: Html): Html {
  const org = actor.role !== 'staff' ? h`<label>机构编码 <input name="orgId" value="${orgId ?? ''}"></label>` : '';
  return h`<form class="filters" method="get">
${org}
${fields}<button type="submit">筛选</button></form>`;
}

function resendNotice(q: Record<string, unknown>): Html | '' {
  if (str(q.resendError) === 'none') {
    return alertCard('没有勾选任何回调，未重发。请先勾选要重发的批次。', 'resend-result');
  }
  const n = num(q.resent);
  if (n === undefined) return '';
  const text = n > 0 ? `已重新排队 ${n} 个回调。` : '没有可重发的回调（可能已被处理）。';
  return notice(text, n > 0 ? 'ok' : 'warn', 'resend-result');
}

/** Bulk resends ask first; "重发所选" with nothing ticked says so beside the button and sends nothing. */
function resendButtons(failedCount: number): Html {
  const ticked = h`data-require-checked="batchId" data-require-message="请先勾选要重发的批次" aria-describedby="resend-selected-error"`;
  const askSelected = h`data-confirm="重新回调所勾选的批次？" data-confirm-ok="重发"`;
  const askAll = h`data-confirm="${`重新回调全部 ${failedCount} 个投递失败的批次？`}" data-confirm-ok="全部重发"`;
  return h`<p><button type="submit" name="scope" value="selected" id="resend-selected" ${ticked} ${askSelected}>重发所选</button>
<button type="submit" name="scope" value="all" class="secondary" id="resend-all" ${askAll}>重发全部失败回调</button></p>
<p class="field-error check-error" id="resend-selected-error" role="alert" hidden></p>`;
}

/** Failed callbacks, in a form operators tick rows of to resend. */
function failedCallbacks(actor: Actor, failed: BatchRow[]): Html {
  if (failed.length === 0) return h`<p class="muted" id="no-failed">没有失败的回调。</p>`;
  const canResend = actor.role === 'operator';
  const headings = [...(canResend ? ['选择'] : []), ...FAILED_HEADINGS];
  const table = scrollTable(
    'failed',
    headings,
    failed.slice(0, PAGE_SIZE).map((b) => failedRow(b, canResend)),
  );
  return postForm(
    { action: '/console/callbacks/resend', csrf: csrfField(actor), id: 'bulk-resend' },
    h`
${table}
${canResend ? resendButtons(Math.min(failed.length, 1000)) : ''}`,
  );
}

export async function batchRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const { db } = platform;

  app.get('/batches', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = actorOf(req);
    const q = req.query;
    const f = { orgId: str(q.orgId).trim() || undefined, callbackStatus: str(q.callbackStatus) || undefined, page: num(q.page) ?? 1 };
    const reader = readerOf(platform, req);
    const rows = await reader.batches(f);
    const totals = await reader.batchTotals(f);
    const more = rows.length > PAGE_SIZE;
    const query = { orgId: f.orgId, callbackStatus: f.callbackStatus };
    const totalsText = h`共 <b>${totals.count}</b> 个批次，<b>${totals.items}</b> 条记录，回调失败 <b>${totals.failedCallbacks}</b> 个`;
    const body = h`${listFilter(actor, f.orgId, filterSelect('回调状态', 'callbackStatus', CALLBACK_TEXT, f.callbackStatus))}
${listTotals(totalsText, exportHref('/console/batches.csv', query))}
${scrollTable('batches', BATCH_HEADINGS, rows.slice(0, PAGE_SIZE).map(batchRow))}${pager('/console/batches', query, f.page, more)}`;
    return html(reply, consolePage(actor, { title: '批次', active: '/console/batches', body }));
  });

  app.get('/batches/:id', { schema: { params: IdParams } }, async (req, reply) => {
    const actor = actorOf(req);
    const id = num(req.params.id);
    const reader = readerOf(platform, req);
    const d = id === undefined ? undefined : await reader.batch(id);
    if (!d) notFound('批次');
    await auditAction(db, actor, 'console.batch.view', `batch:${d.batch.id}`, null, { orgId: d.batch.org_id });
    const body = batchBody(actor, d, await reader.institutionNames());
    return html(reply, consolePage(actor, { title: `批次 ${d.batch.id}`, active: '/console/batches', body }));
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
    const names = await reader.institutionNames();
    const body = h`${resendNotice(req.query)}
<h3>投递失败的回调（${failed.length > PAGE_SIZE ? `${PAGE_SIZE}+` : failed.length}）</h3>
${failedCallbacks(actor, failed)}
<h3>最近的回调尝试</h3>${attemptsTable(attempts, names)}`;
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
    const names = await reader.institutionNames();
    await auditAction(db, actor, 'console.items.view', null, { filter: f, rows: Math.min(items.length, PAGE_SIZE) });
    const query = { orgId: f.orgId, state: f.state, traceId: f.traceId };
    const fields = h`${filterSelect('状态', 'state', STATE_TEXT, f.state)}
<label>跟踪号 / 流水号 <input name="traceId" value="${f.traceId ?? ''}"></label>`;
    const unpaid = h`其中欠费 <b>${totals.unpaidCount}</b> 条 <b>${yuan(totals.unpaidFen)}</b>`;
    const totalsText = h`共 <b>${totals.count}</b> 条，合计 <b>${yuan(totals.amountFen)}</b>；${unpaid}`;
    const body = h`${listFilter(actor, f.orgId, fields)}
${listTotals(totalsText, exportHref('/console/items.csv', query))}
${itemsTable(items.slice(0, PAGE_SIZE), names)}${pager('/console/items', query, f.page, items.length > PAGE_SIZE)}`;
    return html(reply, consolePage(actor, { title: '欠费记录', active: '/console/items', body }));
  });
}
