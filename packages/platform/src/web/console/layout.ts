import { epochMsToChinaTime } from '@mdl/protocol';
import { money } from '../money.js';
import { h, page, type Html } from '../html.js';
import { ROLE_TEXT, type Actor } from '../../domain/console/auth.js';
import { CONSOLE_ASSETS } from './assets.js';
import { postForm } from './components.js';

/** The console's frame: navigation by role, the signed-in user and a sign-out form (with its CSRF token). */
const NAV: { href: string; text: string; roles: Actor['role'][] }[] = [
  { href: '/console', text: '总览', roles: ['operator', 'auditor', 'staff'] },
  { href: '/console/institutions', text: '机构与凭证', roles: ['operator', 'auditor', 'staff'] },
  { href: '/console/batches', text: '批次', roles: ['operator', 'auditor', 'staff'] },
  { href: '/console/items', text: '欠费记录', roles: ['operator', 'auditor', 'staff'] },
  { href: '/console/callbacks', text: '回调', roles: ['operator', 'auditor', 'staff'] },
  { href: '/console/appeals', text: '申诉', roles: ['operator', 'auditor', 'staff'] },
  { href: '/console/reconciliation', text: '对账', roles: ['operator', 'auditor', 'staff'] },
  { href: '/console/reminders', text: '提醒', roles: ['operator', 'auditor'] },
  { href: '/console/card-reviews', text: '领卡复核', roles: ['operator', 'auditor'] },
  { href: '/console/audit', text: '审计', roles: ['operator', 'auditor'] },
  { href: '/console/policy', text: '判定规则', roles: ['operator', 'auditor'] },
  { href: '/console/coverage', text: '覆盖范围', roles: ['operator', 'auditor'] },
  { href: '/console/users', text: '账户', roles: ['operator'] },
];

/** The audit table's columns a reader may hide (audit.ts): each has a class that hides it. */
const AUDIT_COLUMNS = ['id', 'code', 'subject', 'target', 'resp', 'at', 'action', 'actor', 'org', 'outcome', 'detail'];

export const CONSOLE_CSS = `
.card>h3:first-child{margin-top:0}
[aria-invalid=true]{border-color:#b91c1c;background:#fef2f2}
details.navbox>summary{
  list-style:none;
  cursor:pointer;
  display:inline-block;
  padding:.45rem .8rem;
  margin:0 0 .5rem;
  border-radius:.375rem;
  background:#fff;
  color:#0f5fa8;
  box-shadow:0 1px 2px rgba(0,0,0,.06)
}
details.navbox>summary::-webkit-details-marker{display:none}
details.navbox[open] .when-closed,details.navbox:not([open]) .when-open{display:none}
nav.cnav{display:grid;grid-template-columns:repeat(auto-fill,minmax(7.5rem,1fr));gap:.25rem;margin:0 0 1rem}
nav.cnav a{
  padding:.45rem .8rem;
  border-radius:.375rem;
  text-decoration:none;
  color:#0f5fa8;
  background:#fff;
  box-shadow:0 1px 2px rgba(0,0,0,.06)
}
nav.cnav a.active{background:#0f5fa8;color:#fff}
.cmain{min-width:0}
@media (min-width:64rem){
main.wide{max-width:94rem}
.cshell{display:grid;grid-template-columns:10.5rem minmax(0,1fr);gap:1.25rem;align-items:start}
.cshell:has(>details.navbox:not([open])){grid-template-columns:auto minmax(0,1fr)}
details.navbox{position:sticky;top:1rem}
nav.cnav{grid-template-columns:1fr}
}
img.receipt{max-width:min(100%,24rem);max-height:24rem;border:1px solid #e5e7eb;border-radius:.25rem;display:block}
ul.channel-list{list-style:none;padding:0;margin:0;display:grid;gap:.25rem}
p.totals{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;margin:0 0 .5rem}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(11rem,1fr));gap:.75rem;margin:0 0 1rem}
.kpi{background:#fff;border-radius:.5rem;padding:.8rem 1rem;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.kpi b{display:block;font-size:1.5rem}
a.kpi{color:inherit;text-decoration:none;border:1px solid transparent}
a.kpi:hover,a.kpi:focus{border-color:#0f5fa8}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(26rem,1fr));gap:1rem}
.chart{height:320px;width:100%}
table.data{font-size:.92rem}
table.data td,table.data th{white-space:nowrap}
table.data td.wrap{white-space:normal;word-break:break-all;min-width:12rem}
.tablewrap{overflow-x:auto}
form.inline{display:inline}
form.filters{display:flex;gap:.5rem;flex-wrap:wrap;align-items:flex-end;margin:0 0 1rem}
form.filters label{margin:0;font-weight:normal;font-size:.9rem}
form.filters input,form.filters select{width:auto;min-width:9rem}
.secret{font-family:ui-monospace,monospace;font-size:1.1rem;background:#fef3c7;padding:.5rem;border-radius:.25rem;word-break:break-all}
.user{font-size:.9rem;display:flex;flex-wrap:wrap;align-items:center;justify-content:flex-end;row-gap:.25rem}
.user a{margin-left:.5rem}
.user button{padding:.25rem .6rem;margin-left:.5rem;background:#fff;color:#0f5fa8}
button.small,.button.small{padding:.3rem .6rem;font-size:.85rem}
.pager{margin:.5rem 0}
dl.kv{display:grid;grid-template-columns:10rem 1fr;gap:.3rem 1rem;margin:0}
dl.kv dt{color:#6b7280}
dl.kv dd{margin:0;word-break:break-all}
dialog#confirm-dialog{border:0;border-radius:.5rem;padding:1.25rem;max-width:28rem;box-shadow:0 10px 30px rgba(0,0,0,.25)}
dialog#confirm-dialog::backdrop{background:rgba(15,23,42,.45)}
.dialog-actions{display:flex;gap:.5rem;justify-content:flex-end}
.copyable{display:flex;gap:.5rem;align-items:center}
.copyable .secret{flex:1 1 auto}
.qrbox{width:12rem;background:#fff;padding:.25rem;margin:.5rem 0}
.qrbox svg{width:100%;height:auto;display:block}
.check-error{margin:.25rem 0}
.tablewrap.sticky{max-height:70vh;overflow:auto}
.tablewrap.sticky thead th{position:sticky;top:0;background:#f3f4f6;z-index:1}
table.audit td.c-detail{white-space:normal;word-break:break-all;min-width:16rem}
${AUDIT_COLUMNS.map((c) => `table.hide-${c} .c-${c}{display:none}`).join('\n')}
fieldset.columns{border:0;padding:0;margin:0 0 .5rem;display:flex;flex-wrap:wrap;gap:.25rem 1rem;font-size:.9rem}
fieldset.columns legend{font-weight:600;padding:0;margin-right:.5rem;float:left}
fieldset.columns label{display:inline;margin:0;font-weight:normal}
fieldset.columns input{width:auto}
`;

