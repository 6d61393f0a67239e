import { h, type Html } from '../html.js';

/**
 * Small pieces the console's list pages share, so that a page's template reads as what it shows rather than as
 * markup: a status filter and a table in its sideways-scrolling frame.
 */

/** A GET form with one select of statuses (and 全部), as above a list. */
export function statusFilter(label: string, statuses: Record<string, string>, current: string | undefined): Html {
  const options = Object.entries(statuses).map(([v, t]) => h`<option value="${v}" ${current === v ? 'selected' : ''}>${t}</option>`);
  const select = h`<select name="status"><option value="">全部</option>${options}</select>`;
  return h`<form class="filters" method="get"><label>${label} ${select}</label><button type="submit">筛选</button></form>`;
}

/** A wide table in a frame that scrolls sideways (keyboard-focusable, named for screen readers). */
export function scrollTable(id: string, headings: readonly string[], rows: Html[]): Html {
  const head = headings.map((t) => h`<th>${t}</th>`);
  return h`<div class="tablewrap" tabindex="0" role="region" aria-label="表格，可左右滚动"><table class="data" id="${id}"><thead><tr>${head}</tr></thead><tbody>
${rows}</tbody></table></div>`;
}

/** Cells of a row, in order; a cell given as `{ wrap }` may break across lines (long text). */
export type Cell = Html | string | number | null | undefined | { wrap: Html | string | null | undefined };

export function cells(...values: Cell[]): Html {
  return h`${values.map((v) => (v && typeof v === 'object' && 'wrap' in v ? h`<td class="wrap">${v.wrap}</td>` : h`<td>${v}</td>`))}`;
}
