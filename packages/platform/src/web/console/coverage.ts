import { FEE_TYPES, MED_TYPES } from '@mdl/protocol';
import { h, raw, type Html } from '../html.js';
import {
  coverageToForm,
  parseCoverageForm,
  previewCoverage,
  saveCoverage,
  type CoverageForm,
  type CoveragePreview,
} from '../../domain/console/coverage.js';
import type { Actor } from '../../domain/console/auth.js';
import type { CoveragePolicy } from '../../domain/coverage.js';
import { actorOf, html, need, type ConsoleContext } from './context.js';
import { consolePage, csrfField, field, notice, str, yuan } from './layout.js';
import { alertCard, card, hiddenInputs, postForm } from './components.js';
import { Fields, FormBody } from '../route-schemas.js';

function describe(p: CoveragePolicy): string {
  const med = p.medTypes.map((c) => MED_TYPES[c as keyof typeof MED_TYPES]).join('、');
  const fee = p.feeTypes.map((c) => FEE_TYPES[c as keyof typeof FEE_TYPES]).join('、');
  return `医疗类别：${med}；费用类别：${fee}；产生时间在 ${p.maxAgeDays} 天内且不晚于当前 ${p.maxFutureMinutes} 分钟；金额不低于 ${yuan(p.minAmountFen)} 元`;
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];
}

type Preview = { policy: CoveragePolicy; result: CoveragePreview };

/** One checkbox per code of a dictionary (医疗类别 or 费用类别), the chosen ones ticked. */
function boxes(name: 'medTypes' | 'feeTypes', dict: Record<string, string>, chosen: string[]): Html {
  const box = ([code, text]: [string, string]) => {
    const checked = raw(chosen.includes(code) ? ' checked' : '');
    return h`<label><input type="checkbox" name="${name}" value="${code}"${checked}> ${code} ${text}</label> `;
  };
  return h`<fieldset><legend>${name === 'medTypes' ? '覆盖的医疗类别' : '覆盖的费用类别'}</legend>${Object.entries(dict).map(box)}</fieldset>`;
}

function hidden(f: CoverageForm): Html {
  const codes = [...f.medTypes.map((c) => ['medTypes', c] as const), ...f.feeTypes.map((c) => ['feeTypes', c] as const)];
  const limits = [
    ['maxAgeDays', f.maxAgeDays],
    ['maxFutureMinutes', f.maxFutureMinutes],
    ['minAmountYuan', f.minAmountYuan],
  ] as const;
  return hiddenInputs([...codes, ...limits]);
}

/** What the new range would refuse of the last 30 days, with the form that saves it (the same values, hidden). */
function previewCard(actor: Actor, f: CoverageForm, { policy, result }: Preview): Html {
  const save = postForm(
    { action: '/console/coverage', csrf: csrfField(actor) },
    h`${hidden(f)}
<button type="submit" id="save-coverage">确认保存</button> <a class="button secondary" href="/console/coverage">取消</a>`,
  );
  const refused = h`<b id="coverage-refused">${result.refused}</b>`;
  return card(
    '预览',
    h`<p>${describe(policy)}</p>
<p>近 30 天保存的 ${result.items} 条欠费中，按新范围将有 ${refused} 条被拒收。</p>
<ul>${result.byReason.map((r) => h`<li>${r.reason}：${r.count} 条</li>`)}</ul>
${save}`,
    'coverage-preview',
  );
}

const fieldError = (text: string | undefined) => (text ? h`<div class="field-error">${text}</div>` : '');

/** The operator's form: the new range, previewed before anything is saved. */
function coverageForm(actor: Actor, f: CoverageForm, errors: Record<string, string>): Html {
  const limits = h`<div class="row">${field({ label: '最早产生时间（天内）', name: 'maxAgeDays', value: f.maxAgeDays, error: errors.maxAgeDays })}
${field({ label: '允许晚于当前（分钟）', name: 'maxFutureMinutes', value: f.maxFutureMinutes, error: errors.maxFutureMinutes })}
${field({ label: '最低金额（元）', name: 'minAmountYuan', value: f.minAmountYuan, error: errors.minAmountYuan })}</div>`;
  const form = { action: '/console/coverage/preview', csrf: csrfField(actor), className: 'card', id: 'coverage-form', novalidate: true };
  return postForm(
    form,
    h`<h3>调整覆盖范围</h3>
${boxes('medTypes', MED_TYPES, f.medTypes)}${fieldError(errors.medTypes)}
${boxes('feeTypes', FEE_TYPES, f.feeTypes)}${fieldError(errors.feeTypes)}
${limits}
<p><button type="submit">预览影响</button></p>`,
  );
}

const RULE_NOTE = '范围外的项目在处理上报时逐条拒收（回调与 ORG_MDL_005 中 state 为 2 并说明原因），不保存；已保存的记录不受调整影响。';

/** The coverage policy page (§1.2.3): current rule, form, preview, save. */
export async function coverageRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const render = async (actor: Actor, f: CoverageForm, errors: Record<string, string>, preview?: Preview, saved = false) => {
    const current = await platform.coverage.get();
    const body = h`${saved ? notice('已保存，之后处理的上报按新范围接收（10 秒内生效）。') : ''}
${card(
  '当前覆盖范围',
  h`<p id="current-coverage">${describe(current)}</p>
<p>${RULE_NOTE}</p>`,
)}
${alertCard(errors.form)}
${actor.role === 'operator' ? coverageForm(actor, f, errors) : ''}
${preview ? previewCard(actor, f, preview) : ''}`;
    return consolePage(actor, { title: '覆盖范围（先诊后付费用）', active: '/console/coverage', body });
  };

  const formOf = (b: FormBody): CoverageForm => {
    const x = b ?? {};
    return {
      medTypes: list(x.medTypes),
      feeTypes: list(x.feeTypes),
      maxAgeDays: str(x.maxAgeDays),
      maxFutureMinutes: str(x.maxFutureMinutes),
      minAmountYuan: str(x.minAmountYuan),
    };
  };

  app.get('/coverage', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = need(req, 'operator', 'auditor');
    const q = req.query;
    return html(reply, await render(actor, coverageToForm(await platform.coverage.get()), {}, undefined, q.saved === '1'));
  });

  app.post('/coverage/preview', { schema: { body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const f = formOf(req.body);
    const { policy, errors } = parseCoverageForm(f);
    if (!policy) return html(reply, await render(actor, f, errors), 400);
    return html(reply, await render(actor, f, {}, { policy, result: await previewCoverage(platform.db, policy, platform.now()) }));
  });

  app.post('/coverage', { schema: { body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const f = formOf(req.body);
    const { policy, errors } = parseCoverageForm(f);
    if (!policy) return html(reply, await render(actor, f, errors), 400);
    await saveCoverage(platform, actorOf(req), policy);
    return reply.redirect('/console/coverage?saved=1', 303);
  });
}
