import { MED_TYPES } from '@mdl/protocol';
import type { FastifyReply } from 'fastify';
import { h, type Html } from '../html.js';
import { auditAction } from '../../domain/console/auth.js';
import { csvField } from '../../domain/console/audit-search.js';
import { APPEAL_REASONS, APPEAL_STATUS_TEXT } from '../../domain/appeals.js';
import { actorOf, readerOf, type ConsoleContext } from './context.js';
import { CALLBACK_TEXT, STATE_TEXT, str, time, yuan } from './layout.js';
import { Fields } from '../route-schemas.js';

/**
 * CSV exports of the console lists, with the list's own filter and scope (staff: their institution only):
 * Chinese headers, China time and amounts as on the pages (¥1,305.50), a BOM so Excel reads UTF-8.
 * Names and ID numbers stay masked as on the page; every export is audited.
 */
export const EXPORT_MAX = 10_000;

function sendCsv(reply: FastifyReply, name: string, header: string[], rows: unknown[][], now: number): FastifyReply {
  const lines = ['\ufeff' + header.map(csvField).join(','), ...rows.map((r) => r.map(csvField).join(','))];
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${name}-${time(new Date(now)).slice(0, 10)}.csv"`)
    .send(lines.join('\r\n') + '\r\n');
}

export async function exportRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const { db } = platform;

  app.get('/items.csv', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = actorOf(req);
    const q = req.query;
    const f = { orgId: str(q.orgId).trim() || undefined, state: str(q.state) || undefined, traceId: str(q.traceId).trim() || undefined };
    const items = (await readerOf(platform, req).items({ ...f, limit: EXPORT_MAX })).slice(0, EXPORT_MAX);
    await auditAction(db, actor, 'console.items.export', null, { filter: f, rows: items.length });
    const names = await readerOf(platform, req).institutionNames();
    const med = MED_TYPES as Record<string, string>;
    return sendCsv(
      reply,
      'items',
      [
        '患者',
        '金额',
        '状态',
        '项目',
        '机构',
        '机构编码',
        '发生时间（北京时间）',
        '就诊类型',
        '证件号',
        '机构流水号',
        '平台跟踪号',
        '批次',
      ],
      items.map((i) => [
        i.name,
        yuan(i.amountFen),
        STATE_TEXT[i.state] ?? i.state,
        i.itemName,
        names.get(i.orgId) ?? i.orgId,
        i.orgId,
        time(i.actualTime),
        med[i.medType] ?? i.medType,
        i.idNo,
        i.orgTraceId,
        i.traceId,
        i.lastBatchId,
      ]),
      platform.now(),
    );
  });

  app.get('/batches.csv', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = actorOf(req);
    const q = req.query;
    const f = { orgId: str(q.orgId).trim() || undefined, callbackStatus: str(q.callbackStatus) || undefined };
    const rows = (await readerOf(platform, req).batches({ ...f, limit: EXPORT_MAX })).slice(0, EXPORT_MAX);
    await auditAction(db, actor, 'console.batches.export', null, { filter: f, rows: rows.length });
    return sendCsv(
      reply,
      'batches',
      ['编号', '机构', '机构编码', '请求批次号', '类型', '条数', '处理', '成功', '失败', '回调', '回调次数', '接收时间（北京时间）'],
      rows.map((b) => [
        b.id,
        b.org_name ?? b.org_id,
        b.org_id,
        b.org_request_id,
        b.kind === 'REPORT' ? '上报' : '更新',
        b.item_count,
        b.status === 'done' ? '已处理' : '处理中',
        b.accepted_count,
        b.rejected_count,
        CALLBACK_TEXT[b.callback_status] ?? b.callback_status,
        b.callback_attempts,
        time(b.received_at),
      ]),
      platform.now(),
    );
  });

  app.get('/appeals.csv', { schema: { querystring: Fields } }, async (req, reply) => {
    const actor = actorOf(req);
    const status = str(req.query.status) || 'pending';
    const rows = await readerOf(platform, req).appeals(status);
    await auditAction(db, actor, 'console.appeals.export', null, { status, rows: rows.length });
    return sendCsv(
      reply,
      'appeals',
      ['编号', '提交时间（北京时间）', '机构', '机构编码', '项目', '平台跟踪号', '金额', '原因', '说明', '状态', '裁决时间（北京时间）'],
      rows.map((a) => [
        a.id,
        time(a.created_at),
        a.org_name ?? a.org_id,
        a.org_id,
        a.item_name,
        a.trace_id,
        yuan(a.amount_fen),
        APPEAL_REASONS[a.reason],
        a.description,
        APPEAL_STATUS_TEXT[a.status],
        time(a.decided_at),
      ]),
      platform.now(),
    );
  });
}

/** A list's query string again, for the export link beside it (page number left out: the file has every row). */
export function exportHref(path: string, query: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** The line above a list: totals over everything the filter matches, and the export of the same rows. */
export function listTotals(text: Html, href: string): Html {
  const download = h`<a class="button secondary small" href="${href}" id="export-csv" download>导出 CSV</a>`;
  return h`<p class="totals" id="list-totals"><span>${text}</span> ${download}</p>`;
}
