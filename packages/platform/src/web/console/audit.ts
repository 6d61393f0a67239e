import type { FastifyReply, FastifyRequest } from 'fastify';
import { ID_TYPES } from '@mdl/protocol';
import { h, raw, type Html } from '../html.js';
import { auditAction, type Actor } from '../../domain/console/auth.js';
import { csvField, describeFilter, parseAuditQuery, searchAudit, type AuditQuery } from '../../domain/console/audit-search.js';
import { type ConsoleContext, html, need, readerOf } from './context.js';
import { consolePage, csrfField, field, num, str, tag, time, type FieldOpts } from './layout.js';
import { postForm } from './components.js';
import { Fields, FormBody } from '../route-schemas.js';
import { ACTOR_TEXT, actionText, actorText, chinaTime, detailText, outcomeText } from './audit-text.js';

const PAGE = 200;
const EXPORT_MAX = 50_000;

function queryOf(q: Record<string, unknown>): AuditQuery {
  return {
    idType: str(q.idType),
    idNo: str(q.idNo),
    orgId: str(q.orgId),
    actor: str(q.actor),
    action: str(q.action),
    from: str(q.from),
    to: str(q.to),
  };
}

/** Columns people may show or hide; the ones an investigator rarely needs start hidden so the table fits. */
interface Column {
  key: string;
  label: string;
  shown: boolean;
}

const COLUMNS: Column[] = [
  { key: 'id', label: '编号', shown: false },
  { key: 'at', label: '时间', shown: true },
  { key: 'action', label: '操作', shown: true },
  { key: 'code', label: '操作代码', shown: false },
  { key: 'actor', label: '操作人', shown: true },
  { key: 'org', label: '机构', shown: true },
  { key: 'subject', label: '对象', shown: false },
  { key: 'target', label: '目标', shown: false },
  { key: 'outcome', label: '结果', shown: true },
  { key: 'resp', label: '应答码', shown: false },
  { key: 'detail', label: '详情', shown: true },
];

type AuditRow = Awaited<ReturnType<typeof searchAudit>>[number];

function auditRow(e: AuditRow, names: Map<string, string>): Html {
  const cell = (key: string, v: Html | string, cls = '') => h`<td class="c-${key}${cls}">${v}</td>`;
  return h`<tr>${cell('id', String(e.id))}${cell('at', time(e.at))}${cell('action', actionText(e.action))}${cell('code', e.action)}
${cell('actor', actorText(e.actor_type, e.actor_id))}${cell('org', e.org_id ? (names.get(e.org_id) ?? e.org_id) : '')}
${cell('subject', e.subject_bidx ? `${e.subject_bidx.slice(0, 10)}…` : '')}${cell('target', e.target ?? '')}
${cell('outcome', tag(outcomeText(e.outcome), e.outcome === 'ok' ? 'ok' : 'bad'))}${cell('resp', e.resp_code ?? '')}
${cell('detail', detailText(e.detail).slice(0, 240), ' wrap')}</tr>`;
}

function auditTable(rows: AuditRow[], names: Map<string, string>): Html {
  const hidden = COLUMNS.filter((c) => !c.shown).map((c) => `hide-${c.key}`);
  const toggle = (c: Column) => {
    const box = h`<input type="checkbox" data-col="${c.key}" data-table="audit"${raw(c.shown ? ' checked' : '')}>`;
    return h`<label>${box} ${c.label}</label>`;
  };
  const headings = COLUMNS.map((c) => h`<th class="c-${c.key}" scope="col">${c.label}</th>`);
  return h`<fieldset class="columns" id="audit-columns"><legend>显示的列</legend>${COLUMNS.map(toggle)}</fieldset>
<div class="tablewrap sticky" tabindex="0" role="region" aria-label="审计记录，可滚动">
<table class="data audit ${hidden.join(' ')}" id="audit"><thead><tr>${headings}</tr></thead>
<tbody>${rows.map((e) => auditRow(e, names))}</tbody></table></div>
${rows.length === 0 ? h`<p class="muted" id="audit-empty">没有符合条件的记录。</p>` : ''}`;
}

const ACTION_HINT = '操作代码前缀，如 arrears.query（资格查询）、appeal（申诉）、console.login（登录）';

