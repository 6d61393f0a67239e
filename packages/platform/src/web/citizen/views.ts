import type { CitizenOverview, CitizenRecord } from '../../domain/citizen/records.js';
import type { EligibilityPolicy } from '../../domain/eligibility.js';
import { h, page, type Html } from '../html.js';
import { CITIZEN_ASSETS } from './assets.js';
import { BASE, csrfField, note, yuan } from './parts.js';
import { recordView } from './record-view.js';

/**
 * Pages of the citizen app (医疗欠费名单用户应用): the frame, the overview and the information page; 缴费方式
 * and 申诉 are in pay-view.ts and appeal-view.ts. Every value passes through `h`, so user text stays text.
 */
export const APP_TITLE = '医疗欠费名单';

const CSS = `
.summary{display:flex;gap:.75rem;align-items:baseline;flex-wrap:wrap}
.big{font-size:1.6rem;font-weight:700}
.rec{border-top:1px solid #e5e7eb;padding:.75rem 0}
.rec:first-of-type{border-top:0}
.rec h3{font-size:1rem;margin:0 0 .2rem}
.kv{display:flex;justify-content:space-between;gap:.5rem;font-size:.92rem}
.actions{display:flex;gap:.5rem;margin-top:.5rem;flex-wrap:wrap}
.actions form{margin:0}
.actions .button,.actions button{padding:.45rem .8rem;font-size:.92rem}
.note{background:#eff6ff;border-left:4px solid #0f5fa8;padding:.6rem .8rem;border-radius:.25rem;margin:0 0 1rem}
.note.bad{background:#fef2f2;border-color:#b91c1c;color:#7f1d1d}
.note.ok{background:#ecfdf5;border-color:#047857;color:#064e3b}
.appeal{background:#f9fafb;border-radius:.375rem;padding:.5rem .6rem;margin-top:.5rem;font-size:.9rem;
  white-space:pre-wrap;word-break:break-word}
ul.plain{padding-left:1.1rem;margin:.3rem 0}
ul.channels{list-style:none;padding:0;margin:.5rem 0;display:grid;gap:.5rem}
ul.channels .button{display:block}
.overdue{font-size:.9rem;margin-top:.2rem}
h2{font-size:1.05rem;margin:0 0 .5rem}
`;

const LOGOUT_BUTTON = h`<button class="secondary" style="padding:.25rem .6rem;font-size:.85rem">退出</button>`;

/** Every /mdr page: the shared frame with this app's CSS; a signed-in page has 退出 in the header and the script. */
export function shell(title: string, body: Html, opts: { signedIn?: boolean; csrf?: string } = {}): string {
  const right = opts.signedIn
    ? h`<form method="post" action="${BASE}/logout" style="margin:0">${csrfField(opts.csrf ?? '')}${LOGOUT_BUTTON}</form>`
    : undefined;
  // Signed-in pages carry the 查询中 enhancement (./assets.ts); nothing depends on it.
  return page({ title, body, css: CSS, ...(right ? { headerRight: right, scripts: [CITIZEN_ASSETS.url('mdr.js')] } : {}) });
}

/** Plain-words eligibility, from the same decision as ORG_MDL_002. */
export function eligibilityText(o: CitizenOverview, p: EligibilityPolicy): Html {
  const d = o.decision;
  if (d.next === '1' && d.reasons.includes('NO_ARREARS')) {
    return h`<p class="ok"><strong>您目前没有未结清的医疗费用，可以正常享受“先诊后付”。</strong></p>`;
  }
  if (d.next === '1') {
    const limits = `若有费用超过 ${p.maxAgeDays} 天未结清、合计达到 ${yuan(p.maxTotalFen)} 或达到 ${p.maxCount} 笔`;
    return h`<p class="warn"><strong>您现在仍可享受“先诊后付”。</strong></p>
<p class="muted">不过您有 ${d.unpaidCount} 笔费用未结清。${limits}，将暂停先诊后付，请尽快缴费。</p>`;
  }
  const why: string[] = [];
  if (d.reasons.includes('OVERDUE_TOO_LONG')) why.push(`有费用超过 ${p.maxAgeDays} 天未结清`);
  if (d.reasons.includes('TOTAL_TOO_HIGH')) why.push(`未结清费用合计已达到 ${yuan(p.maxTotalFen)}`);
  if (d.reasons.includes('TOO_MANY_ITEMS')) why.push(`未结清费用已有 ${p.maxCount} 笔或以上`);
  return h`<p class="bad"><strong>您现在暂时不能享受“先诊后付”，就诊时需先缴费。</strong></p>
<p>原因：</p><ul class="plain">${why.map((w) => h`<li>${w}</li>`)}</ul>
<p class="muted">结清欠费后即可恢复。已经缴费但这里仍显示未结清？请点该记录的“已缴费，状态更新”。</p>`;
}

