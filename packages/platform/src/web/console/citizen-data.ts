import { h } from '../html.js';
import { actorOf, type ConsoleContext, html, need, readerOf } from './context.js';
import { consolePage, STATE_TEXT, str, tag, time, yuan } from './layout.js';
import { Fields } from '../route-schemas.js';

const REMINDER_STATUS: Record<string, string> = { pending: '待发送', sent: '已发送', failed: '发送失败', cancelled: '已取消' };
const REFRESH_STATUS: Record<string, string> = { ok: '已核对', failed: '核对失败（待重试）' };

/** Reminders outbox and reconciliation (ORG_001 refresh) results, over the citizen app's tables. */
export async function citizenDataRoutes({ app, platform }: ConsoleContext): Promise<void> {
  app.get('/reminders', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = need(req, 'operator', 'auditor');
    const status = str(req.query.status) || undefined;
    const [rows, counts] = await Promise.all([readerOf(platform, req).reminders(status), readerOf(platform, req).reminderCounts()]);
    const body = h`<div class="kpis">${Object.entries(REMINDER_STATUS).map(([k, v]) => h`<div class="kpi"><span class="muted">${v}</span><b>${counts[k] ?? 0}</b></div>`)}</div>
<form class="filters" method="get"><label>状态 <select name="status"><option value="">全部</option>${Object.entries(REMINDER_STATUS).map(([v, t]) => h`<option value="${v}" ${status === v ? 'selected' : ''}>${t}</option>`)}</select></label><button type="submit">筛选</button></form>
<div class="tablewrap" tabindex="0" role="region" aria-label="表格，可左右滚动"><table class="data" id="reminders"><thead><tr><th>编号</th><th>生成时间</th><th>患者</th><th>渠道</th><th>状态</th><th>笔数</th><th>金额</th><th>涉及机构</th><th>内容</th><th>尝试</th><th>错误</th><th>发送时间</th></tr></thead><tbody>
${rows.map(
  (
    r,
  ) => h`<tr><td>${r.id}</td><td>${time(r.createdAt)}</td><td>${r.person}</td><td>${r.channel}</td><td>${tag(REMINDER_STATUS[r.status] ?? r.status, r.status === 'sent' ? 'ok' : r.status === 'failed' ? 'bad' : 'warn')}</td>
<td>${r.unpaidCount}</td><td>${yuan(r.totalFen)}</td><td class="wrap">${r.orgs.join('、')}</td><td class="wrap">${r.message}</td><td>${r.attempts}</td><td class="wrap">${r.lastError ?? ''}</td><td>${time(r.sentAt)}</td></tr>`,
)}</tbody></table></div>${rows.length === 0 ? h`<p class="muted">没有提醒。</p>` : ''}`;
    return html(reply, consolePage(actor, { title: '提醒发件箱', active: '/console/reminders', body }));
  });

  app.get('/reconciliation', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = actorOf(req);
    const status = str(req.query.status) || undefined;
    const rows = await readerOf(platform, req).refreshResults(status);
    const names = await readerOf(platform, req).institutionNames();
    const body = h`<p class="muted">平台向医院（ORG_001）核对欠费记录状态的最近结果。</p>
<form class="filters" method="get"><label>结果 <select name="status"><option value="">全部</option>${Object.entries(REFRESH_STATUS).map(([v, t]) => h`<option value="${v}" ${status === v ? 'selected' : ''}>${t}</option>`)}</select></label><button type="submit">筛选</button></form>
<div class="tablewrap" tabindex="0" role="region" aria-label="表格，可左右滚动"><table class="data" id="refresh"><thead><tr><th>平台跟踪号</th><th>机构</th><th>机构流水号</th><th>当前状态</th><th>核对结果</th><th>医院返回状态</th><th>次数</th><th>说明</th><th>最近核对</th></tr></thead><tbody>
${rows.map(
  (
    r,
  ) => h`<tr><td><a href="/console/items/${r.itemId}"><code>${r.traceId}</code></a></td><td>${names.get(r.orgId) ?? r.orgId}</td><td>${r.orgTraceId}</td><td>${STATE_TEXT[r.itemState] ?? r.itemState}</td>
<td>${tag(REFRESH_STATUS[r.status] ?? r.status, r.status === 'ok' ? 'ok' : 'bad')}</td><td>${r.lastState ? (STATE_TEXT[r.lastState] ?? r.lastState) : ''}</td><td>${r.attempts}</td><td class="wrap">${r.lastDetail ?? ''}</td><td>${time(r.lastAttemptAt)}</td></tr>`,
)}</tbody></table></div>${rows.length === 0 ? h`<p class="muted">没有核对记录。</p>` : ''}`;
    return html(reply, consolePage(actor, { title: '对账结果', active: '/console/reconciliation', body }));
  });
}
