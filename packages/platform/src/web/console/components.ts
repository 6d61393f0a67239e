import { h, type Html } from '../html.js';

/**
 * Small pieces the console's pages share, so that a page's template reads as what it shows rather than as
 * markup: a status filter, a table in its sideways-scrolling frame, a card, a list of terms and values, and a
 * POST form that may ask for confirmation first (console.js).
 */

/** What a cell or a value may hold; `h` escapes text. */
export type Content = Html | string | number | null | undefined;

/** ` id="…"` when there is one. */
function idAttr(id: string | undefined): Html | '' {
  return id ? h` id="${id}"` : '';
}

/** A labelled select above a list, with 全部 first (value ''). */
export function filterSelect(label: string, name: string, choices: Record<string, string>, current: string | undefined): Html {
  const options = Object.entries(choices).map(([v, t]) => h`<option value="${v}" ${current === v ? 'selected' : ''}>${t}</option>`);
  return h`<label>${label} <select name="${name}"><option value="">全部</option>${options}</select></label>`;
}

/** A GET form with one select of statuses (and 全部), as above a list. */
export function statusFilter(label: string, statuses: Record<string, string>, current: string | undefined): Html {
  return h`<form class="filters" method="get">${filterSelect(label, 'status', statuses, current)}<button type="submit">筛选</button></form>`;
}

/** A wide table in a frame that scrolls sideways (keyboard-focusable, named for screen readers). */
export function scrollTable(id: string, headings: readonly string[], rows: Html[], o: { scoped?: boolean } = {}): Html {
  const head = headings.map((t) => (o.scoped ? h`<th scope="col">${t}</th>` : h`<th>${t}</th>`));
  const frame = h`<div class="tablewrap" tabindex="0" role="region" aria-label="表格，可左右滚动">`;
  return h`${frame}<table class="data" id="${id}"><thead><tr>${head}</tr></thead><tbody>
${rows}</tbody></table></div>`;
}

/** Cells of a row, in order; a cell given as `{ wrap }` may break across lines (long text). */
export type Cell = Content | { wrap: Html | string | null | undefined };

export function cells(...values: Cell[]): Html {
  return h`${values.map((v) => (v && typeof v === 'object' && 'wrap' in v ? h`<td class="wrap">${v.wrap}</td>` : h`<td>${v}</td>`))}`;
}

/** One term and its value; the id goes on the value, where tests and scripts read it. */
export type Entry = readonly [term: string, value: Content, id?: string];

/** Terms and their values side by side (`dl.kv`); an entry given as false or '' is left out. */
export function definitionList(entries: readonly (Entry | false | '')[], id?: string): Html {
  const shown = entries.filter((e): e is Entry => Boolean(e));
  return h`<dl class="kv"${idAttr(id)}>${shown.map(
    ([term, value, vid]) => h`<dt>${term}</dt><dd${idAttr(vid)}>${value}</dd>
`,
  )}</dl>`;
}

/** A white box; with a title, an h3 heads it. */
export function card(title: Content, body: Content, id?: string): Html {
  return h`<div class="card"${idAttr(id)}>${title ? h`<h3>${title}</h3>` : ''}${body}</div>`;
}

/** A red box naming what went wrong with the whole form (field errors sit beside their fields). */
export function alertCard(text: Content, id?: string): Html | '' {
  return text ? h`<div class="card bad" role="alert"${idAttr(id)}>${text}</div>` : '';
}

export interface PostFormOptions {
  action: string;
  /** The CSRF field (layout.ts csrfField). */
  csrf: Html;
  /** Asked in a dialog before sending (console.js), with the text of its OK button. */
  confirm?: { text: string; ok: string };
  className?: string;
  id?: string;
  /** The server checks every field and answers with the errors beside them (../form.ts). */
  novalidate?: boolean;
}

/** A POST form carrying its CSRF token, asking first when `confirm` is given. */
export function postForm(o: PostFormOptions, body: Html): Html {
  const cls = o.className ? h` class="${o.className}"` : '';
  const ask = o.confirm ? h` data-confirm="${o.confirm.text}" data-confirm-ok="${o.confirm.ok}"` : '';
  const novalidate = o.novalidate ? h` novalidate` : '';
  return h`<form method="post" action="${o.action}"${cls}${idAttr(o.id)}${ask}${novalidate}>${o.csrf}${body}</form>`;
}

/** Hidden inputs carrying values already checked, e.g. from a preview to the form that saves it. */
export function hiddenInputs(fields: readonly (readonly [name: string, value: string])[]): Html {
  return h`${fields.map(([name, value]) => h`<input type="hidden" name="${name}" value="${value}">`)}`;
}