export const NOTICES: Record<string, [string, string]> = {
  paid: ['ok', '医院确认该笔费用已缴清，记录已更新。'],
  revoked: ['ok', '医院确认该笔费用已撤销，记录已更新。'],
  unpaid: ['', '医院反馈该笔费用仍未结清。如已缴费，可能医院尚未入账，请稍后再试或提出申诉。'],
  noanswer: ['bad', '暂时没能联系上该医院，记录保持不变。平台会自动再查询，您也可以稍后再点“状态更新”。'],
  settled: ['ok', '该笔费用已经结清或撤销，无需更新。'],
  appealed: ['ok', '申诉已提交。处理结果会显示在该记录下方。'],
  slow: ['', '刚刚已经查询过，请过一分钟再试。'],
};

export interface OverviewOptions {
  name: string;
  csrf: string;
  /** A key of NOTICES: the outcome of the last 状态更新 or appeal. */
  notice?: string;
  /** The record the notice is about (shown beside it); none: at the top. */
  item?: number;
  now: number;
  /** Link the page where a 闽政通 entry gives the card a phone (./card-phone.ts). */
  cardPhone?: boolean;
}

/** 我的记录: the status (total, whether 先诊后付 still applies), then the unpaid records and the settled ones. */
export function overviewPage(o: CitizenOverview, p: EligibilityPolicy, opts: OverviewOptions): string {
  const n = opts.notice && Object.hasOwn(NOTICES, opts.notice) ? NOTICES[opts.notice] : undefined;
  const view = (r: CitizenRecord) =>
    h`${n && opts.item === r.id ? note(n[0], n[1], 'item-notice') : ''}${recordView(r, opts.csrf, p, opts.now)}`;
  const body = h`${n && opts.item === undefined ? note(n[0], n[1]) : ''}
${statusCard(o, p, opts.name)}
${recordSection('unpaid', '未结清记录', o.unpaid.map(view), '没有未结清的记录。')}
${recordSection('history', '已缴清 / 已撤销', o.history.map(view), '暂无记录。')}
<p class="muted">记录由医疗机构上报。已缴费但仍显示未结清，请点“已缴费，状态更新”；记录有误可提出申诉。</p>
${opts.cardPhone ? cardPhoneHint : ''}`;
  return shell(APP_TITLE, body, { signedIn: true, csrf: opts.csrf });
}

function statusCard(o: CitizenOverview, p: EligibilityPolicy, name: string): Html {
  const total = h`<span class="big" id="unpaid-total">${yuan(o.decision.unpaidTotalFen)}</span>`;
  return h`<section class="card" id="status">
<div class="muted">${name ? h`${name}，您好` : '您好'}</div>
<div class="summary"><span>未结清合计</span>${total}<span class="muted">${o.unpaid.length} 笔</span></div>
${eligibilityText(o, p)}
${o.unpaid.length ? h`<a class="button" href="${BASE}/pay" id="pay-all">去缴费</a>` : ''}
</section>`;
}

function recordSection(id: string, heading: string, records: Html[], empty: string): Html {
  return h`<section class="card" id="${id}"><h2>${heading}</h2>
${records.length ? records : h`<p class="muted">${empty}</p>`}
</section>`;
}

const cardPhoneHint = h`<p class="muted" id="card-phone">您的电子健康卡还没有登记手机号：<a href="${BASE}/card-phone">绑定手机号</a>后可登录电子健康卡。</p>`;

/** A page for everything that is not a working session: what happened and what to do next. */
export function infoPage(title: string, message: string, next: string): string {
  const body = h`<section class="card"><h2>${title}</h2><p>${message}</p><p class="muted">${next}</p></section>`;
  return shell(APP_TITLE, body);
}

export const HOW_TO_ENTER = '请回到“闽政通”点击“医疗欠费名单”，或在就诊医院的公众号、小程序中重新进入。';
