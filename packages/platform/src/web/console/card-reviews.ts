import { h } from '../html.js';
import { auditAction } from '../../domain/console/auth.js';
import { decideReview, listReviews, type ReviewDecision } from '../../domain/ehc/card-review.js';
import { html, need, type ConsoleContext } from './context.js';
import { consolePage, csrfField, str, tag, time } from './layout.js';
import { Fields, FormBody, IdParams } from '../route-schemas.js';

const STATUS_TEXT = { open: '待处理', rejected: '已驳回自助登记', restored: '已恢复手机号' } as const;
const DECISION_CONFIRM = '提交处理结果？提交后不能更改。';

/**
 * 自助领卡复核: self-registrations at /card that an institution's verified identity (ORG_EHC_004)
 * contradicted. The card already carries the verified name and no longer the self-registered phone; the
 * operator decides whether that phone was the holder's after all (domain/ehc/card-review.ts).
 */
export async function cardReviewRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const { db, vault } = platform;

  app.get('/card-reviews', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = need(req, 'operator', 'auditor');
    const which = str(req.query.status) === 'all' ? 'all' : 'open';
    const rows = await listReviews(db, vault, which);
    await auditAction(db, actor, 'console.card_review.list', which, null, { requestId: req.id });
    const decide = (id: number) =>
      actor.role === 'operator'
        ? h`<form method="post" action="/console/card-reviews/${id}" class="inline" data-confirm="${DECISION_CONFIRM}" data-confirm-ok="提交">${csrfField(actor)}
<select name="decision" aria-label="处理结果"><option value="rejected">驳回自助登记（冒用或无效）</option><option value="restored">恢复其手机号（已核实为本人）</option></select>
<input name="note" maxlength="200" placeholder="备注（核实方式）" aria-label="备注"><button type="submit" class="small">提交</button></form>`
        : '';
    const body = h`<p class="muted">有人在电子健康卡页面自助领卡时填写的姓名，与医院经医保身份核验的姓名（ORG_EHC_004）不一致。电子健康卡已改用核验过的姓名，自助登记的手机号已停用、不再提供给医院。请核实后处理。</p>
<form class="filters" method="get"><label>状态 <select name="status"><option value="open"${which === 'open' ? ' selected' : ''}>待处理</option><option value="all"${which === 'all' ? ' selected' : ''}>全部</option></select></label><button type="submit">筛选</button></form>
<div class="tablewrap" tabindex="0" role="region" aria-label="表格，可左右滚动"><table class="data" id="card-reviews"><thead><tr><th>编号</th><th>时间</th><th>卡号</th><th>证件号</th><th>核验姓名</th><th>自助登记姓名</th><th>自助登记手机号</th><th>核验来源</th><th>状态</th><th>处理</th></tr></thead><tbody>
${rows.map(
  (
    r,
  ) => h`<tr><td>${r.id}</td><td>${time(r.createdAt)}</td><td>${r.cardNo}</td><td>${r.idNoMasked}</td><td>${r.verifiedName}</td><td>${r.selfName}</td><td>${r.selfPhoneMasked}</td><td><code>${r.verifiedBy}</code></td>
<td>${tag(STATUS_TEXT[r.status], r.status === 'open' ? 'warn' : 'ok')}${r.decidedBy ? h`<br><span class="muted">${r.decidedBy} ${r.decidedAt ? time(r.decidedAt) : ''}</span>` : ''}</td><td>${r.status === 'open' ? decide(r.id) : ''}</td></tr>`,
)}</tbody></table></div>${rows.length === 0 ? h`<p class="muted">没有需要处理的记录。</p>` : ''}`;
    return html(reply, consolePage(actor, { title: '自助领卡复核', active: '/console/card-reviews', body }));
  });

  app.post('/card-reviews/:id', { schema: { params: IdParams, body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const id = Number(req.params.id);
    const b = req.body ?? {};
    const decision = str(b.decision) as ReviewDecision;
    if (!Number.isSafeInteger(id) || (decision !== 'rejected' && decision !== 'restored')) {
      return html(
        reply,
        consolePage(actor, { title: '自助领卡复核', active: '/console/card-reviews', body: h`<p class="form-alert">请选择处理结果。</p>` }),
        400,
      );
    }
    await decideReview(db, { id, decision, operator: actor.username, note: str(b.note), requestId: req.id });
    return reply.redirect('/console/card-reviews', 303);
  });
}