/** The search: who (ID number, institution, actor), what (action prefix) and when; then export and older pages. */
function searchForm(actor: Actor, q: AuditQuery, errors: Record<string, string>, o: { canExport: boolean; older?: number }): Html {
  const input = (name: keyof AuditQuery, label: string, more: Partial<FieldOpts> = {}) =>
    field({ label, name, value: q[name], error: errors[name], ...more });
  const idTypes = Object.entries(ID_TYPES) as [string, string][];
  const exportButton = h`<button type="submit" class="secondary" id="export-csv" formaction="/console/audit.csv">导出 CSV</button>`;
  const olderButton = h`<button type="submit" class="secondary" name="before" value="${o.older}" id="older">更早的记录</button>`;
  const form = { action: '/console/audit', csrf: csrfField(actor), className: 'card', id: 'audit-form', novalidate: true };
  return postForm(
    form,
    h`
<div class="row">
${input('idType', '证件类型', { value: q.idType || '01', options: idTypes })}
${input('idNo', '证件号码（按盲索引匹配，不保存）', { attrs: 'autocomplete="off"' })}
${input('orgId', '机构编码')}
</div><div class="row">
${field({ label: '操作人 / appId', name: 'actor', value: q.actor })}
${input('action', '操作类型（前缀）', { hint: ACTION_HINT })}
${input('from', '开始日期', { type: 'date' })}
${input('to', '结束日期', { type: 'date' })}
</div><input type="hidden" name="all" value="1">
<p><button type="submit">查询</button> ${o.canExport ? exportButton : ''}
${o.older !== undefined ? olderButton : ''}</p>
<p class="muted">查询与导出审计记录本身也会记入审计。</p>`,
  );
}

/** The export: Chinese headers and China time, as on the page; codes kept beside the words for whoever filters the file. */
function auditCsv(rows: AuditRow[], names: Map<string, string>): string {
  const header = [
    '编号',
    '时间（北京时间）',
    '操作',
    '操作代码',
    '操作人类型',
    '操作人',
    '机构',
    '对象（盲索引）',
    '目标',
    '结果',
    '应答码',
    '请求编号',
    '详情',
  ];
  const line = (r: AuditRow) =>
    [
      r.id,
      chinaTime(r.at),
      actionText(r.action),
      r.action,
      ACTOR_TEXT[r.actor_type] ?? r.actor_type,
      r.actor_id,
      r.org_id ? `${names.get(r.org_id) ?? ''}（${r.org_id}）` : '',
      r.subject_bidx,
      r.target,
      outcomeText(r.outcome),
      r.resp_code,
      r.request_id,
      detailText(r.detail),
    ]
      .map(csvField)
      .join(',');
  // A BOM so that Excel opens the Chinese text as UTF-8.
  const lines = ['\ufeff' + header.join(','), ...rows.map(line)];
  return lines.join('\r\n') + '\r\n';
}

export async function auditRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const { db, vault } = platform;

  // Searches are POSTed: an ID number in a query string would stay in browser history and proxy logs.
  const search = async (req: FastifyRequest, reply: FastifyReply, raw: Fields) => {
    const actor = need(req, 'operator', 'auditor');
    const q = queryOf(raw);
    const searched = Object.values(q).some((v) => v.trim() !== '') || raw.all === '1';
    const { filter, errors } = parseAuditQuery(vault, q);
    const ok = Object.keys(errors).length === 0;
    const before = num(raw.before);
    const rows = ok && searched ? await readerOf(platform, req).auditTrail(filter, PAGE + 1, before) : [];
    if (ok && searched) {
      await auditAction(
        db,
        actor,
        'audit.read',
        null,
        { ...describeFilter(filter), rows: Math.min(rows.length, PAGE) },
        {
          subject: filter.subject?.[0] ?? null,
          orgId: filter.orgId ?? null,
        },
      );
    }
    const names = await readerOf(platform, req).institutionNames();
    const older = rows.length > PAGE ? rows[PAGE - 1]!.id : undefined;
    const body = h`${searchForm(actor, q, errors, { canExport: ok && searched, older })}
${searched && ok ? auditTable(rows.slice(0, PAGE), names) : ''}`;
    return html(reply, consolePage(actor, { title: '审计', active: '/console/audit', body }), ok ? 200 : 400);
  };
  app.get('/audit', { schema: { querystring: Fields } }, (req, reply) => search(req, reply, req.query));
  app.post('/audit', { schema: { body: FormBody } }, (req, reply) => search(req, reply, req.body ?? {}));

  app.post('/audit.csv', { schema: { body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator', 'auditor');
    const { filter, errors } = parseAuditQuery(vault, queryOf(req.body ?? {}));
    if (Object.keys(errors).length) return reply.code(400).type('text/plain; charset=utf-8').send(Object.values(errors).join('\n'));
    const rows = await readerOf(platform, req).auditTrail(filter, EXPORT_MAX);
    await auditAction(
      db,
      actor,
      'audit.export',
      null,
      { ...describeFilter(filter), rows: rows.length },
      {
        subject: filter.subject?.[0] ?? null,
        orgId: filter.orgId ?? null,
      },
    );
    const csv = auditCsv(rows, await readerOf(platform, req).institutionNames());
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="audit-${new Date(platform.now()).toISOString().slice(0, 10)}.csv"`)
      .send(csv);
  });
}
