import { MED_TYPES } from '@mdl/protocol';
import { h, type Html } from '../html.js';
import { auditAction, type Actor } from '../../domain/console/auth.js';
import type { ItemDetail } from '../../domain/console/item-detail.js';
import { APPEAL_REASONS, APPEAL_STATUS_TEXT } from '../../domain/appeals.js';
import { changeItemStateByStaff, ItemStateError } from '../../domain/item-state.js';
import { ConsoleHttpError, actorOf, html, need, notFound, readerOf, type ConsoleContext } from './context.js';
import { consolePage, csrfField, notice, num, STATE_TEXT, tag, time, yuan } from './layout.js';
import { Fields, FormBody, IdParams } from '../route-schemas.js';
import { card, cells, definitionList, postForm, scrollTable } from './components.js';

/**
 * A record's own page, `/console/items/<id>`: every list that shows a record links here. Operators and
 * auditors see any record, staff only their institution's (another's is 404, as for batches). Staff
 * may mark an unpaid record 已缴清 or 撤销 here, after a confirmation, through domain/item-state.ts
 * (the ORG_MDL_003 state machine).
 */
const USER_TYPES: Record<string, string> = { '01': '患者本人', '02': '监护人' };

const SETTLE_CONFIRM = '确认该患者已在院内缴清这笔欠费？标记后不能改回欠费。';
const REVOKE_CONFIRM = '撤销这条欠费记录？撤销后不能恢复，患者将不再因这笔费用受限。';
const BATCH_HEADINGS = ['批次', '类型', '请求批次号', '接收时间'];

type Item = ItemDetail['item'];

const DONE_TEXT: Record<string, string> = {
  settled: '已将该记录标记为已缴清，并已通知本机构系统。',
  revoked: '已撤销该记录，并已通知本机构系统。',
  same: '记录已是该状态，未作改动。',
};

/** Settle or revoke, each asked first: neither can be undone. */
function staffActions(csrf: Html, id: number, state: string): Html | '' {
  if (state !== '0') return '';
  const settle = postForm(
    { action: `/console/items/${id}/settle`, csrf, className: 'inline', confirm: { text: SETTLE_CONFIRM, ok: '标记已缴清' } },
    h`<button type="submit" id="settle">标记已缴清</button>`,
  );
  const revoke = postForm(
    { action: `/console/items/${id}/revoke`, csrf, className: 'inline', confirm: { text: REVOKE_CONFIRM, ok: '撤销记录' } },
    h`<button type="submit" class="secondary" id="revoke">撤销记录</button>`,
  );
  return card(
    '处理该记录',
    h`
<p class="muted">患者已在院内缴清，或记录有误需撤销时使用。操作会记入审计，并立即影响先诊后付资格查询（ORG_MDL_002）。</p>
${settle}
${revoke}`,
    'item-actions',
  );
}

function stateText(i: Item): Html {
  const kind = i.state === '0' ? 'warn' : i.state === '1' ? 'ok' : '';
  return h`${tag(STATE_TEXT[i.state] ?? i.state, kind)}${i.settledAt ? h` 于 ${time(i.settledAt)}` : ''}`;
}

/** The record itself: who, how much, its state, where it came from. */
function itemFacts(i: Item, orgName: string): Html {
  const med = MED_TYPES as Record<string, string>;
  return definitionList(
    [
      ['患者', h`${i.name}${i.realName ? '' : h` <span class="tag">非实名</span>`}`],
      ['证件号', i.idNo || '—'],
      ['金额', yuan(i.amountFen), 'item-amount'],
      ['状态', stateText(i), 'item-state'],
      ['机构', orgName],
      ['项目', i.itemName],
      ['就诊类型', med[i.medType] ?? i.medType],
      ['发生时间', time(i.actualTime)],
      ['上报对象', USER_TYPES[i.userType] ?? i.userType],
      ['机构流水号', i.orgTraceId],
      ['平台跟踪号', h`<code>${i.traceId}</code>`],
      ['首次上报', time(i.createdAt)],
      ['最后更新', time(i.updatedAt)],
    ],
    'item',
  );
}

function batchRow(b: ItemDetail['batches'][number]): Html {
  const link = h`<a href="/console/batches/${b.id}">${b.id}</a>`;
  return h`<tr>${cells(link, b.kind === 'REPORT' ? '上报' : '更新', b.org_request_id, time(b.received_at))}</tr>`;
}

function appealList(appeals: ItemDetail['appeals']): Html {
  if (appeals.length === 0) return h`<p class="muted" id="no-appeals">该记录没有申诉。</p>`;
  const reason = (r: string) => APPEAL_REASONS[r as keyof typeof APPEAL_REASONS] ?? r;
  const status = (s: string) => APPEAL_STATUS_TEXT[s as keyof typeof APPEAL_STATUS_TEXT] ?? s;
  const line = (a: ItemDetail['appeals'][number]) =>
    h`<li><a href="/console/appeals/${a.id}">申诉 ${a.id}</a> · ${reason(a.reason)} · ${status(a.status)} · ${time(a.created_at)}</li>`;
  return h`<ul id="item-appeals">${appeals.map(line)}</ul>`;
}

function itemBody(actor: Actor, d: ItemDetail, done: string | undefined): Html {
  const i = d.item;
  return h`${notice(done, 'ok', 'item-done')}
${card('', itemFacts(i, d.orgName))}
${actor.role === 'staff' ? staffActions(csrfField(actor), i.id, i.state) : ''}
<h3>相关批次</h3>
${scrollTable('item-batches', BATCH_HEADINGS, d.batches.map(batchRow), { scoped: true })}
<h3>申诉</h3>
${appealList(d.appeals)}
<p><a href="/console/items">返回欠费记录</a></p>`;
}

export async function itemPageRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const { db } = platform;

  app.get('/items/:id', { schema: { params: IdParams, querystring: Fields } }, async (req, reply) => {
    const actor = actorOf(req);
    const id = num(req.params.id);
    const d = id === undefined ? undefined : await readerOf(platform, req).item(id);
    if (!d) notFound('欠费记录');
    await auditAction(db, actor, 'console.item.view', `item:${d.item.id}`, null, { orgId: d.item.orgId });
    const done = typeof req.query.done === 'string' ? DONE_TEXT[req.query.done] : undefined;
    const body = itemBody(actor, d, done);
    return html(reply, consolePage(actor, { title: `欠费记录 · ${d.item.itemName}`, active: '/console/items', body }));
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
