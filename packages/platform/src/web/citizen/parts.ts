import { epochMsToChinaTime } from '@mdl/protocol';
import { money } from '../money.js';
import { hiddenInput } from '../components.js';
import { h, type Html } from '../html.js';

/** Small pieces of the citizen app's pages (../components.ts has those the /card pages share too). */

export const BASE = '/mdr';

export const yuan = money;

/** China time to the minute, as the records show it. */
export const time = (d: Date): string => epochMsToChinaTime(d.getTime()).slice(0, 16);

/** A line with a label on the left and a figure on the right (an item and its amount). */
export function kv(left: Html | string, right: Html | string): Html {
  return h`<div class="kv"><span>${left}</span><strong>${right}</strong></div>`;
}

/** The session's CSRF token as the hidden field every /mdr form carries. */
export function csrfField(csrf: string): Html {
  return hiddenInput('csrf', csrf);
}

/** A highlighted sentence: plain (blue), `ok` (green) or `bad` (red); `id` marks the one beside a record. */
export function note(kind: string, text: string, id?: string): Html {
  return h`<div class="note ${kind}" role="status"${id ? h` id="${id}"` : ''}>${text}</div>`;
}
