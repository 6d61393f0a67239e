import { h, type Html } from '../html.js';
import type { ConsoleReader } from '../../domain/console/reader.js';
import { actorOf, type ConsoleContext, html, need, readerOf } from './context.js';
import { consolePage, STATE_TEXT, str, tag, time, yuan } from './layout.js';
import { cells, scrollTable, statusFilter } from './components.js';
import { Fields } from '../route-schemas.js';

const REMINDER_STATUS: Record<string, string> = { pending: '待发送', sent: '已发送', failed: '发送失败', cancelled: '已取消' };
const REFRESH_STATUS: Record<string, string> = { ok: '已核对', failed: '核对失败（待重试）' };

type Reminder = Awaited<ReturnType<ConsoleReader['reminders']>>[number];
type RefreshResult = Awaited<ReturnType<ConsoleReader['refreshResults']>>[number];

const REMINDER_HEADINGS = ['编号', '生成时间', '患者', '渠道', '状态', '笔数', '金额', '涉及机构', '内容', '尝试', '错误', '发送时间'];
const REFRESH_HEADINGS = ['平台跟踪号', '机构', '机构流水号', '当前状态', '核对结果', '医院返回状态', '次数', '说明', '最近核对'];

/** One figure per reminder status, above the list. */
function reminderCounts(counts: Record<string, number>): Html {
  const kpi = ([k, v]: [string, string]) => h`<div class="kpi"><span class="muted">${v}</span><b>${counts[k] ?? 0}</b></div>`;
  return h`<div class="kpis">${Object.entries(REMINDER_STATUS).map(kpi)}</div>`;
}

function reminderRow(r: Reminder): Html {
  const status = tag(REMINDER_STATUS[r.status] ?? r.status, r.status === 'sent' ? 'ok' : r.status === 'failed' ? 'bad' : 'warn');
  return h`<tr>${cells(r.id, time(r.createdAt), r.person, r.channel, status, r.unpaidCount, yuan(r.totalFen))}
${cells({ wrap: r.orgs.join('、') }, { wrap: r.message }, r.attempts, { wrap: r.lastError ?? '' }, time(r.sentAt))}</tr>`;
}

function refreshRow(r: RefreshResult, names: Map<string, string>): Html {
  const trace = h`<a href="/console/items/${r.itemId}"><code>${r.traceId}</code></a>`;
  const result = tag(REFRESH_STATUS[r.status] ?? r.status, r.status === 'ok' ? 'ok' : 'bad');
  const answered = r.lastState ? (STATE_TEXT[r.lastState] ?? r.lastState) : '';
  return h`<tr>${cells(trace, names.get(r.orgId) ?? r.orgId, r.orgTraceId, STATE_TEXT[r.itemState] ?? r.itemState)}
${cells(result, answered, r.attempts, { wrap: r.lastDetail ?? '' }, time(r.lastAttemptAt))}</tr>`;
}

/** Reminders outbox and reconciliation (ORG_001 refresh) results, over the citizen app's tables. */
export async function citizenDataRoutes({ app, platform }: ConsoleContext): Promise<void> {
  app.get('/reminders', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = need(req, 'operator', 'auditor');
    const status = str(req.query.status) || undefined;
    const [rows, counts] = await Promise.all([readerOf(platform, req).reminders(status), readerOf(platform, req).reminderCounts()]);
    const body = h`${reminderCounts(counts)}
${statusFilter('状态', REMINDER_STATUS, status)}
${scrollTable('reminders', REMINDER_HEADINGS, rows.map(reminderRow))}${rows.length === 0 ? h`<p class="muted">没有提醒。</p>` : ''}`;
    return html(reply, consolePage(actor, { title: '提醒发件箱', active: '/console/reminders', body }));
  });

  app.get('/reconciliation', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = actorOf(req);
    const status = str(req.query.status) || undefined;
    const rows = await readerOf(platform, req).refreshResults(status);
    const names = await readerOf(platform, req).institutionNames();
    const body = h`<p class="muted">平台向医院（ORG_001）核对欠费记录状态的最近结果。</p>
${statusFilter('结果', REFRESH_STATUS, status)}
${scrollTable(
  'refresh',
  REFRESH_HEADINGS,
  rows.map((r) => refreshRow(r, names)),
)}${rows.length === 0 ? h`<p class="muted">没有核对记录。</p>` : ''}`;
    return html(reply, consolePage(actor, { title: '对账结果', active: '/console/reconciliation', body }));
  });
}
