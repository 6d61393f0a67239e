import type { PaymentChannel } from '../domain/citizen/records.js';
import { h, type Html } from './html.js';

/** Payment channels as people read them, for the citizen app and the console alike (one set of words). */
export const CHANNEL_KIND: Record<string, string> = { phone: '电话', address: '地址', online: '线上缴费', other: '其他' };

/**
 * A map search for an address (高德地图's public URI API: opens the app on a phone, the web map elsewhere).
 * Only the address text goes into the query, encoded.
 */
export function mapHref(address: string): string {
  return `https://uri.amap.com/search?keyword=${encodeURIComponent(address)}&src=mdl&callnative=1`;
}

/** The console's read-only view: kind, name and content per line, never the `kind|label|value` storage form. */
export function channelList(channels: PaymentChannel[]): Html {
  if (channels.length === 0) return h`<span class="muted">（未登记）</span>`;
  return h`<ul class="channel-list" id="payment-channels">${channels.map((c) => {
    const kind = CHANNEL_KIND[c.kind] ?? '其他';
    const value =
      c.kind === 'address'
        ? h`${c.value} <a href="${mapHref(c.value)}" rel="noopener noreferrer" target="_blank">地图</a>`
        : c.kind === 'online' && /^https?:\/\//i.test(c.value)
          ? h`<a href="${c.value}" rel="noopener noreferrer" target="_blank">${c.value}</a>`
          : h`${c.value}`;
    return h`<li><span class="tag">${kind}</span> ${c.label ? h`${c.label}：` : ''}${value}</li>`;
  })}</ul>`;
}
