import { h, type Html } from '../html.js';
import type { Actor } from '../../domain/console/auth.js';
import type { ConsoleReader } from '../../domain/console/reader.js';
import { APPEAL_REASONS, APPEAL_STATUS_TEXT, MAX_APPEAL_TEXT } from '../../domain/appeals.js';
import { alertCard, card, definitionList, postForm } from './components.js';
import { csrfField, field, regionName, STATE_TEXT, tag, time, yuan } from './layout.js';

/**
 * An appeal's own page: what the citizen said (and their receipt photo), the record appealed against, the
 * reporting institution, and the form the viewer may use on it (staff answer, operators decide).
 */
export type AppealDetail = NonNullable<Awaited<ReturnType<ConsoleReader['appeal']>>>;
type Appeal = AppealDetail['appeal'];

/** What the page was sent back with: errors by field and the values typed. */
export interface AppealForms {
  errors: Record<string, string>;
  values: Record<string, string>;
}

const DECIDE_CONFIRM = '提交裁决？裁决提交后不能更改；"申诉成立"会立即撤销该欠费记录并通知机构。';

const DECISIONS: [string, string][] = [
  ['', '请选择'],
  ['upheld', '申诉成立：撤销该记录'],
  ['rejected', '申诉不成立：驳回'],
];

export const statusTag = (s: keyof typeof APPEAL_STATUS_TEXT) =>
  tag(APPEAL_STATUS_TEXT[s], s === 'upheld' ? 'ok' : s === 'rejected' ? 'bad' : 'warn');

function receipt(id: number, has: boolean): Html {
  if (!has) return h`<span class="muted">未上传</span>`;
  const photo = h`<img src="/console/appeals/${id}/receipt" alt="患者上传的缴费收据照片" class="receipt" id="receipt-photo">`;
  return h`<a href="/console/appeals/${id}/receipt" target="_blank" id="receipt-link">${photo}</a>`;
}

/** The appeal: when, why, the citizen's words, and the institution's answer and the decision once there. */
function appealFacts(a: Appeal, hasReceipt: boolean): Html {
  const reply = h`${a.org_reply}（${a.org_replied_by ?? ''}，${time(a.org_replied_at)}）`;
  const reason = a.decision_reason ? h`：${a.decision_reason}` : '';
  const decision = h`${APPEAL_STATUS_TEXT[a.status]}${reason}（${a.decided_by ?? ''}，${time(a.decided_at)}）`;
  const facts = definitionList([
    ['提交时间', time(a.created_at)],
    ['原因', APPEAL_REASONS[a.reason]],
    ['患者说明', a.description, 'citizen-text'],
    ['收据照片', receipt(a.id, hasReceipt)],
    Boolean(a.org_reply) && ['机构答复', reply, 'org-reply'],
    Boolean(a.decided_at) && ['裁决', decision, 'decision'],
  ]);
  return card(h`申诉 ${statusTag(a.status)}`, facts);
}

/** The record appealed against, with its current state and the batch that reported it. */
function appealedItem({ item: i, batch }: AppealDetail): Html {
  const state = h`${STATE_TEXT[i.state]}${i.settled_at ? h`（${time(i.settled_at)}）` : ''}`;
  const reported = batch ? h`<a href="/console/batches/${batch.id}">${batch.org_request_id}</a>（${time(batch.received_at)}）` : '';
  const facts = definitionList([
    ['平台跟踪号', h`<code>${i.trace_id}</code>`],
    ['机构流水号', i.org_trace_id],
    ['患者', `${i.name} ${i.idNo} ${i.phone}`],
    ['项目', h`<a href="/console/items/${i.id}" id="appeal-item-link">${i.item_name}</a>`],
    ['金额', yuan(i.amount_fen)],
    ['发生时间', time(i.actual_time)],
    ['当前状态', state, 'item-state'],
    ['上报批次', reported],
  ]);
  return card('被申诉的记录', facts);
}

function reportingInstitution({ appeal: a, inst }: AppealDetail): Html {
  const facts = definitionList([
    ['机构', `${inst?.org_name ?? ''}（${a.org_id}）`],
    ['地区', regionName(inst?.region)],
  ]);
  return card('上报机构', facts);
}

/** The institution's answer (staff, while the appeal is open). */
function answerForm(actor: Actor, a: Appeal, { errors, values }: AppealForms): Html {
  const reply = field({
    label: '机构答复（将提供给运营人员裁决，并向患者展示）',
    name: 'reply',
    value: values.reply ?? a.org_reply ?? '',
    error: errors.reply,
    textarea: true,
    hint: `不超过 ${MAX_APPEAL_TEXT} 字`,
  });
  const form = { action: `/console/appeals/${a.id}/answer`, csrf: csrfField(actor), className: 'card', id: 'answer-form' };
  return postForm(
    form,
    h`
${reply}
<p><button type="submit">提交答复</button></p>`,
  );
}

/** The operator's decision (while the appeal is open), asked for confirmation: it cannot be changed. */
function decideForm(actor: Actor, a: Appeal, { errors, values }: AppealForms): Html {
  const decision = field({ label: '裁决', name: 'decision', value: values.decision ?? '', error: errors.decision, options: DECISIONS });
  const reasonLabel = '理由（驳回时必填，将向患者展示）';
  const reason = field({ label: reasonLabel, name: 'reason', value: values.reason ?? '', error: errors.reason, textarea: true });
  const form = {
    action: `/console/appeals/${a.id}/decide`,
    csrf: csrfField(actor),
    className: 'card',
    id: 'decide-form',
    confirm: { text: DECIDE_CONFIRM, ok: '提交裁决' },
  };
  return postForm(
    form,
    h`
${decision}
${reason}
<p><button type="submit">提交裁决</button></p>`,
  );
}

function otherAppeals(history: AppealDetail['history']): Html | '' {
  if (!history.length) return '';
  const links = history.map((x) => h`<a href="/console/appeals/${x.id}">#${x.id}</a>（${APPEAL_STATUS_TEXT[x.status]}） `);
  return h`<p class="muted">该记录的其他申诉：${links}</p>`;
}

export function appealBody(actor: Actor, d: AppealDetail, hasReceipt: boolean, forms: AppealForms): Html {
  const a = d.appeal;
  const open = a.status === 'open' || a.status === 'answered';
  return h`${alertCard(forms.errors.form)}
${appealFacts(a, hasReceipt)}
${appealedItem(d)}
${reportingInstitution(d)}
${open && actor.role === 'staff' ? answerForm(actor, a, forms) : ''}${open && actor.role === 'operator' ? decideForm(actor, a, forms) : ''}
${otherAppeals(d.history)}`;
}
