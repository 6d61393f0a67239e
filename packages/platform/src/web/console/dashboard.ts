import { h, raw, type Html } from '../html.js';
import { actorOf, type ConsoleContext, html, readerOf } from './context.js';
import { consolePage, regionName, yuan } from './layout.js';
import { CONSOLE_ASSETS } from './assets.js';
import { card } from './components.js';

/** JSON inside a <script type="application/json">: `<` is escaped so no text can close the element. */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** A KPI tile; with a link it opens the list behind the figure. */
function kpi(id: string, label: string, value: string, href: string | null, note: string): Html {
  const inner = h`<span class="muted">${label}</span><b>${value}</b>${note ? h`<span class="muted">${note}</span>` : ''}`;
  return href ? h`<a class="kpi" id="${id}" href="${href}">${inner}</a>` : h`<div class="kpi" id="${id}">${inner}</div>`;
}

/** Where dashboard.js draws its charts (trend, by region, by institution, callbacks, queries). */
const CHARTS = ['chart-trend', 'chart-region', 'chart-institution', 'chart-callbacks', 'chart-queries'];

export async function dashboardRoutes({ app, platform }: ConsoleContext): Promise<void> {
  app.get('/', async (req, reply) => {
    const actor = actorOf(req);
    const d = await readerOf(platform, req).dashboard();
    const k = d.kpi;
    const rate = k.callbackSuccessRate === null ? '—' : `${(k.callbackSuccessRate * 100).toFixed(1)}%`;
    const data = { ...d, byRegion: d.byRegion.map((r) => ({ ...r, regionName: regionName(r.region) })) };
    const canAudit = actor.role !== 'staff';
    const body = h`
<p class="muted">统计日 ${d.today}（北京时间）${actor.role === 'staff' ? '，仅含本机构数据' : ''}。点击指标查看明细。</p>
<div class="kpis">
  ${kpi('kpi-persons', '欠费人数', String(k.personsInArrears), '/console/items?state=0', `${k.unpaidCount} 笔未结清`)}
  ${kpi('kpi-unpaid', '未结清金额', yuan(k.unpaidTotalFen), '/console/items?state=0', `${k.unpaidCount} 笔`)}
  ${kpi('kpi-reported', '今日上报', `${k.reportedToday} 笔`, '/console/items', '趋势见下方图表')}
  ${kpi('kpi-settled', '今日结清', `${k.settledToday} 笔`, '/console/items?state=1', '')}
  ${kpi('kpi-queries', '今日查询量', `${k.queriesToday} 次`, canAudit ? '/console/audit?action=arrears.query' : null, '先诊后付资格查询')}
  ${kpi('kpi-callbacks', '回调成功率（30 天）', rate, '/console/callbacks', `成功 ${k.callbackDelivered} 次 · 失败 ${k.callbackFailed} 次`)}
  ${kpi('kpi-failed-batches', '待处理回调', `${k.failedBatches} 批`, '/console/callbacks', `投递失败 ${k.failedBatches} · 待回调 ${k.pendingBatches}`)}
</div>
<div class="charts">${CHARTS.map((id) => card('', h`<div class="chart" id="${id}"></div>`))}</div>
<script type="application/json" id="dashboard-data">${raw(jsonForScript(data))}</script>`;
    return html(
      reply,
      consolePage(actor, {
        title: '总览',
        active: '/console',
        body,
        scripts: [CONSOLE_ASSETS.url('echarts.min.js'), CONSOLE_ASSETS.url('dashboard.js')],
      }),
    );
  });
}
