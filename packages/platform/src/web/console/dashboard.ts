import { h, raw } from '../html.js';
import { dashboardData } from '../../console/dashboard.js';
import { orgScope } from '../../console/auth.js';
import { actorOf, html, type ConsoleContext } from './plugin.js';
import { consolePage, regionName, yuan } from './layout.js';
import { CONSOLE_ASSETS } from './assets.js';

/** JSON inside a <script type="application/json">: `<` is escaped so no text can close the element. */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export async function dashboardRoutes({ app, platform }: ConsoleContext): Promise<void> {
  app.get('/', async (req, reply) => {
    const actor = actorOf(req);
    const d = await dashboardData(platform.db, orgScope(actor), platform.now());
    const k = d.kpi;
    const rate = k.callbackSuccessRate === null ? '—' : `${(k.callbackSuccessRate * 100).toFixed(1)}%`;
    const data = { ...d, byRegion: d.byRegion.map((r) => ({ ...r, regionName: regionName(r.region) })) };
    const body = h`
<p class="muted">统计日 ${d.today}（北京时间）${actor.role === 'staff' ? '，仅含本机构数据' : ''}。</p>
<div class="kpis">
  <div class="kpi" id="kpi-persons"><span class="muted">欠费人数</span><b>${k.personsInArrears}</b></div>
  <div class="kpi" id="kpi-unpaid"><span class="muted">未结清金额（元）</span><b>${yuan(k.unpaidTotalFen)}</b><span class="muted">${k.unpaidCount} 笔</span></div>
  <div class="kpi"><span class="muted">今日上报</span><b>${k.reportedToday}</b></div>
  <div class="kpi"><span class="muted">今日结清</span><b>${k.settledToday}</b></div>
  <div class="kpi" id="kpi-queries"><span class="muted">今日查询量</span><b>${k.queriesToday}</b></div>
  <div class="kpi"><span class="muted">回调成功率（30 天）</span><b>${rate}</b><span class="muted">失败 ${k.callbackFailed} · 待回调 ${k.callbackPending}</span></div>
</div>
<div class="charts">
  <div class="card"><div class="chart" id="chart-trend"></div></div>
  <div class="card"><div class="chart" id="chart-region"></div></div>
  <div class="card"><div class="chart" id="chart-institution"></div></div>
  <div class="card"><div class="chart" id="chart-callbacks"></div></div>
  <div class="card"><div class="chart" id="chart-queries"></div></div>
</div>
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
