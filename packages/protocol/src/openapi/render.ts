/**
 * A docs page for an OpenAPI document, rendered on the server from the document itself: no script,
 * no CDN, readable on a phone. Field tables follow the guide's layout (参数代码, 名称, 类型, 最大长度,
 * 必填, 说明); an enveloped interface shows its business payload, with the envelope described once.
 */
import type { OpenApiDocument } from './documents.js';
import { DICTIONARY_PREFIX, type JsonSchema } from './json-schema.js';

const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Paragraphs and **bold**, the only markup the generated descriptions use. */
function prose(text: unknown): string {
  return String(text ?? '')
    .split(/\n{2,}/)
    .filter((p) => p.trim())
    .map((p) => `<p>${esc(p).replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')}</p>`)
    .join('');
}

class Resolver {
  constructor(private readonly doc: OpenApiDocument) {}
  deref(s: JsonSchema | undefined): JsonSchema {
    let cur = s ?? {};
    for (let i = 0; i < 10 && typeof cur.$ref === 'string'; i++) {
      const path = (cur.$ref as string).replace(/^#\//, '').split('/');
      cur = path.reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], this.doc) as JsonSchema;
    }
    return cur ?? {};
  }
  refName(s: JsonSchema | undefined): string | undefined {
    return typeof s?.$ref === 'string' ? (s.$ref as string).split('/').pop() : undefined;
  }
}

const ENVELOPES = new Set(['RequestEnvelope', 'ResponseEnvelope']);

function typeName(s: JsonSchema): string {
  const t = Array.isArray(s.type) ? s.type.join('|') : s.type;
  return t === 'array' ? 'List' : t === 'object' ? 'JSONObject' : t === 'string' ? 'String' : String(t ?? '');
}

function describe(s: JsonSchema): string {
  // The codes are listed below the description; its own sentence about them would say it twice.
  const text = String(s.description ?? '');
  const cut = s['x-enumDescriptions'] ? text.indexOf(DICTIONARY_PREFIX) : -1;
  const own = cut >= 0 ? text.slice(0, cut).replace(/。$/, '') : text;
  const parts = [esc(own)];
  if (s.pattern) parts.push(`格式 <code>${esc(s.pattern)}</code>`);
  if (s.format) parts.push(`格式 ${esc(s.format)}`);
  if (s.const !== undefined) parts.push(`固定为 <code>${esc(s.const)}</code>`);
  if (s.maxItems !== undefined) parts.push(`最多 ${esc(s.maxItems)} 条`);
  return parts.filter(Boolean).join('；');
}

/** The payload of an enveloped body (the `data`/`param` component), or the schema itself. */
function unwrap(r: Resolver, schema: JsonSchema | undefined): { schema: JsonSchema; envelope?: string } {
  const all = schema?.allOf as JsonSchema[] | undefined;
  const envelope = all?.map((s) => r.refName(s)).find((n) => n && ENVELOPES.has(n));
  if (!all || !envelope) return { schema: schema ?? {} };
  for (const part of all) {
    const props = r.deref(part).properties as Record<string, JsonSchema> | undefined;
    const inner = props?.data ?? props?.param;
    if (inner) return { schema: inner, envelope };
  }
  return { schema: {}, envelope };
}

function fieldRows(r: Resolver, schema: JsonSchema, depth: number, seen: Set<string>): string[] {
  const s = r.deref(schema);
  const rows: string[] = [];
  const required = new Set((s.required as string[] | undefined) ?? []);
  for (const [key, raw] of Object.entries((s.properties as Record<string, JsonSchema> | undefined) ?? {})) {
    const f = r.deref(raw);
    rows.push(fieldRow(key, f, r.refName(raw), depth, required.has(key)));
    const items = f.type === 'array' ? (f.items as JsonSchema | undefined) : undefined;
    const nested = items ?? (f.properties ? raw : undefined);
    const name = r.refName(items ?? raw);
    if (nested && !(name && seen.has(name))) rows.push(...fieldRows(r, nested, depth + 1, new Set([...seen, ...(name ? [name] : [])])));
  }
  return rows;
}

/** One field as a row of the guide's table; nested fields are indented with arrows. */
function fieldRow(key: string, f: JsonSchema, refName: string | undefined, depth: number, required: boolean): string {
  const indent = depth ? `<span class="indent">${'↳ '.repeat(depth)}</span>` : '';
  const codes = enumText(f);
  const req = `<td class="req" data-m="${required ? '必填' : '选填'}">${required ? 'Y' : 'N'}</td>`;
  const desc = `<td class="desc">${describe(f)}${codes ? `<div class="enum">${codes}</div>` : ''}</td>`;
  return (
    `<tr><td>${indent}<code>${esc(key)}</code></td><td>${esc(f.title ?? refName ?? '')}</td><td>${typeName(f)}</td>` +
    `<td>${esc(f.maxLength ?? '-')}</td>${req}${desc}</tr>`
  );
}

