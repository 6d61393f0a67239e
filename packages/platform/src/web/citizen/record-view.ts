import { APPEAL_REASONS, APPEAL_STATUS_TEXT } from '../../domain/appeals.js';
import type { CitizenRecord } from '../../domain/citizen/records.js';
import type { EligibilityPolicy } from '../../domain/eligibility.js';
import { h, type Html } from '../html.js';
import { BASE, csrfField, kv, time, yuan } from './parts.js';

/** One record of the overview: what, where, how much, its state, and what the citizen can do about it. */
export function recordView(r: CitizenRecord, csrf: string, p: EligibilityPolicy, now: number): Html {
  const unpaid = r.state === '0';
  return h`<div class="rec" id="item-${r.id}" data-item="${r.id}">
<h3>${r.orgName}</h3>
${kv(r.itemName, yuan(r.amountFen))}
${recordState(r)}
${unpaid ? unpaidParts(r, csrf, p, now) : settledLine(r)}
${appealBox(r)}
</div>`;
}

const STATE_TEXT = { '0': ['未结清', 'bad'], '1': ['已缴清', 'ok'], '2': ['已撤销', 'ok'] } as const;

/** 已缴清 also for a record revoked because an "already paid" appeal was upheld: the citizen did pay. */
function stateOf(r: CitizenRecord): readonly [string, string] {
  if (r.state === '2' && r.appeal?.status === 'upheld' && r.appeal.reason === 'paid') return ['已缴清', 'ok'];
  return STATE_TEXT[r.state];
}

function recordState(r: CitizenRecord): Html {
  const [text, cls] = stateOf(r);
  return h`<div class="kv muted"><span>发生时间 ${time(r.actualTime)}</span><span class="tag ${cls}">${text}</span></div>`;
}

/** When a paid or revoked record was settled. */
function settledLine(r: CitizenRecord): Html | '' {
  if (!r.settledAt) return '';
  return h`<div class="muted">${stateOf(r)[0] === '已缴清' ? '结清' : '撤销'}时间 ${time(r.settledAt)}</div>`;
}

/** An unpaid record: how long it has been owed, a failed last refresh, the actions and where 查询中 shows. */
function unpaidParts(r: CitizenRecord, csrf: string, p: EligibilityPolicy, now: number): Html {
  const failed = r.refresh?.status === 'failed' ? h`<div class="muted warn">上次向医院查询未获答复，平台会自动重试。</div>` : '';
  return h`${overdue(r, p, now)}
${failed}
${recordActions(r, csrf)}
<p class="refresh-status muted" role="status" aria-live="polite" hidden></p>`;
}

const DAY_MS = 86_400_000;

/** Days since the fee arose, and whether that alone takes 先诊后付 away (the rule ORG_MDL_002 applies). */
function overdue(r: CitizenRecord, p: EligibilityPolicy, now: number): Html {
  const days = Math.max(0, Math.floor((now - r.actualTime.getTime()) / DAY_MS));
  if (days > p.maxAgeDays) {
    return h`<div class="overdue bad" data-days="${days}"><strong>已欠 ${days} 天</strong>，超过 ${p.maxAgeDays} 天：这一笔使您暂停先诊后付</div>`;
  }
  const left = p.maxAgeDays - days;
  return h`<div class="overdue muted" data-days="${days}">已欠 ${days} 天，再过 ${left} 天未缴将暂停先诊后付</div>`;
}

/** 去缴费, 状态更新 (asks the hospital) and 申诉 unless an appeal is being handled. */
function recordActions(r: CitizenRecord, csrf: string): Html {
  const appealOpen = r.appeal && (r.appeal.status === 'open' || r.appeal.status === 'answered');
  return h`<div class="actions">
<a class="button pay" href="${BASE}/pay#org-${r.orgId}">去缴费</a>
<form method="post" action="${BASE}/items/${r.id}/refresh" class="refresh-form">${csrfField(csrf)}${refreshButton}</form>
${appealOpen ? '' : h`<a class="button secondary" href="${BASE}/items/${r.id}/appeal">申诉</a>`}
</div>`;
}

const refreshButton = h`<button type="submit" class="refresh secondary">已缴费，状态更新</button>`;

/** The record's appeal: its reason and status, the text, and the answers so far. */
export function appealBox(r: CitizenRecord): Html {
  const a = r.appeal;
  if (!a) return h``;
  const status = APPEAL_STATUS_TEXT[a.status as keyof typeof APPEAL_STATUS_TEXT] ?? a.status;
  const reason = APPEAL_REASONS[a.reason as keyof typeof APPEAL_REASONS] ?? a.reason;
  const reply = a.orgReply ? h`<div>医疗机构答复：${a.orgReply}</div>` : '';
  const decision = a.decisionReason ? h`<div>处理意见：${a.decisionReason}</div>` : '';
  return h`<div class="appeal" data-appeal="${a.id}"><strong>申诉（${reason}）：${status}</strong>
<div class="appeal-text">${a.description}</div>${reply}${decision}</div>`;
}
