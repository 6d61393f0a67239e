import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * Where the platform may send a request on someone else's say-so (a hospital's notifyUrl, an institution's
 * ORG_001 endpoint, the reminder push URL): issue #11 item 4, docs/security.md "Outbound calls".
 *
 * The name is resolved here, once; every address it resolves to must pass, and the transport connects to the
 * address that was checked (outbound/pinned-post.ts), so a name that rebinds between check and connect gains
 * nothing. IP literals in any spelling (`0x7f.0.0.1`, `2130706433`, `0177.0.0.1`, `[::ffff:127.0.0.1]`) are
 * normalised by the WHATWG URL parser before they are classified, and IPv4-mapped IPv6 is judged as the IPv4
 * address it carries.
 */

export type AddressKind = 'loopback' | 'unspecified' | 'link-local' | 'multicast' | 'reserved' | 'private' | 'public';

export interface AddressPolicy {
  /** MDL_OUTBOUND_ALLOW_CIDRS: private and loopback destinations allowed (a sandbox adds loopback by default). */
  allow: BlockList;
  /** MDL_OUTBOUND_HTTP_CIDRS: where plain http is allowed when https is required. */
  http: BlockList;
  /** Production: https only, except inside `http`. */
  requireHttps: boolean;
  /** Sandbox: test hospitals on this host listen on any port, so the port rule is not applied to loopback. */
  anyPortOnLoopback: boolean;
  /** The platform's own non-loopback addresses (never called, whatever the allow-list says). */
  ownAddresses: ReadonlySet<string>;
  /** The platform's own listening port: never called on loopback or an own address. */
  ownPort: number;
  lookup: (host: string) => Promise<{ address: string; family: number }[]>;
}

/** The checked destination: connect to `address`, send `Host: url.host`, verify TLS against `servername`. */
export interface Destination {
  url: URL;
  address: string;
  family: 4 | 6;
  port: number;
  servername: string | undefined;
}

/** A destination the policy does not allow. `reason` is for the platform's log only, never for the caller. */
export class OutboundRefused extends Error {
  override name = 'OutboundRefused';
  constructor(readonly reason: string) {
    super(`outbound call refused: ${reason}`);
  }
}

function list(entries: [string, number, 'ipv4' | 'ipv6'][]): BlockList {
  const b = new BlockList();
  for (const [net, bits, type] of entries) b.addSubnet(net, bits, type);
  return b;
}