/** The allowed codes, each with its meaning when the dictionary gives one. */
function enumText(f: JsonSchema): string {
  if (!Array.isArray(f.enum)) return '';
  // In the enum's order: an object's integer-like keys ('10') would come before '01'.
  const meanings = (f['x-enumDescriptions'] ?? {}) as Record<string, string>;
  return f.enum
    .map((v) => `<code>${esc(v)}</code>${meanings[String(v)] ? ` ${esc(meanings[String(v)])}` : ''}`)
    .join(f['x-enumDescriptions'] ? '<br>' : ' ');
}

function fieldTable(r: Resolver, schema: JsonSchema | undefined): string {
  if (!schema) return '<p class="muted">无</p>';
  const s = r.deref(schema);
  const alternatives = (s.oneOf as JsonSchema[] | undefined)?.filter((x) => r.deref(x).properties);
  if (alternatives?.length) {
    return alternatives.map((alt, i) => `<p class="alt">形式 ${i + 1}：${esc(r.deref(alt).title ?? '')}</p>${fieldTable(r, alt)}`).join('');
  }
  if (s.type === 'array') return `<p class="muted">JSON 数组，每项如下：</p>${fieldTable(r, s.items as JsonSchema)}`;
  const rows = fieldRows(r, schema, 0, new Set());
  if (!rows.length) return `<p class="muted">${esc(s.description ?? '无业务字段')}</p>`;
  return `<div class="scroll"><table class="fields"><thead><tr>${FIELD_HEADINGS}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
}

const FIELD_HEADINGS = ['参数代码', '参数名称', '类型', '最大长度', '必填', '说明'].map((t) => `<th>${t}</th>`).join('');

function operationSection(r: Resolver, method: string, path: string, op: JsonSchema, prefix: string): string {
  const id = String(op.operationId ?? `${method}-${path}`);
  const body = (op.requestBody as JsonSchema | undefined)?.content as Record<string, JsonSchema> | undefined;
  const responses = Object.entries((op.responses as Record<string, JsonSchema> | undefined) ?? {});
  return `<section class="card op" id="${esc(id)}">
<h3>${esc(op.summary ?? id)}</h3>
<p><span class="method">${esc(method.toUpperCase())}</span> <code class="path">${esc(prefix + path)}</code></p>
${prose(op.description)}
${body ? requestPart(r, body['application/json']?.schema as JsonSchema | undefined) : ''}
${responses.map(([status, res]) => responsePart(r, status, res)).join('')}
</section>`;
}

function requestPart(r: Resolver, schema: JsonSchema | undefined): string {
  const req = unwrap(r, schema);
  const where = req.envelope ? '<p class="muted">放在请求报文的 encryptData 中（加密前的 JSON）；报文信封见文末。</p>' : '';
  return `<h4>请求参数</h4>${where}${fieldTable(r, req.schema)}`;
}

function responsePart(r: Resolver, status: string, res: JsonSchema): string {
  const content = (res.content as Record<string, JsonSchema> | undefined)?.['application/json'];
  const u = unwrap(r, content?.schema as JsonSchema | undefined);
  const heading = u.envelope ? '响应参数' : `HTTP ${esc(status)}`;
  return `<h4>${heading}</h4><p class="muted">${esc(res.description)}</p>${content ? fieldTable(r, u.schema) : ''}`;
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
  color:#1f2937;background:#f5f7fa;line-height:1.6;font-size:15px}
header{background:#0f5fa8;color:#fff;padding:.75rem 1rem}
header h1{font-size:1.1rem;margin:0}
header a{color:#fff}
main{max-width:72rem;margin:0 auto;padding:1rem}
.card{background:#fff;border-radius:.5rem;padding:1rem;margin:0 0 1rem;box-shadow:0 1px 2px rgba(0,0,0,.06)}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
h3{font-size:1.05rem;margin:0 0 .4rem}
h4{font-size:.95rem;margin:1rem 0 .3rem}
.muted{color:#6b7280;font-size:.9rem}
.scroll{overflow-x:auto}
table{width:100%;border-collapse:collapse;font-size:.875rem}
th,td{padding:.35rem .5rem;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
th{background:#f3f4f6;white-space:nowrap}
td:first-child{white-space:nowrap}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;background:#f3f4f6;padding:0 .2rem;border-radius:.2rem}
.method{display:inline-block;background:#0f5fa8;color:#fff;border-radius:.25rem;padding:0 .4rem;font-size:.8rem;font-weight:700}
.path{word-break:break-all}
.indent{color:#9ca3af}
.enum{color:#4b5563;font-size:.8rem;margin-top:.2rem}
.alt{font-weight:600;margin:.6rem 0 .2rem}
nav ul{margin:.2rem 0;padding-left:1.2rem}
nav li{margin:.1rem 0}
@media (max-width:40rem){
.fields thead{display:none}
.fields tr{display:block;border-bottom:1px solid #e5e7eb;padding:.3rem 0}
.fields td{display:inline-block;border:0;padding:.05rem .3rem}
.fields td.desc{display:block;color:#374151}
.fields td.desc:empty{display:none}
.fields td.req{font-size:0}
.fields td.req::after{content:attr(data-m);font-size:.8rem;color:#6b7280}
}`;

export interface RenderOptions {
  /** Where the JSON of this document is served, linked from the page. */
  jsonUrl: string;
  /** Other documents to link to. */
  links?: { href: string; text: string }[];
}

export function renderOpenApiHtml(doc: OpenApiDocument, opts: RenderOptions): string {
  const r = new Resolver(doc);
  const server = doc.servers[0];
  const prefix = server && !server.variables ? server.url.replace(/\/+$/, '') : '';
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const tag = ((op.tags as string[] | undefined) ?? ['接口'])[0]!;
      ops.push({
        tag,
        id: String(op.operationId),
        summary: String(op.summary ?? path),
        html: operationSection(r, method, path, op, prefix),
      });
    }
  }
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(doc.info.title)}</title><style>${CSS}</style></head>
<body><header><h1>${esc(doc.info.title)}</h1></header>
<main>
${introSection(doc, opts, ops)}
${ops.map((o) => o.html).join('\n')}
${envelopeSection(r, doc)}
${respCodeSection(doc)}
</main></body></html>`;
}

interface Operation {
  tag: string;
  html: string;
  id: string;
  summary: string;
}

/** Version, server, links to the JSON and the other documents, the description, and the contents by tag. */
function introSection(doc: OpenApiDocument, opts: RenderOptions, ops: Operation[]): string {
  const server = doc.servers[0];
  const links = [{ href: opts.jsonUrl, text: 'OpenAPI 3.1 文档（JSON）' }, ...(opts.links ?? [])];
  const linkText = links.map((l) => `<a href="${esc(l.href)}">${esc(l.text)}</a>`).join(' · ');
  const where = server ? ` · 服务地址 <code>${esc(server.url)}</code>` : '';
  return `<section class="card" id="intro"><p class="muted">版本 ${esc(doc.info.version)}${where} · ${linkText}</p>${prose(
    doc.info.description,
  )}<nav><ul>${navList(ops)}</ul></nav></section>`;
}

function navList(ops: Operation[]): string {
  const tags = [...new Set(ops.map((o) => o.tag))];
  const entries = (t: string) =>
    ops
      .filter((o) => o.tag === t)
      .map((o) => `<li><a href="#${esc(o.id)}">${esc(o.summary)}</a></li>`)
      .join('');
  return tags.map((t) => `<li>${esc(t)}<ul>${entries(t)}</ul></li>`).join('');
}

/** The envelope, described once at the end (every enveloped operation refers to it). */
function envelopeSection(r: Resolver, doc: OpenApiDocument): string {
  const schemas = doc.components.schemas;
  const envelope = ['RequestEnvelope', 'ResponseEnvelope']
    .filter((n) => schemas[n])
    .map((n) => `<h3>${esc(schemas[n]!.title)}</h3><p class="muted">${esc(schemas[n]!.description)}</p>${fieldTable(r, schemas[n])}`)
    .join('');
  return envelope ? `<section class="card" id="envelope"><h2>报文信封</h2>${envelope}</section>` : '';
}

function respCodeSection(doc: OpenApiDocument): string {
  const codes = (doc.components.schemas.RespCode?.oneOf as JsonSchema[] | undefined) ?? [];
  if (!codes.length) return '';
  const rows = codes
    .map((c) => `<tr><td><code>${esc(c.const)}</code></td><td>${esc(c.title)}</td><td>${c.description ? '是' : ''}</td></tr>`)
    .join('');
  const head = '<thead><tr><th>respCode</th><th>说明</th><th>可重试</th></tr></thead>';
  const table = `<div class="scroll"><table>${head}<tbody>${rows}</tbody></table></div>`;
  return `<section class="card" id="resp-codes"><h2>响应码</h2>${table}</section>`;
}
