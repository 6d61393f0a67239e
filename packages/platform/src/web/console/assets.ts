import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { StaticAssets } from '../static-assets.js';
import { CONSOLE_JS } from './console-js.js';

/**
 * The dashboard's only script, served under a content-hashed URL (CONSOLE_ASSETS below; the CSP allows no inline
 * script). It reads the figures the server embedded as JSON and draws them with the local ECharts.
 */
export const DASHBOARD_JS = `(function () {
  'use strict';
  var el = document.getElementById('dashboard-data');
  if (!el || !window.echarts) return;
  var d = JSON.parse(el.textContent);
  var yuan = function (fen) { return Math.round(fen) / 100; };
  // Amounts as on every page: ¥1,305.50.
  var money = function (v) {
    return '¥' + Number(v).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  };
  var sum = function (xs) { return xs.reduce(function (a, b) { return a + b; }, 0); };
  var charts = [];
  function draw(id, option, empty) {
    var node = document.getElementById(id);
    if (!node) return;
    if (empty) {
      option.graphic = { type: 'text', left: 'center', top: 'middle', style: { text: '暂无数据', fill: '#6b7280', fontSize: 14 } };
      node.setAttribute('data-empty', '1');
    }
    var c = window.echarts.init(node, null, { renderer: 'canvas' });
    // Tooltips are drawn on the canvas (richText), never as HTML: institution names are user-supplied.
    if (option.tooltip) option.tooltip.renderMode = 'richText';
    var font = 'Noto Sans CJK SC, PingFang SC, Microsoft YaHei, sans-serif';
    c.setOption(Object.assign({ animation: false, textStyle: { fontFamily: font } }, option));
    charts.push(c);
    node.setAttribute('data-rendered', '1');
  }
  var shortDays = d.days.map(function (s) { return s.slice(5); });
  draw('chart-trend', {
    title: { text: '近 30 天上报与结清金额', left: 0, top: 0, textStyle: { fontSize: 14 } },
    tooltip: { trigger: 'axis', valueFormatter: money },
    legend: { data: ['上报金额', '结清金额'], top: 0, right: 0 },
    grid: { left: 60, right: 20, top: 50, bottom: 30 },
    xAxis: { type: 'category', data: shortDays },
    yAxis: { type: 'value', axisLabel: { formatter: money } },
    series: [
      { name: '上报金额', type: 'line', smooth: true, data: d.reportedFen.map(yuan), areaStyle: { opacity: 0.15 } },
      { name: '结清金额', type: 'line', smooth: true, data: d.settledFen.map(yuan), areaStyle: { opacity: 0.15 } }
    ]
  }, sum(d.reportedFen) + sum(d.settledFen) === 0);
  draw('chart-region', {
    title: { text: '未结清金额 · 按地区', left: 0, top: 0, textStyle: { fontSize: 14 } },
    tooltip: { trigger: 'item', valueFormatter: money },
    series: [{ type: 'pie', radius: ['35%', '65%'], top: 30,
      data: d.byRegion.map(function (r) { return { name: r.regionName, value: yuan(r.totalFen) }; }) }]
  }, d.byRegion.length === 0);
  draw('chart-institution', {
    title: { text: d.byInstitution.length === 1 ? '未结清金额 · 本机构' : '未结清金额 · 按机构（前 15）', left: 0, top: 0, textStyle: { fontSize: 14 } },
    tooltip: { trigger: 'axis', valueFormatter: money },
    grid: { left: 150, right: 40, top: 40, bottom: 30 },
    // Few labels, never drawn over each other: amounts like ¥12,000.00 are wide.
    xAxis: { type: 'value', splitNumber: 3, axisLabel: { formatter: money, hideOverlap: true } },
    yAxis: { type: 'category', inverse: true, data: d.byInstitution.map(function (r) { return r.orgName; }) },
    series: [{ type: 'bar', barMaxWidth: 36, data: d.byInstitution.map(function (r) { return yuan(r.totalFen); }) }]
  }, d.byInstitution.length === 0);
  draw('chart-callbacks', {
    title: { text: '近 30 天回调结果（次）', left: 0, top: 0, textStyle: { fontSize: 14 } },
    tooltip: { trigger: 'axis' },
    legend: { data: ['成功', '失败'], top: 0, right: 0 },
    grid: { left: 50, right: 20, top: 50, bottom: 30 },
    xAxis: { type: 'category', data: shortDays },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: '成功', type: 'bar', stack: 'cb', data: d.callbackOk, itemStyle: { color: '#059669' } },
      { name: '失败', type: 'bar', stack: 'cb', data: d.callbackBad, itemStyle: { color: '#dc2626' } }
    ]
  }, sum(d.callbackOk) + sum(d.callbackBad) === 0);
  draw('chart-queries', {
    title: { text: '近 30 天欠费查询量（次）', left: 0, top: 0, textStyle: { fontSize: 14 } },
    tooltip: { trigger: 'axis' },
    grid: { left: 50, right: 20, top: 40, bottom: 30 },
    xAxis: { type: 'category', data: shortDays },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ name: '查询量', type: 'bar', data: d.queries }]
  }, sum(d.queries) === 0);
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
})();
`;

const require = createRequire(import.meta.url);

/** The console's scripts, under content-hashed URLs (static-assets.ts). */
export const CONSOLE_ASSETS = new StaticAssets('/console/assets', [
  {
    name: 'echarts.min.js',
    type: 'text/javascript; charset=utf-8',
    load: () => readFileSync(require.resolve('echarts/dist/echarts.min.js')),
  },
  { name: 'dashboard.js', type: 'text/javascript; charset=utf-8', load: () => DASHBOARD_JS },
  { name: 'console.js', type: 'text/javascript; charset=utf-8', load: () => CONSOLE_JS },
]);