// Order matters: the first list an address is in names its kind.
const KINDS: [AddressKind, BlockList][] = [
  [
    'unspecified',
    list([
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ]),
  ],
  [
    'loopback',
    list([
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ]),
  ],
  [
    'link-local',
    list([
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ]),
  ],
  [
    'multicast',
    list([
      ['224.0.0.0', 4, 'ipv4'],
      ['ff00::', 8, 'ipv6'],
    ]),
  ],
  [
    'private',
    list([
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['100.64.0.0', 10, 'ipv4'],
      ['fc00::', 7, 'ipv6'],
      ['fec0::', 10, 'ipv6'],
    ]),
  ],
  [
    'reserved',
    list([
      ['240.0.0.0', 4, 'ipv4'],
      ['192.0.0.0', 24, 'ipv4'],
      ['192.0.2.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['198.51.100.0', 24, 'ipv4'],
      ['203.0.113.0', 24, 'ipv4'],
      // IPv4-compatible, NAT64, Teredo, 6to4, discard, documentation: each can carry an address we refuse.
      ['::', 96, 'ipv6'],
      ['64:ff9b::', 96, 'ipv6'],
      ['64:ff9b:1::', 48, 'ipv6'],
      ['2001::', 32, 'ipv6'],
      ['2002::', 16, 'ipv6'],
      ['100::', 64, 'ipv6'],
      ['2001:db8::', 32, 'ipv6'],
    ]),
  ],
];
const GLOBAL_V6 = list([['2000::', 3, 'ipv6']]);

/** The 8 groups of an IPv6 address (any valid spelling, brackets stripped). */
function v6Groups(addr: string): number[] {
  let a = addr;
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (dotted) {
    const o = dotted[1]!.split('.').map(Number);
    a = a.slice(0, -dotted[1]!.length) + `${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.map((g) => parseInt(g, 16));
}

/** An address as connected to: IPv4-mapped IPv6 (`::ffff:a.b.c.d`) becomes the IPv4 address it carries. */
export function normalizeAddress(raw: string): { address: string; family: 4 | 6 } | undefined {
  const a = raw.replace(/^\[|\]$/g, '');
  const family = isIP(a);
  if (family === 4) return { address: a, family: 4 };
  if (family !== 6) return undefined;
  const g = v6Groups(a.toLowerCase());
  if (g.length === 8 && g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return { address: [g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255].join('.'), family: 4 };
  }
  return { address: a.toLowerCase(), family: 6 };
}

export function addressKind(address: string, family: 4 | 6): AddressKind {
  const type = family === 4 ? 'ipv4' : 'ipv6';
  for (const [kind, b] of KINDS) if (b.check(address, type)) return kind;
  if (family === 6 && !GLOBAL_V6.check(address, 'ipv6')) return 'reserved';
  return 'public';
}

/** `10.0.0.0/8,192.168.1.5`: CIDR ranges or single addresses, or `none`; throws with the bad entry named. */
export function parseCidrs(raw: string | undefined): [string, number, 'ipv4' | 'ipv6'][] {
  const out: [string, number, 'ipv4' | 'ipv6'][] = [];
  if (raw?.trim() === 'none') return out;
  for (const entry of (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [addr = '', bits, extra] = entry.split('/');
    const family = isIP(addr);
    const max = family === 6 ? 128 : 32;
    if (!family || extra !== undefined || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max))) {
      throw new Error(`${entry} is not an IP address or CIDR range`);
    }
    out.push([addr, bits === undefined ? max : Number(bits), family === 4 ? 'ipv4' : 'ipv6']);
  }
  return out;
}

export const SANDBOX_LOOPBACK: [string, number, 'ipv4' | 'ipv6'][] = [
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
];

function ownInterfaceAddresses(): Set<string> {
  const own = new Set<string>();
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      const n = normalizeAddress(a.address.split('%')[0]!);
      if (n && addressKind(n.address, n.family) !== 'loopback') own.add(n.address);
    }
  }
  return own;
}

export interface PolicySettings {
  deployment: 'sandbox' | 'production';
  /** Unset: the deployment's default (loopback in a sandbox, nothing on production). */
  outboundAllowCidrs: string | undefined;
  outboundHttpCidrs: string | undefined;
  port: number;
  host: string;
}

export function policyFromSettings(s: PolicySettings): AddressPolicy {
  const sandbox = s.deployment === 'sandbox';
  const allowed = s.outboundAllowCidrs === undefined && sandbox ? SANDBOX_LOOPBACK : parseCidrs(s.outboundAllowCidrs);
  const own = ownInterfaceAddresses();
  const host = normalizeAddress(s.host);
  if (host && !['loopback', 'unspecified'].includes(addressKind(host.address, host.family))) own.add(host.address);
  return {
    allow: list(allowed),
    http: list(parseCidrs(s.outboundHttpCidrs)),
    requireHttps: !sandbox,
    anyPortOnLoopback: sandbox,
    ownAddresses: own,
    ownPort: s.port,
    lookup: (h) => dnsLookup(h, { all: true, verbatim: true }),
  };
}

/** The guide's default ports: an institution that registered none may be called on 443 and 80. */
export const DEFAULT_PORTS: readonly number[] = [443, 80];

function judge(policy: AddressPolicy, url: URL, port: number, ports: readonly number[], address: string, family: 4 | 6): void {
  const type = family === 4 ? 'ipv4' : 'ipv6';
  const kind = addressKind(address, family);
  if (policy.ownAddresses.has(address)) throw new OutboundRefused(`${address} is one of the platform's own addresses`);
  if (kind === 'loopback' || kind === 'private') {
    if (!policy.allow.check(address, type)) throw new OutboundRefused(`${kind} address ${address} is not in MDL_OUTBOUND_ALLOW_CIDRS`);
    if (kind === 'loopback' && port === policy.ownPort) throw new OutboundRefused(`port ${port} on ${address} is the platform itself`);
  } else if (kind !== 'public') {
    throw new OutboundRefused(`${kind} address ${address}`);
  }
  const loopbackAnyPort = policy.anyPortOnLoopback && kind === 'loopback';
  if (!loopbackAnyPort && !ports.includes(port)) throw new OutboundRefused(`port ${port} is not registered (${ports.join(', ')})`);
  if (policy.requireHttps && url.protocol !== 'https:' && !policy.http.check(address, type)) {
    throw new OutboundRefused(`http to ${address} (https required; MDL_OUTBOUND_HTTP_CIDRS does not list it)`);
  }
}

/**
 * Checks a URL against the policy and returns the one address to connect to. `ports` are the ports the
 * institution registered (DEFAULT_PORTS when it registered none). Throws OutboundRefused.
 */
export async function checkDestination(policy: AddressPolicy, raw: string, ports: readonly number[]): Promise<Destination> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundRefused('not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new OutboundRefused(`scheme ${url.protocol}`);
  if (url.username || url.password) throw new OutboundRefused('credentials in the URL');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const literal = normalizeAddress(url.hostname);
  let candidates: { address: string; family: 4 | 6 }[];
  if (literal) candidates = [literal];
  else {
    let found: { address: string; family: number }[];
    try {
      found = await policy.lookup(url.hostname);
    } catch {
      throw new OutboundRefused(`${url.hostname} does not resolve`);
    }
    candidates = found.map((f) => normalizeAddress(f.address)).filter((n): n is { address: string; family: 4 | 6 } => !!n);
    if (candidates.length === 0) throw new OutboundRefused(`${url.hostname} does not resolve`);
  }
  // Every address the name has must pass: a name that points partly inside is refused, not raced.
  for (const c of candidates) judge(policy, url, port, ports, c.address, c.family);
  const first = candidates[0]!;
  return { url, address: first.address, family: first.family, port, servername: literal ? undefined : url.hostname };
}
