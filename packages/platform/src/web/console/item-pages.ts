import { MED_TYPES } from '@mdl/protocol';
import { h, type Html } from '../html.js';
import { auditAction } from '../../domain/console/auth.js';
import { APPEAL_REASONS, APPEAL_STATUS_TEXT } from '../../domain/appeals.js';
import { changeItemStateByStaff, ItemStateError } from '../../domain/item-state.js';
import { ConsoleHttpError, actorOf, html, need, notFound, readerOf, type ConsoleContext } from './context.js';
import { consolePage, csrfField, num, STATE_TEXT, tag, time, yuan } from './layout.js';
import { Fields, FormBody, IdParams } from '../route-schemas.js';

/**
 * A record's own page, `/console/items/<id>`: every list that shows a record links here. Operators and
 * auditors see any record, staff only their institution's (another's is 404, as for batches). Staff
 * may mark an unpaid record 已缴清 or 撤销 here, after a confirmation, through domain/item-state.ts
 * (the ORG_MDL_003 state machine).
 */
const USER_TYPES: Record<string, string> = { '01': '患者本人', '02': '监护人' };

const DONE_TEXT: Record<string, string> = {
  settled: '已将该记录标记为已缴清，并已通知本机构系统。',
  revoked: '已撤销该记录，并已通知本机构系统。',
  same: '记录已是该状态，未作改动。',
};

function staffActions(csrf: Html, id: number, state: string): Html | '' {
  if (state !== '0') return '';
  return h`<div class="card" id="item-actions"><h3>处理该记录</h3>
<p class="muted">患者已在院内缴清，或记录有误需撤销时使用。操作会记入审计，并立即影响先诊后付资格查询（ORG_MDL_002）。</p>
<form method="post" action="/console/items/${id}/settle" class="inline" data-confirm="确认该患者已在院内缴清这笔欠费？标记后不能改回欠费。" data-confirm-ok="标记已缴清">${csrf}<button type="submit" id="settle">标记已缴清</button></form>
<form method="post" action="/console/items/${id}/revoke" class="inline" data-confirm="撤销这条欠费记录？撤销后不能恢复，患者将不再因这笔费用受限。" data-confirm-ok="撤销记录">${csrf}<button type="submit" class="secondary" id="revoke">撤销记录</button></form></div>`;
}

export async function itemPageRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const { db } = platform;

  app.get('/items/:id', { schema: { params: IdParams, querystring: Fields } }, async (req, reply) => {
    const actor = actorOf(req);
    const id = num(req.params.id);
    const d = id === undefined ? undefined : await readerOf(platform, req).item(id);
    if (!d) notFound('欠费记录');
    const i = d.item;
    await auditAction(db, actor, 'console.item.view', `item:${i.id}`, null, { orgId: i.orgId });
    const q = req.query;
    const done = typeof q.done === 'string' ? DONE_TEXT[q.done] : undefined;
    const med = MED_TYPES as Record<string, string>;
    const stateKind = i.state === '0' ? 'warn' : i.state === '1' ? 'ok' : '';
    const body = h`${done ? h`<div class="card ok" role="status" id="item-done">${done}</div>` : ''}
<div class="card"><dl class="kv" id="item">
<dt>患者</dt><dd>${i.name}${i.realName ? '' : h` <span class="tag">非实名</span>`}</dd><dt>证件号</dt><dd>${i.idNo || '—'}</dd>
<dt>金额</dt><dd id="item-amount">${yuan(i.amountFen)}</dd><dt>状态</dt><dd id="item-state">${tag(STATE_TEXT[i.state] ?? i.state, stateKind)}${i.settledAt ? h` 于 ${time(i.settledAt)}` : ''}</dd>
<dt>机构</dt><dd>${d.orgName}</dd><dt>项目</dt><dd>${i.itemName}</dd>
<dt>就诊类型</dt><dd>${med[i.medType] ?? i.medType}</dd><dt>发生时间</dt><dd>${time(i.actualTime)}</dd>
<dt>上报对象</dt><dd>${USER_TYPES[i.userType] ?? i.userType}</dd>
<dt>机构流水号</dt><dd>${i.orgTraceId}</dd><dt>平台跟踪号</dt><dd><code>${i.traceId}</code></dd>
<dt>首次上报</dt><dd>${time(i.createdAt)}</dd><dt>最后更新</dt><dd>${time(i.updatedAt)}</dd>
</dl></div>
${actor.role === 'staff' ? staffActions(csrfField(actor), i.id, i.state) : ''}
<h3>相关批次</h3>
<div class="tablewrap" tabindex="0" role="region" aria-label="表格，可左右滚动"><table class="data" id="item-batches"><thead><tr><th scope="col">批次</th><th scope="col">类型</th><th scope="col">请求批次号</th><th scope="col">接收时间</th></tr></thead><tbody>
${d.batches.map((b) => h`<tr><td><a href="/console/batches/${b.id}">${b.id}</a></td><td>${b.kind === 'REPORT' ? '上报' : '更新'}</td><td>${b.org_request_id}</td><td>${time(b.received_at)}</td></tr>`)}</tbody></table></div>
<h3>申诉</h3>
${
  d.appeals.length === 0
    ? h`<p class="muted" id="no-appeals">该记录没有申诉。</p>`
    : h`<ul id="item-appeals">${d.appeals.map(
        (a) =>
          h`<li><a href="/console/appeals/${a.id}">申诉 ${a.id}</a> · ${APPEAL_REASONS[a.reason as keyof typeof APPEAL_REASONS] ?? a.reason} · ${APPEAL_STATUS_TEXT[a.status as keyof typeof APPEAL_STATUS_TEXT] ?? a.status} · ${time(a.created_at)}</li>`,
      )}</ul>`
}
<p><a href="/console/items">返回欠费记录</a></p>`;
    return html(reply, consolePage(actor, { title: `欠费记录 · ${i.itemName}`, active: '/console/items', body }));
  });

  for (const [path, to] of [
    ['settle', '1'],
    ['revoke', '2'],
  ] as const) {
    app.post(`/items/:id/${path}`, { schema: { params: IdParams, body: FormBody } }, async (req, reply) => {
      // Only an institution's own staff change its records here; operators decide through appeals.
      const actor = need(req, 'staff');
      const id = num(req.params.id);
      if (id === undefined || !actor.orgId) notFound('欠费记录');
      try {
        const changed = await changeItemStateByStaff(db, platform.notices, {
          itemId: id,
          orgId: actor.orgId,
          to,
          actor: actor.username,
          requestId: req.id,
        });
        return reply.redirect(`/console/items/${id}?done=${changed ? (to === '1' ? 'settled' : 'revoked') : 'same'}`, 303);
      } catch (e) {
        if (e instanceof ItemStateError) throw new ConsoleHttpError(e.notFound ? 404 : 409, e.message);
        throw e;
      }
    });
  }
}
