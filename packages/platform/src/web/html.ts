/**
 * Server-rendered pages: every value goes through `h` (escaped) or `raw` (trusted markup we built), so a
 * script in user-supplied text is shown as text. Pages are Chinese, mobile-first, and need no CDN.
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function raw(s: string): Html {
  return new Html(s);
}

type Value = Html | string | number | boolean | null | undefined | Value[];

function render(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** Tagged template: `h\`<p>${userText}</p>\`` escapes userText; nested `h` results pass through. */
export function h(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

export const BASE_CSS = `
*{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
  color:#1f2937;background:#f5f7fa;line-height:1.6;font-size:16px}
header.bar{background:#0f5fa8;color:#fff;padding:.75rem 1rem}
header.bar h1{font-size:1.1rem;margin:0}
header.bar a{color:#fff}
main{max-width:48rem;margin:0 auto;padding:1rem}
.card{background:#fff;border-radius:.5rem;padding:1rem;margin:0 0 1rem;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.muted{color:#6b7280;font-size:.9rem}
.ok{color:#047857}.warn{color:#b45309}.bad{color:#b91c1c}
.tag{display:inline-block;padding:0 .4rem;border-radius:.25rem;font-size:.8rem;background:#e5e7eb}
.tag.ok{background:#d1fae5}.tag.bad{background:#fee2e2}.tag.warn{background:#fef3c7}
label{display:block;margin:.6rem 0 .2rem;font-weight:600}
input,select,textarea{width:100%;padding:.55rem;border:1px solid #d1d5db;border-radius:.375rem;font:inherit;background:#fff}
button,.button{display:inline-block;padding:.6rem 1rem;border:0;border-radius:.375rem;background:#0f5fa8;color:#fff;font:inherit;
  cursor:pointer;text-decoration:none;text-align:center}
button.secondary,.button.secondary{background:#e5e7eb;color:#1f2937}
button.danger{background:#b91c1c}
.field-error{color:#b91c1c;font-size:.875rem}
[aria-invalid=true]{border-color:#b91c1c;background:#fef2f2}
.form-alert{background:#fef2f2;color:#991b1b;border-left:4px solid #b91c1c;padding:.6rem .8rem;border-radius:.25rem;margin:0 0 .75rem}
table{width:100%;border-collapse:collapse;background:#fff}
th,td{padding:.5rem;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top}
.row{display:flex;gap:.5rem;flex-wrap:wrap}
.row>*{flex:1 1 10rem}
@media (min-width:64rem){main.wide{max-width:80rem}}
.sandbox-marker{background:#fde68a;color:#78350f;font-weight:700;font-size:.9rem;text-align:center;padding:.25rem .75rem;
  border-bottom:2px solid #b45309}
`;

export interface PageOptions {
  title: string;
  body: Html;
  /** Extra CSS for this page. */
  css?: string;
  /** Header link on the right, e.g. sign-out. */
  headerRight?: Html;
  wide?: boolean;
  /** Script URLs served by the platform itself. */
  scripts?: string[];
}

/** The blue bar on top of every page: the title, and on the right an optional link or button (e.g. sign-out). */
function headerBar(title: string, right: Html | undefined): Html {
  const end = right ? h`<div style="flex:0 1 auto;min-width:0">${right}</div>` : '';
  return h`<header class="bar"><div class="row" style="align-items:center"><h1>${title}</h1>${end}</div></header>`;
}

export function page(o: PageOptions): string {
  const scripts = (o.scripts ?? []).map((s) => h`<script src="${s}"></script>`);
  return h`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<title>${o.title}</title><style>${raw(BASE_CSS + (o.css ?? ''))}</style></head>
<body>${headerBar(o.title, o.headerRight)}
<main${raw(o.wide ? ' class="wide"' : '')}>${o.body}</main>
${scripts}
</body></html>`.value;
}
