import { h, type Html } from '../html.js';
import type { Actor } from '../../domain/console/auth.js';
import type { ConsoleReader } from '../../domain/console/reader.js';
import { card, cells, definitionList, postForm, scrollTable } from './components.js';
import { attemptsTable, cbTag, itemsTable } from './batch-tables.js';
import { csrfField, STATE_TEXT, tag, time } from './layout.js';

/** A batch's own page: what arrived, what processing made of each person, its records and its callbacks. */
export type BatchDetail = NonNullable<Awaited<ReturnType<ConsoleReader['batch']>>>;
type Batch = BatchDetail['batch'];
type ResultPerson = NonNullable<BatchDetail['result']>['persons'][number];

const RESULT_HEADINGS = ['患者', '证件号', '结果', '项目（机构流水号 → 平台跟踪号 · 状态）'];

function batchFacts(b: Batch): Html {
  const processed =
    b.status === 'done' ? h`已处理 ${time(b.processed_at)}，成功 ${b.accepted_count} 条，失败 ${b.rejected_count} 条` : '处理中';
  const delivered = b.delivered_at ? h`，送达于 ${time(b.delivered_at)}` : '';
  return definitionList([
    ['机构', `${b.org_name ?? ''}（${b.org_id}）`],
    ['请求批次号', b.org_request_id],
    ['类型', b.kind === 'REPORT' ? '上报（ORG_MDL_001）' : '更新（ORG_MDL_003）'],
    ['appId', h`<code>${b.app_id}</code>`],
    ['条数', b.item_count],
    ['接收时间', time(b.received_at)],
    ['处理', processed],
    ['回调地址', b.notify_url],
    ['回调状态', h`${cbTag(b.callback_status)} 共 ${b.callback_attempts} 次${delivered}`, 'callback-status'],
  ]);
}

/** 重新回调, for operators once the batch is processed; asked first. */
function resendForm(actor: Actor, b: Batch): Html | '' {
  if (actor.role !== 'operator' || b.status !== 'done') return '';
  const confirm = { text: `重新向机构回调批次 ${b.id} 的处理结果？`, ok: '重新回调' };
  return postForm(
    { action: `/console/batches/${b.id}/resend`, csrf: csrfField(actor), confirm },
    h`<button type="submit" id="resend">重新回调</button>`,
  );
}

function resultRow(p: ResultPerson): Html {
  const ext = (p.extData ?? {}) as Record<string, unknown>;
  const outcome = ext.result === 'fail' ? h`${tag('失败', 'bad')} ${String(ext.msg ?? '')}` : tag('成功', 'ok');
  const items = (p.itemList ?? []).map(
    (i) => h`<div>${i.orgTraceId} → ${i.traceId || '—'} · ${STATE_TEXT[i.state ?? ''] ?? i.state ?? ''}</div>`,
  );
  return h`<tr>${cells(p.userName, p.idNo, outcome, { wrap: h`${items}` })}</tr>`;
}

function resultTable(result: BatchDetail['result']): Html {
  if (!result) return h`<p class="muted">尚未处理。</p>`;
  return scrollTable('result', RESULT_HEADINGS, result.persons.map(resultRow));
}

export function batchBody(actor: Actor, d: BatchDetail, names: Map<string, string>): Html {
  const b = d.batch;
  const attempts = d.attempts.map((a) => ({ ...a, org_id: b.org_id, org_request_id: b.org_request_id }));
  return h`${card('', h`${batchFacts(b)}${resendForm(actor, b)}`)}
<h3>处理结果</h3>
${resultTable(d.result)}
<h3>涉及的欠费记录</h3>${itemsTable(d.items, names)}
<h3>回调记录</h3>${attemptsTable(attempts, names)}`;
}
