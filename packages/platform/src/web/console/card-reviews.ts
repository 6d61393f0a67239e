import { h, raw, type Html } from '../html.js';
import type { Actor } from '../../domain/console/auth.js';
import { auditAction } from '../../domain/console/auth.js';
import { decideReview, listReviews, type ReviewDecision } from '../../domain/ehc/card-review.js';
import { html, need, type ConsoleContext } from './context.js';
import { consolePage, csrfField, str, tag, time } from './layout.js';
import { Fields, FormBody, IdParams } from '../route-schemas.js';
import { cells, postForm, scrollTable } from './components.js';

const STATUS_TEXT = { open: '待处理', rejected: '已驳回自助登记', restored: '已恢复手机号' } as const;
const DECISION_CONFIRM = '提交处理结果？提交后不能更改。';
const INTRO =
  '有人在电子健康卡页面自助领卡时填写的姓名，与医院经医保身份核验的姓名（ORG_EHC_004）不一致。' +
  '电子健康卡已改用核验过的姓名，自助登记的手机号已停用、不再提供给医院。请核实后处理。';

const HEADINGS = ['编号', '时间', '卡号', '证件号', '核验姓名', '自助登记姓名', '自助登记手机号', '核验来源', '状态', '处理'];

type Review = Awaited<ReturnType<typeof listReviews>>[number];

/** 待处理 (the default) or 全部. */
function whichFilter(which: 'open' | 'all'): Html {
  const option = (v: 'open' | 'all', text: string) => h`<option value="${v}"${raw(which === v ? ' selected' : '')}>${text}</option>`;
  const select = h`<select name="status">${option('open', '待处理')}${option('all', '全部')}</select>`;
  return h`<form class="filters" method="get"><label>状态 ${select}</label><button type="submit">筛选</button></form>`;
}

/** An operator's decision on one review, asked for confirmation first (console.js). */
function decisionForm(actor: Actor, id: number): Html {
  const decision = h`<select name="decision" aria-label="处理结果"><option value="rejected">驳回自助登记（冒用或无效）</option>
<option value="restored">恢复其手机号（已核实为本人）</option></select>`;
  const form = {
    action: `/console/card-reviews/${id}`,
    csrf: csrfField(actor),
    className: 'inline',
    confirm: { text: DECISION_CONFIRM, ok: '提交' },
  };
  return postForm(
    form,
    h`${decision}
<input name="note" maxlength="200" placeholder="备注（核实方式）" aria-label="备注"><button type="submit" class="small">提交</button>`,
  );
}

function reviewRow(r: Review, decide: (id: number) => Html | ''): Html {
  const decided = r.decidedBy ? h`<br><span class="muted">${r.decidedBy} ${r.decidedAt ? time(r.decidedAt) : ''}</span>` : '';
  const status = h`${tag(STATUS_TEXT[r.status], r.status === 'open' ? 'warn' : 'ok')}${decided}`;
  const person = cells(r.idNoMasked, r.verifiedName, r.selfName, r.selfPhoneMasked, h`<code>${r.verifiedBy}</code>`);
  return h`<tr>${cells(r.id, time(r.createdAt), r.cardNo)}${person}
${cells(status, r.status === 'open' ? decide(r.id) : '')}</tr>`;
}

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
    const decide = (id: number) => (actor.role === 'operator' ? decisionForm(actor, id) : '');
    const body = h`<p class="muted">${INTRO}</p>
${whichFilter(which)}
${scrollTable(
  'card-reviews',
  HEADINGS,
  rows.map((r) => reviewRow(r, decide)),
)}${rows.length === 0 ? h`<p class="muted">没有需要处理的记录。</p>` : ''}`;
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
