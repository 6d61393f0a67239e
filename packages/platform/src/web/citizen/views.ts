import { epochMsToChinaTime } from '@mdl/protocol';
import { money } from '../money.js';
import { APPEAL_REASONS, APPEAL_STATUS_TEXT, MAX_APPEAL_TEXT } from '../../domain/appeals.js';
import type { CitizenOverview, CitizenRecord, PaymentChannel } from '../../domain/citizen/records.js';
import type { EligibilityPolicy } from '../../domain/eligibility.js';
import { h, page, type Html } from '../html.js';
import { errorSummary, field, firstError } from '../form.js';

/** Pages of the citizen app (医疗欠费名单用户应用). Every value passes through `h`, so user text stays text. */
export const APP_TITLE = '医疗欠费名单';
const BASE = '/mdr';

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
.appeal{background:#f9fafb;border-radius:.375rem;padding:.5rem .6rem;margin-top:.5rem;font-size:.9rem;white-space:pre-wrap;word-break:break-word}
ul.plain{padding-left:1.1rem;margin:.3rem 0}
ul.channels{list-style:none;padding:0;margin:.5rem 0;display:grid;gap:.5rem}
ul.channels .button{display:block}
.overdue{font-size:.9rem;margin-top:.2rem}
h2{font-size:1.05rem;margin:0 0 .5rem}
`;

export function shell(title: string, body: Html, opts: { signedIn?: boolean; csrf?: string } = {}): string {
  const right = opts.signedIn
    ? h`<form method="post" action="${BASE}/logout" style="margin:0"><input type="hidden" name="csrf" value="${opts.csrf ?? ''}"><button class="secondary" style="padding:.25rem .6rem;font-size:.85rem">退出</button></form>`
    : undefined;
  return page({ title, body, css: CSS, ...(right ? { headerRight: right } : {}) });
}

export const yuan = money;
const time = (d: Date) => epochMsToChinaTime(d.getTime()).slice(0, 16);

const STATE_TEXT = { '0': ['未结清', 'bad'], '1': ['已缴清', 'ok'], '2': ['已撤销', 'ok'] } as const;

/** Plain-words eligibility, from the same decision as ORG_MDL_002. */
export function eligibilityText(o: CitizenOverview, p: EligibilityPolicy): Html {
  const d = o.decision;
  if (d.next === '1' && d.reasons.includes('NO_ARREARS')) {
    return h`<p class="ok"><strong>您目前没有未结清的医疗费用，可以正常享受“先诊后付”。</strong></p>`;
  }
  if (d.next === '1') {
    return h`<p class="warn"><strong>您现在仍可享受“先诊后付”。</strong></p>
<p class="muted">不过您有 ${d.unpaidCount} 笔费用未结清。若有费用超过 ${p.maxAgeDays} 天未结清、合计达到 ${yuan(p.maxTotalFen)} 或达到 ${p.maxCount} 笔，将暂停先诊后付，请尽快缴费。</p>`;
  }
  const why: string[] = [];
  if (d.reasons.includes('OVERDUE_TOO_LONG')) why.push(`有费用超过 ${p.maxAgeDays} 天未结清`);
  if (d.reasons.includes('TOTAL_TOO_HIGH')) why.push(`未结清费用合计已达到 ${yuan(p.maxTotalFen)}`);
  if (d.reasons.includes('TOO_MANY_ITEMS')) why.push(`未结清费用已有 ${p.maxCount} 笔或以上`);
  return h`<p class="bad"><strong>您现在暂时不能享受“先诊后付”，就诊时需先缴费。</strong></p>
<p>原因：</p><ul class="plain">${why.map((w) => h`<li>${w}</li>`)}</ul>
<p class="muted">结清欠费后即可恢复。已经缴费但这里仍显示未结清？请点该记录的“已缴费，状态更新”。</p>`;
}

function appealBox(r: CitizenRecord): Html {
  const a = r.appeal;
  if (!a) return h``;
  const status = APPEAL_STATUS_TEXT[a.status as keyof typeof APPEAL_STATUS_TEXT] ?? a.status;
  const reason = APPEAL_REASONS[a.reason as keyof typeof APPEAL_REASONS] ?? a.reason;
  return h`<div class="appeal" data-appeal="${a.id}"><strong>申诉（${reason}）：${status}</strong>
<div class="appeal-text">${a.description}</div>${a.orgReply ? h`<div>医疗机构答复：${a.orgReply}</div>` : ''}${
    a.decisionReason ? h`<div>处理意见：${a.decisionReason}</div>` : ''
  }</div>`;
}

const DAY_MS = 86_400_000;

/** 已缴清 also for a record revoked because an "already paid" appeal was upheld: the citizen did pay. */
function stateOf(r: CitizenRecord): readonly [string, string] {
  if (r.state === '2' && r.appeal?.status === 'upheld' && r.appeal.reason === 'paid') return ['已缴清', 'ok'];
  return STATE_TEXT[r.state];
}

/** Days since the fee arose, and whether that alone takes 先诊后付 away (the rule ORG_MDL_002 applies). */
function overdue(r: CitizenRecord, p: EligibilityPolicy, now: number): Html {
  const days = Math.max(0, Math.floor((now - r.actualTime.getTime()) / DAY_MS));
  if (days > p.maxAgeDays) {
    return h`<div class="overdue bad" data-days="${days}"><strong>已欠 ${days} 天</strong>，超过 ${p.maxAgeDays} 天：这一笔使您暂停先诊后付</div>`;
  }
  const left = p.maxAgeDays - days;
  return h`<div class="overdue muted" data-days="${days}">已欠 ${days} 天，再过 ${left} 天未缴将暂停先诊后付</div>`;
}

function recordView(r: CitizenRecord, csrf: string, p: EligibilityPolicy, now: number): Html {
  const [stateText, cls] = stateOf(r);
  const appealOpen = r.appeal && (r.appeal.status === 'open' || r.appeal.status === 'answered');
  const unpaid = r.state === '0';
  return h`<div class="rec" id="item-${r.id}" data-item="${r.id}">
<h3>${r.orgName}</h3>
<div class="kv"><span>${r.itemName}</span><strong>${yuan(r.amountFen)}</strong></div>
<div class="kv muted"><span>发生时间 ${time(r.actualTime)}</span><span class="tag ${cls}">${stateText}</span></div>
${unpaid ? overdue(r, p, now) : ''}
${!unpaid && r.settledAt ? h`<div class="muted">${stateText === '已缴清' ? '结清' : '撤销'}时间 ${time(r.settledAt)}</div>` : ''}
${unpaid && r.refresh?.status === 'failed' ? h`<div class="muted warn">上次向医院查询未获答复，平台会自动重试。</div>` : ''}
${
  unpaid
    ? h`<div class="actions">
<a class="button pay" href="${BASE}/pay#org-${r.orgId}">去缴费</a>
<form method="post" action="${BASE}/items/${r.id}/refresh"><input type="hidden" name="csrf" value="${csrf}"><button type="submit" class="refresh secondary">已缴费，状态更新</button></form>
${appealOpen ? '' : h`<a class="button secondary" href="${BASE}/items/${r.id}/appeal">申诉</a>`}
</div>`
    : ''
}
${appealBox(r)}
</div>`;
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

export function overviewPage(
  o: CitizenOverview,
  p: EligibilityPolicy,
  opts: { name: string; csrf: string; notice?: string; item?: number; now: number; cardPhone?: boolean },
): string {
  const n = opts.notice && Object.hasOwn(NOTICES, opts.notice) ? NOTICES[opts.notice] : undefined;
  const view = (r: CitizenRecord) =>
    h`${n && opts.item === r.id ? h`<div class="note ${n[0]}" role="status" id="item-notice">${n[1]}</div>` : ''}${recordView(r, opts.csrf, p, opts.now)}`;
  const banner = n && opts.item === undefined ? h`<div class="note ${n[0]}" role="status">${n[1]}</div>` : '';
  const body = h`${banner}
<section class="card" id="status">
<div class="muted">${opts.name ? h`${opts.name}，您好` : '您好'}</div>
<div class="summary"><span>未结清合计</span><span class="big" id="unpaid-total">${yuan(o.decision.unpaidTotalFen)}</span><span class="muted">${o.unpaid.length} 笔</span></div>
${eligibilityText(o, p)}
${o.unpaid.length ? h`<a class="button" href="${BASE}/pay" id="pay-all">去缴费</a>` : ''}
</section>
<section class="card" id="unpaid"><h2>未结清记录</h2>
${o.unpaid.length ? o.unpaid.map(view) : h`<p class="muted">没有未结清的记录。</p>`}
</section>
<section class="card" id="history"><h2>已缴清 / 已撤销</h2>
${o.history.length ? o.history.map(view) : h`<p class="muted">暂无记录。</p>`}
</section>
<p class="muted">记录由医疗机构上报。已缴费但仍显示未结清，请点“已缴费，状态更新”；记录有误可提出申诉。</p>
${opts.cardPhone ? h`<p class="muted" id="card-phone">您的电子健康卡还没有登记手机号：<a href="${BASE}/card-phone">绑定手机号</a>后可登录电子健康卡。</p>` : ''}`;
  return shell(APP_TITLE, body, { signedIn: true, csrf: opts.csrf });
}

const CHANNEL_KIND: Record<string, string> = { phone: '电话', address: '地址', online: '线上缴费' };

/** Each channel is something to tap: call, open the payment site, or the address to go to. */
function channelView(c: PaymentChannel): Html {
  const label = c.label || CHANNEL_KIND[c.kind] || '缴费方式';
  if (c.kind === 'phone') {
    return h`<li><a class="button channel" href="tel:${c.value.replace(/[^\d+-]/g, '')}">拨打${label} ${c.value}</a></li>`;
  }
  // Only http(s) links become links: an operator typo must not turn into a javascript: URL.
  if (c.kind === 'online' && /^https?:\/\//i.test(c.value)) {
    return h`<li><a class="button channel" href="${c.value}" rel="noopener noreferrer">${label}（在线支付）</a></li>`;
  }
  if (c.kind === 'address') return h`<li class="channel-address"><strong>${label}</strong><br>${c.value}</li>`;
  return h`<li>${label}：${c.value}</li>`;
}

export function payPage(o: CitizenOverview, csrf: string): string {
  const body = h`<section class="card"><h2>如何缴费</h2>
<p class="muted">请通过以下方式向对应医疗机构缴费。缴费后医院会同步结果；如长时间仍显示未结清，可在记录上点“状态更新”。</p></section>
${
  o.payment.length
    ? o.payment.map((p) => {
        const items = o.unpaid.filter((r) => r.orgId === p.orgId);
        return h`<section class="card" data-org="${p.orgId}" id="org-${p.orgId}"><h2>${p.orgName}</h2>
<div class="kv"><span>未结清 ${items.length} 笔</span><strong>${yuan(items.reduce((s, r) => s + r.amountFen, 0))}</strong></div>
${p.channels.length ? h`<ul class="channels">${p.channels.map(channelView)}</ul>` : h`<p class="muted">该机构尚未登记缴费方式，请到医院收费处缴费。</p>`}
</section>`;
      })
    : h`<section class="card"><p>您没有需要缴费的记录。</p></section>`
}
<p><a href="${BASE}/">返回我的记录</a></p>`;
  return shell('缴费方式', body, { signedIn: true, csrf });
}

export interface AppealFormState {
  reason?: string;
  description?: string;
  errors?: { reason?: string; description?: string };
}

export function appealPage(r: CitizenRecord, csrf: string, form: AppealFormState = {}): string {
  const record = h`<section class="card"><h2>对这条记录申诉</h2>
<div class="kv"><span>${r.orgName} · ${r.itemName}</span><strong>${yuan(r.amountFen)}</strong></div>
<div class="muted">发生时间 ${time(r.actualTime)}</div></section>`;
  const a = r.appeal;
  // An appeal still being handled: its status, not a blank form that would be refused after typing.
  if (a && (a.status === 'open' || a.status === 'answered')) {
    const body = h`${record}<section class="card" id="appeal-open"><h2>这条记录已有申诉正在处理</h2>${appealBox(r)}
<p class="muted">医疗机构和平台核实后，结果会显示在该记录下方。处理完成前不能重复申诉。</p>
<p><a class="button" href="${BASE}/#item-${r.id}">返回我的记录</a></p></section>`;
    return shell('申诉', body, { signedIn: true, csrf });
  }
  const errors = form.errors ?? {};
  const first = firstError(errors, ['reason', 'description']);
  const reasons: [string, string][] = [['', '请选择'], ...Object.entries(APPEAL_REASONS)];
  const body = h`${record}
<form class="card" method="post" action="${BASE}/items/${r.id}/appeal" novalidate>
<input type="hidden" name="csrf" value="${csrf}">
${errorSummary(errors)}
${field({ label: '申诉原因', name: 'reason', id: 'reason', value: form.reason ?? '', error: errors.reason, focus: first === 'reason', required: true, options: reasons })}
${field({
  label: `情况说明（${MAX_APPEAL_TEXT} 字以内）`,
  name: 'description',
  id: 'description',
  value: form.description ?? '',
  error: errors.description,
  focus: first === 'description',
  required: true,
  textarea: true,
  hint: '请写明缴费时间、方式或您认为有误的地方。提交后由医疗机构和平台核实处理。',
})}
<div class="actions"><button type="submit">提交申诉</button><a class="button secondary" href="${BASE}/">取消</a></div>
</form>`;
  return shell('申诉', body, { signedIn: true, csrf });
}

/** A page for everything that is not a working session: what happened and what to do next. */
export function infoPage(title: string, message: string, next: string): string {
  const body = h`<section class="card"><h2>${title}</h2><p>${message}</p><p class="muted">${next}</p></section>`;
  return shell(APP_TITLE, body);
}

export const HOW_TO_ENTER = '请回到“闽政通”点击“医疗欠费名单”，或在就诊医院的公众号、小程序中重新进入。';
