import type { FastifyReply, FastifyRequest } from 'fastify';
import { ID_TYPES } from '@mdl/protocol';
import { h } from '../html.js';
import { auditAction } from '../../console/auth.js';
import { csvField, describeFilter, parseAuditQuery, searchAudit, type AuditQuery } from '../../console/audit-search.js';
import { html, need, type ConsoleContext } from './plugin.js';
import { consolePage, csrfField, field, num, str, tag, time } from './layout.js';

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

export async function auditRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const { db, vault } = platform;

  // Searches are POSTed: an ID number in a query string would stay in browser history and proxy logs.
  const search = async (req: FastifyRequest, reply: FastifyReply) => {
    const actor = need(req, 'operator', 'auditor');
    const raw = (req.method === 'POST' ? req.body : req.query) as Record<string, unknown>;
    const q = queryOf(raw);
    const searched = Object.values(q).some((v) => v.trim() !== '') || raw.all === '1';
    const { filter, errors } = parseAuditQuery(vault, q);
    const ok = Object.keys(errors).length === 0;
    const before = num(raw.before);
    const rows = ok && searched ? await searchAudit(db, filter, PAGE + 1, before) : [];
    if (ok && searched) {
      await auditAction(
        db,
        actor,
        'audit.read',
        null,
        { ...describeFilter(filter), rows: Math.min(rows.length, PAGE) },
        {
          subject: filter.subject ?? null,
          orgId: filter.orgId ?? null,
        },
      );
    }
    const body = h`<form method="post" action="/console/audit" class="card" id="audit-form" novalidate>${csrfField(actor)}
<div class="row">
${field({ label: '证件类型', name: 'idType', value: q.idType || '01', error: errors.idType, options: Object.entries(ID_TYPES) as [string, string][] })}
${field({ label: '证件号码（按盲索引匹配，不保存）', name: 'idNo', value: q.idNo, error: errors.idNo, attrs: 'autocomplete="off"' })}
${field({ label: '机构编码', name: 'orgId', value: q.orgId, error: errors.orgId })}
</div><div class="row">
${field({ label: '操作人 / appId', name: 'actor', value: q.actor })}
${field({ label: '操作类型（前缀）', name: 'action', value: q.action, error: errors.action, hint: '如 arrears.query、appeal、console.login' })}
${field({ label: '开始日期', name: 'from', type: 'date', value: q.from, error: errors.from })}
${field({ label: '结束日期', name: 'to', type: 'date', value: q.to, error: errors.to })}
</div><input type="hidden" name="all" value="1">
<p><button type="submit">查询</button> ${ok && searched ? h`<button type="submit" class="secondary" id="export-csv" formaction="/console/audit.csv">导出 CSV</button>` : ''}
${rows.length > PAGE ? h`<button type="submit" class="secondary" name="before" value="${rows[PAGE - 1]!.id}" id="older">更早的记录</button>` : ''}</p>
<p class="muted">查询与导出审计记录本身也会记入审计。</p></form>
${
  searched && ok
    ? h`<div class="tablewrap" tabindex="0" role="region" aria-label="表格，可左右滚动"><table class="data" id="audit"><thead><tr><th>编号</th><th>时间</th><th>操作人</th><th>机构</th><th>对象</th><th>操作</th><th>目标</th><th>结果</th><th>应答码</th><th>详情</th></tr></thead><tbody>
${rows.slice(0, PAGE).map(
  (
    e,
  ) => h`<tr><td>${e.id}</td><td>${time(e.at)}</td><td>${e.actor_type}:${e.actor_id}</td><td>${e.org_id ?? ''}</td><td title="盲索引">${e.subject_bidx ? e.subject_bidx.slice(0, 10) + '…' : ''}</td>
<td>${e.action}</td><td>${e.target ?? ''}</td><td>${tag(e.outcome, e.outcome === 'ok' ? 'ok' : 'bad')}</td><td>${e.resp_code ?? ''}</td><td class="wrap">${(e.detail ?? '').slice(0, 200)}</td></tr>`,
)}</tbody></table></div>
${rows.length === 0 ? h`<p class="muted" id="audit-empty">没有符合条件的记录。</p>` : ''}`
    : ''
}`;
    return html(reply, consolePage(actor, { title: '审计', active: '/console/audit', body }), ok ? 200 : 400);
  };
  app.get('/audit', search);
  app.post('/audit', search);

  app.post('/audit.csv', async (req, reply) => {
    const actor = need(req, 'operator', 'auditor');
    const { filter, errors } = parseAuditQuery(vault, queryOf(req.body as Record<string, unknown>));
    if (Object.keys(errors).length) return reply.code(400).type('text/plain; charset=utf-8').send(Object.values(errors).join('\n'));
    const rows = await searchAudit(db, filter, EXPORT_MAX);
    await auditAction(
      db,
      actor,
      'audit.export',
      null,
      { ...describeFilter(filter), rows: rows.length },
      {
        subject: filter.subject ?? null,
        orgId: filter.orgId ?? null,
      },
    );
    const cols = [
      'id',
      'at',
      'actor_type',
      'actor_id',
      'org_id',
      'subject_bidx',
      'action',
      'target',
      'outcome',
      'resp_code',
      'request_id',
      'detail',
    ] as const;
    // A BOM so that Excel opens the Chinese text as UTF-8.
    const lines = ['\ufeff' + cols.join(','), ...rows.map((r) => cols.map((c) => csvField(r[c])).join(','))];
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="audit-${new Date(platform.now()).toISOString().slice(0, 10)}.csv"`)
      .send(lines.join('\r\n') + '\r\n');
  });
}
