import { fenToYuan } from '@mdl/protocol';
import { h, type Html } from '../html.js';
import { parsePolicyForm, previewPolicy, savePolicy, type PolicyForm, type PolicyPreview } from '../../domain/console/policy.js';
import { actorOf, type ConsoleContext, html, need } from './context.js';
import type { Actor } from '../../domain/console/auth.js';
import { consoleReader } from '../../domain/console/reader.js';
import type { EligibilityPolicy } from '../../domain/eligibility.js';
import { consolePage, csrfField, field, notice, str, time, yuan } from './layout.js';
import { alertCard, card, cells, hiddenInputs, postForm, scrollTable } from './components.js';
import { Fields, FormBody } from '../route-schemas.js';

function toForm(p: EligibilityPolicy, note = ''): PolicyForm {
  return { maxAgeDays: String(p.maxAgeDays), maxTotalYuan: fenToYuan(p.maxTotalFen), maxCount: String(p.maxCount), note };
}

function describe(p: EligibilityPolicy): string {
  return `欠费超过 ${p.maxAgeDays} 天，或未结清总额达到 ${yuan(p.maxTotalFen)}，或未结清 ${p.maxCount} 笔及以上 → 不可先诊后付`;
}

const HISTORY_HEADINGS = ['时间', '操作人', '调整前', '调整后', '说明'];

type PolicyChange = Awaited<ReturnType<ReturnType<typeof consoleReader>['policyHistory']>>[number];

/** What a rule change would do, with the form that saves it (the same values, hidden). */
function previewCard(actor: Actor, f: PolicyForm, preview: { policy: EligibilityPolicy; result: PolicyPreview }): Html {
  const r = preview.result;
  const values = hiddenInputs([
    ['maxAgeDays', f.maxAgeDays],
    ['maxTotalYuan', f.maxTotalYuan],
    ['maxCount', f.maxCount],
    ['note', f.note],
  ]);
  const save = postForm(
    { action: '/console/policy', csrf: csrfField(actor) },
    h`
${values}
<button type="submit" id="save-policy">确认保存</button> <a class="button secondary" href="/console/policy">取消</a>`,
  );
  return card(
    '预览',
    h`<p>${describe(preview.policy)}</p>
<ul><li>有未结清欠费的对象：${r.subjects} 人</li>
<li>当前可先诊后付：${r.eligibleBefore} 人 → 调整后：${r.eligibleAfter} 人</li>
<li id="preview-ineligible"><b>将由可用变为不可用：${r.becomeIneligible} 人</b></li>
<li id="preview-eligible"><b>将由不可用变为可用：${r.becomeEligible} 人</b></li></ul>
${save}`,
    'preview',
  );
}

/** The operator's form: new limits, previewed before anything is saved. */
function policyForm(actor: Actor, f: PolicyForm, errors: Record<string, string>): Html {
  const limits = h`<div class="row">
${field({ label: '最长欠费天数', name: 'maxAgeDays', value: f.maxAgeDays, error: errors.maxAgeDays, hint: '任一笔欠费超过该天数即不可用' })}
${field({ label: '欠费总额上限（元）', name: 'maxTotalYuan', value: f.maxTotalYuan, error: errors.maxTotalYuan })}
${field({ label: '欠费笔数上限', name: 'maxCount', value: f.maxCount, error: errors.maxCount })}</div>`;
  const form = { action: '/console/policy/preview', csrf: csrfField(actor), className: 'card', id: 'policy-form', novalidate: true };
  return postForm(
    form,
    h`<h3>调整规则</h3>${limits}
${field({ label: '调整说明', name: 'note', value: f.note, error: errors.note })}
<p><button type="submit">预览影响</button></p>`,
  );
}

const brief = (x: EligibilityPolicy) => `${x.maxAgeDays} 天 / ${yuan(x.maxTotalFen)} / ${x.maxCount} 笔`;

function historyRow(r: PolicyChange): Html {
  const p = JSON.parse(r.policy) as EligibilityPolicy;
  const prev = r.previous ? (JSON.parse(r.previous) as EligibilityPolicy) : undefined;
  return h`<tr>${cells(time(r.changed_at), r.changed_by, prev ? brief(prev) : '', brief(p), { wrap: r.note ?? '' })}</tr>`;
}

export async function policyRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const render = async (
    actor: Actor,
    f: PolicyForm,
    errors: Record<string, string>,
    preview?: { policy: EligibilityPolicy; result: PolicyPreview },
    saved = false,
  ) => {
    const current = await platform.policy.get();
    const history = await consoleReader(platform, actor).policyHistory();
    const body = h`${saved ? notice('已保存，各服务进程将在 10 秒内生效。') : ''}
${card('当前规则', h`<p id="current-policy">${describe(current)}</p>`)}
${alertCard(errors.form)}
${actor.role === 'operator' ? policyForm(actor, f, errors) : ''}
${preview ? previewCard(actor, f, preview) : ''}
<h3>变更历史</h3>${scrollTable('policy-history', HISTORY_HEADINGS, history.map(historyRow))}`;
    return consolePage(actor, { title: '判定规则（先诊后付资格）', active: '/console/policy', body });
  };

  const formOf = (b: FormBody): PolicyForm => {
    const x = b ?? {};
    return { maxAgeDays: str(x.maxAgeDays), maxTotalYuan: str(x.maxTotalYuan), maxCount: str(x.maxCount), note: str(x.note) };
  };

  app.get('/policy', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = need(req, 'operator', 'auditor');
    const q = req.query;
    return html(reply, await render(actor, toForm(await platform.policy.get()), {}, undefined, q.saved === '1'));
  });

  app.post('/policy/preview', { schema: { body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const f = formOf(req.body);
    const { policy, errors } = parsePolicyForm(f);
    if (!policy) return html(reply, await render(actor, f, errors), 400);
    const result = await previewPolicy(platform.db, await platform.policy.get(), policy, platform.now());
    return html(reply, await render(actor, f, {}, { policy, result }));
  });

  app.post('/policy', { schema: { body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const f = formOf(req.body);
    const { policy, errors } = parsePolicyForm(f);
    if (!policy) return html(reply, await render(actor, f, errors), 400);
    await savePolicy(platform, actorOf(req), policy, f.note);
    return reply.redirect('/console/policy?saved=1', 303);
  });
}
