import { APPEAL_REASONS, MAX_APPEAL_TEXT } from '../../domain/appeals.js';
import type { CitizenRecord } from '../../domain/citizen/records.js';
import { errorSummary, field, firstError } from '../form.js';
import { h, type Html } from '../html.js';
import { BASE, csrfField, kv, time, yuan } from './parts.js';
import { appealBox } from './record-view.js';
import { shell } from './views.js';

export interface AppealFormState {
  reason?: string;
  description?: string;
  errors?: AppealErrors;
}

type AppealErrors = { reason?: string; description?: string; receipt?: string };

/** 申诉 on one record: the form, or the appeal already being handled (not a blank form that would be refused). */
export function appealPage(r: CitizenRecord, csrf: string, form: AppealFormState = {}): string {
  const open = r.appeal && (r.appeal.status === 'open' || r.appeal.status === 'answered');
  const body = h`${recordCard(r)}${open ? appealUnderway(r) : appealForm(r, csrf, form)}`;
  return shell('申诉', body, { signedIn: true, csrf });
}

function recordCard(r: CitizenRecord): Html {
  return h`<section class="card"><h2>对这条记录申诉</h2>
${kv(`${r.orgName} · ${r.itemName}`, yuan(r.amountFen))}
<div class="muted">发生时间 ${time(r.actualTime)}</div></section>`;
}

function appealUnderway(r: CitizenRecord): Html {
  return h`<section class="card" id="appeal-open"><h2>这条记录已有申诉正在处理</h2>${appealBox(r)}
<p class="muted">医疗机构和平台核实后，结果会显示在该记录下方。处理完成前不能重复申诉。</p>
<p><a class="button" href="${BASE}/#item-${r.id}">返回我的记录</a></p></section>`;
}

const REASON_OPTIONS: [string, string][] = [['', '请选择'], ...Object.entries(APPEAL_REASONS)];

function appealForm(r: CitizenRecord, csrf: string, form: AppealFormState): Html {
  const errors = form.errors ?? {};
  const first = firstError(errors, ['reason', 'description', 'receipt']);
  const at = (name: keyof AppealErrors) => ({ name, id: name, error: errors[name], focus: first === name });
  return h`
<form class="card" method="post" action="${BASE}/items/${r.id}/appeal" enctype="multipart/form-data" novalidate>
${csrfField(csrf)}
${errorSummary(errors)}
${field({ label: '申诉原因', ...at('reason'), value: form.reason ?? '', required: true, options: REASON_OPTIONS })}
${field({
  label: `情况说明（${MAX_APPEAL_TEXT} 字以内）`,
  ...at('description'),
  value: form.description ?? '',
  required: true,
  textarea: true,
  hint: '请写明缴费时间、方式或您认为有误的地方。提交后由医疗机构和平台核实处理。',
})}
${field({
  label: '缴费收据照片（可选）',
  ...at('receipt'),
  type: 'file',
  attrs: 'accept="image/jpeg,image/png"',
  hint: '如已缴费，可拍下收据或缴费凭证上传，JPG 或 PNG，不超过 2 MB。照片加密保存，仅医疗机构和平台审核人员可见。',
})}
<div class="actions"><button type="submit">提交申诉</button><a class="button secondary" href="${BASE}/">取消</a></div>
</form>`;
}
