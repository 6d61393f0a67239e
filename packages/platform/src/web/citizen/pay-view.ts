import type { CitizenOverview, CitizenRecord, PaymentChannel } from '../../domain/citizen/records.js';
import { CHANNEL_KIND, mapHref } from '../channels.js';
import { h, type Html } from '../html.js';
import { BASE, kv, yuan } from './parts.js';
import { shell } from './views.js';

/** 缴费方式: for each institution with unpaid records, what is owed there and the ways to pay it. */
export function payPage(o: CitizenOverview, csrf: string): string {
  const orgs = o.payment.length
    ? o.payment.map((p) =>
        orgPayment(
          p,
          o.unpaid.filter((r) => r.orgId === p.orgId),
        ),
      )
    : h`<section class="card"><p>您没有需要缴费的记录。</p></section>`;
  const body = h`<section class="card"><h2>如何缴费</h2>
<p class="muted">请通过以下方式向对应医疗机构缴费。缴费后医院会同步结果；如长时间仍显示未结清，可在记录上点“状态更新”。</p></section>
${orgs}
<p><a href="${BASE}/">返回我的记录</a></p>`;
  return shell('缴费方式', body, { signedIn: true, csrf });
}

type OrgPayment = CitizenOverview['payment'][number];

function orgPayment(p: OrgPayment, items: CitizenRecord[]): Html {
  const total = items.reduce((s, r) => s + r.amountFen, 0);
  const channels = p.channels.length
    ? h`<ul class="channels">${p.channels.map(channelView)}</ul>`
    : h`<p class="muted">该机构尚未登记缴费方式，请到医院收费处缴费。</p>`;
  return h`<section class="card" data-org="${p.orgId}" id="org-${p.orgId}"><h2>${p.orgName}</h2>
${kv(`未结清 ${items.length} 笔`, yuan(total))}
${channels}
</section>`;
}

/** Each channel is something to tap: call, open the payment site, or the address to go to. */
function channelView(c: PaymentChannel): Html {
  const label = c.label || CHANNEL_KIND[c.kind] || '缴费方式';
  if (c.kind === 'phone') {
    return h`<li><a class="button channel" href="tel:${c.value.replace(/[^\d+-]/g, '')}">拨打${label} ${c.value}</a></li>`;
  }
  // Only http(s) links become links: an operator typo must not turn into a javascript: URL.
  if (c.kind === 'online' && /^https?:\/\//i.test(c.value)) {
    return h`<li><a class="button channel" href="${c.value}" rel="noopener noreferrer">${label}（在线支付）</a></li>`;
  }
  if (c.kind === 'address') return addressChannel(label, c.value);
  return h`<li>${label}：${c.value}</li>`;
}

function addressChannel(label: string, address: string): Html {
  const map = h`<a class="map-link" href="${mapHref(address)}" rel="noopener noreferrer">在地图中查看</a>`;
  return h`<li class="channel-address"><strong>${label}</strong><br>${address}<br>${map}</li>`;
}
