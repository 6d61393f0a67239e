import { MED_TYPES } from '@mdl/protocol';
import { h, type Html } from '../html.js';
import type { ItemView } from '../../domain/console/batches.js';
import { readableDetail } from './readable.js';
import { CALLBACK_TEXT, STATE_TEXT, tag, time, yuan } from './layout.js';
import { cells, scrollTable } from './components.js';

/** Tables the batch, callback and record lists share: records, and callback attempts. */
export const cbTag = (s: string) => tag(CALLBACK_TEXT[s] ?? s, s === 'delivered' ? 'ok' : s === 'failed' ? 'bad' : 'warn');
export const stateTag = (s: string) => tag(STATE_TEXT[s] ?? s, s === '0' ? 'warn' : s === '1' ? 'ok' : '');

const ITEM_HEADINGS = ['患者', '金额', '状态', '项目', '机构', '发生时间', '就诊类型', '证件号', '机构流水号', '平台跟踪号', '批次'];
const ATTEMPT_HEADINGS = ['批次', '机构', '第几次', '时间', '耗时', 'HTTP', '结果', '响应 / 原因'];
const OUTCOME_TEXT: Record<string, string> = { delivered: '成功', refused: '医院拒绝', error: '出错' };

function itemRow(i: ItemView, names: Map<string, string>): Html {
  const med = MED_TYPES as Record<string, string>;
  const person = h`${i.name}${i.realName ? '' : h` <span class="tag">非实名</span>`}`;
  const item = h`<a href="/console/items/${i.id}">${i.itemName}</a>`;
  const batch = h`<a href="/console/batches/${i.lastBatchId}">${i.lastBatchId}</a>`;
  return h`<tr>${cells(person, yuan(i.amountFen), stateTag(i.state), item, names.get(i.orgId) ?? i.orgId)}
${cells(time(i.actualTime), med[i.medType] ?? i.medType, i.idNo, i.orgTraceId, h`<code>${i.traceId}</code>`, batch)}</tr>`;
}

/** Key columns first (患者, 金额, 状态), so they stay in view on a tablet; identifiers after them. */
export function itemsTable(items: ItemView[], names: Map<string, string> = new Map()): Html {
  return scrollTable(
    'items',
    ITEM_HEADINGS,
    items.map((i) => itemRow(i, names)),
    { scoped: true },
  );
}

export interface Attempt {
  batch_id: number;
  attempt: number;
  url: string;
  started_at: Date;
  duration_ms: number;
  http_status: number | null;
  outcome: string;
  detail: string | null;
  org_id: string;
  org_request_id: string;
}

function attemptRow(a: Attempt, names: Map<string, string>): Html {
  const batch = h`<a href="/console/batches/${a.batch_id}">${a.batch_id}</a>`;
  const outcome = tag(OUTCOME_TEXT[a.outcome] ?? a.outcome, a.outcome === 'delivered' ? 'ok' : 'bad');
  return h`<tr>${cells(batch, names.get(a.org_id) ?? a.org_id, a.attempt, time(a.started_at), `${a.duration_ms} ms`)}
${cells(a.http_status ?? '-', outcome, { wrap: readableDetail(a.detail) })}</tr>`;
}

/** Callback attempts, the hospital's answer in plain Chinese (readable.ts). */
export function attemptsTable(rows: Attempt[], names: Map<string, string>): Html {
  if (rows.length === 0) return h`<p class="muted">暂无回调记录。</p>`;
  return scrollTable(
    'attempts',
    ATTEMPT_HEADINGS,
    rows.map((a) => attemptRow(a, names)),
  );
}
