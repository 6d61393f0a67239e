import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { checkDestination, type AddressPolicy, type Destination } from './address-policy.js';

/** Where a call goes: the URL and the ports its institution registered (address-policy.ts). */
export interface OutboundTarget {
  url: string;
  ports: readonly number[];
}

export type HttpPost = (
  target: OutboundTarget,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
) => Promise<{ status: number; text: string }>;

/** A reply larger than this is not an ORG_001/ORG_002 answer: the read stops there. */
const MAX_REPLY_BYTES = 1 << 20;

/**
 * POSTs to the address the policy checked: the socket goes to `dest.address` (no second DNS lookup that a
 * rebinding name could answer differently), the Host header and the TLS server name stay the URL's. No
 * redirects are followed.
 */
export function postTo(dest: Destination, body: string, headers: Record<string, string>, signal: AbortSignal) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const send = dest.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      {
        host: dest.address,
        family: dest.family,
        port: dest.port,
        path: `${dest.url.pathname}${dest.url.search}`,
        method: 'POST',
        headers: { ...headers, host: dest.url.host, 'content-length': String(Buffer.byteLength(body)) },
        ...(dest.servername ? { servername: dest.servername } : {}),
        agent: false,
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_REPLY_BYTES) return req.destroy(new Error('reply too large'));
          chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The platform's transport: every call passes the address policy first. Throws OutboundRefused. */
export function guardedPost(policy: AddressPolicy): HttpPost {
  return async (target, body, headers, timeoutMs) => {
    const signal = AbortSignal.timeout(timeoutMs);
    const dest = await Promise.race([
      checkDestination(policy, target.url, target.ports),
      new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true })),
    ]);
    return postTo(dest, body, headers, signal);
  };
}