/** Who is signed in, with links to their password and second factor, and the sign-out form. */
function userBox(actor: Actor): Html {
  const who = h`${actor.username}（${ROLE_TEXT[actor.role]}${actor.orgId ? ` · ${orgNameOf(actor)}` : ''}）`;
  const links = h`<a href="/console/password">修改密码</a> <a href="/console/second-factor">动态口令</a>`;
  const signOut = postForm(
    { action: '/console/logout', csrf: csrfField(actor), className: 'inline' },
    h`<button type="submit">退出</button>`,
  );
  return h`<span class="user">${who}${links}${signOut}</span>`;
}

/**
 * A collapsible side menu: a column beside the page on a desktop (the page box is wider by its width; 收起 keeps it
 * folded, remembered by console.js), folded behind 菜单 on a tablet or phone so the tables get the width.
 */
function navBox(actor: Actor, active: string): Html {
  const links = NAV.filter((n) => n.roles.includes(actor.role)).map(
    (n) => h`<a href="${n.href}" class="${n.href === active ? 'active' : ''}">${n.text}</a>`,
  );
  const toggle = h`<summary id="nav-toggle"><span class="when-open">收起菜单</span><span class="when-closed">☰ 菜单</span></summary>`;
  return h`<details class="navbox" id="nav-box" open>${toggle}
<nav class="cnav" aria-label="控制台菜单">${links}</nav></details>`;
}

export function consolePage(actor: Actor, o: { title: string; active: string; body: Html; scripts?: string[] }): string {
  return page({
    title: `诊疗失信人员信息管理 · ${o.title}`,
    wide: true,
    css: CONSOLE_CSS,
    scripts: [CONSOLE_ASSETS.url('console.js'), ...(o.scripts ?? [])],
    headerRight: userBox(actor),
    body: h`<div class="cshell">${navBox(actor, o.active)}<div class="cmain"><h2>${o.title}</h2>${o.body}</div></div>`,
  });
}

/** The institution's name the console's pre-handler put beside the actor (its code when unknown). */
function orgNameOf(actor: Actor): string {
  return actor.orgName ?? actor.orgId ?? '';
}

export function csrfField(actor: Actor): Html {
  return h`<input type="hidden" name="_csrf" value="${actor.csrf}">`;
}

export { field, type FieldOpts } from '../form.js';

/** ¥1,305.50, as on every page (../money.ts). */
export function yuan(fen: number | string | null | undefined): string {
  return money(fen);
}

export function time(d: Date | string | null | undefined): string {
  if (!d) return '';
  return epochMsToChinaTime(new Date(d).getTime());
}

/** A box saying what just happened (saved, sent), read out by screen readers. */
export function notice(text: string | undefined, kind: 'ok' | 'warn' = 'ok', id?: string): Html | '' {
  return text ? h`<div class="card ${kind}" role="status"${id ? h` id="${id}"` : ''}>${text}</div>` : '';
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : '';
}

export function num(v: unknown): number | undefined {
  const s = str(v);
  return /^\d{1,15}$/.test(s) ? Number(s) : undefined;
}

export const STATE_TEXT: Record<string, string> = { '0': '欠费', '1': '已缴清', '2': '已撤销' };
export const CALLBACK_TEXT: Record<string, string> = { pending: '待回调', delivered: '已送达', failed: '失败' };

export function tag(text: string, kind: 'ok' | 'bad' | 'warn' | '' = ''): Html {
  return h`<span class="tag ${kind}">${text}</span>`;
}

export const REGIONS: [string, string][] = [
  ['350100', '福州市'],
  ['350200', '厦门市'],
  ['350300', '莆田市'],
  ['350400', '三明市'],
  ['350500', '泉州市'],
  ['350600', '漳州市'],
  ['350700', '南平市'],
  ['350800', '龙岩市'],
  ['350900', '宁德市'],
  ['350128', '平潭综合实验区'],
];
export function regionName(code: string | null | undefined): string {
  if (!code) return '未登记';
  return REGIONS.find(([c]) => c === code)?.[1] ?? code;
}
