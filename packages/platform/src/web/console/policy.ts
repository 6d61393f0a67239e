import { fenToYuan } from '@mdl/protocol';
import { h } from '../html.js';
import { parsePolicyForm, previewPolicy, savePolicy, type PolicyForm, type PolicyPreview } from '../../domain/console/policy.js';
import { actorOf, type ConsoleContext, html, need } from './context.js';
import type { Actor } from '../../domain/console/auth.js';
import { consoleReader } from '../../domain/console/reader.js';
import type { EligibilityPolicy } from '../../domain/eligibility.js';
import { consolePage, csrfField, field, str, time, yuan } from './layout.js';
import { Fields, FormBody } from '../route-schemas.js';

function toForm(p: EligibilityPolicy, note = ''): PolicyForm {
  return { maxAgeDays: String(p.maxAgeDays), maxTotalYuan: fenToYuan(p.maxTotalFen), maxCount: String(p.maxCount), note };
}

function describe(p: EligibilityPolicy): string {
  return `欠费超过 ${p.maxAgeDays} 天，或未结清总额达到 ${yuan(p.maxTotalFen)}，或未结清 ${p.maxCount} 笔及以上 → 不可先诊后付`;
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
    const canEdit = actor.role === 'operator';
    const previewCard = preview
      ? h`<div class="card" id="preview"><h3>预览</h3><p>${describe(preview.policy)}</p>
<ul><li>有未结清欠费的对象：${preview.result.subjects} 人</li>
<li>当前可先诊后付：${preview.result.eligibleBefore} 人 → 调整后：${preview.result.eligibleAfter} 人</li>
<li id="preview-ineligible"><b>将由可用变为不可用：${preview.result.becomeIneligible} 人</b></li>
<li id="preview-eligible"><b>将由不可用变为可用：${preview.result.becomeEligible} 人</b></li></ul>
<form method="post" action="/console/policy">${csrfField(actor)}
<input type="hidden" name="maxAgeDays" value="${f.maxAgeDays}"><input type="hidden" name="maxTotalYuan" value="${f.maxTotalYuan}">
<input type="hidden" name="maxCount" value="${f.maxCount}"><input type="hidden" name="note" value="${f.note}">
<button type="submit" id="save-policy">确认保存</button> <a class="button secondary" href="/console/policy">取消</a></form></div>`
      : '';
    const body = h`${saved ? h`<div class="card ok" role="status">已保存，各服务进程将在 10 秒内生效。</div>` : ''}
<div class="card"><h3>当前规则</h3><p id="current-policy">${describe(current)}</p></div>
${errors.form ? h`<div class="card bad" role="alert">${errors.form}</div>` : ''}
${
  canEdit
    ? h`<form method="post" action="/console/policy/preview" class="card" id="policy-form" novalidate>${csrfField(actor)}<h3>调整规则</h3><div class="row">
${field({ label: '最长欠费天数', name: 'maxAgeDays', value: f.maxAgeDays, error: errors.maxAgeDays, hint: '任一笔欠费超过该天数即不可用' })}
${field({ label: '欠费总额上限（元）', name: 'maxTotalYuan', value: f.maxTotalYuan, error: errors.maxTotalYuan })}
${field({ label: '欠费笔数上限', name: 'maxCount', value: f.maxCount, error: errors.maxCount })}</div>
${field({ label: '调整说明', name: 'note', value: f.note, error: errors.note })}
<p><button type="submit">预览影响</button></p></form>`
    : ''
}
${previewCard}
<h3>变更历史</h3><div class="tablewrap" tabindex="0" role="region" aria-label="表格，可左右滚动"><table class="data" id="policy-history"><thead><tr><th>时间</th><th>操作人</th><th>调整前</th><th>调整后</th><th>说明</th></tr></thead><tbody>
${history.map((r) => {
  const p = JSON.parse(r.policy) as EligibilityPolicy;
  const prev = r.previous ? (JSON.parse(r.previous) as EligibilityPolicy) : undefined;
  const brief = (x: EligibilityPolicy) => `${x.maxAgeDays} 天 / ${yuan(x.maxTotalFen)} / ${x.maxCount} 笔`;
  return h`<tr><td>${time(r.changed_at)}</td><td>${r.changed_by}</td><td>${prev ? brief(prev) : ''}</td><td>${brief(p)}</td><td class="wrap">${r.note ?? ''}</td></tr>`;
})}</tbody></table></div>`;
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
