import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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
 * Connections to hospitals are kept open between calls: callbacks of one institution follow each other closely,
 * and a new TCP (and TLS) connection per call cost more than the call. The agent keys a socket by the checked
 * address, port and TLS server name, so a kept socket only ever serves the destination the policy passed. Idle
 * sockets close after 2 s, before the usual 5 s a server keeps an idle connection, so we rarely write to one
 * the other side is closing.
 */
const IDLE_MS = 2_000;
const agents = {
  http: new HttpAgent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 4, timeout: IDLE_MS }),
  https: new HttpsAgent({ keepAlive: true, maxSockets: 16, maxFreeSockets: 4, timeout: IDLE_MS }),
};

/**
 * POSTs to the address the policy checked: the socket goes to `dest.address` (no second DNS lookup that a
 * rebinding name could answer differently), the Host header and the TLS server name stay the URL's. No
 * redirects are followed.
 */
export function postTo(dest: Destination, body: string, headers: Record<string, string>, signal: AbortSignal) {
  return send(dest, body, headers, signal, true).catch((err: Error & { reused?: boolean }) => {
    // A kept socket the hospital closed while it sat idle fails before anything was sent: the Node
    // documentation's advice is to try once more on a new connection. Any other failure is the caller's.
    if (err.reused && (err as NodeJS.ErrnoException).code === 'ECONNRESET') return send(dest, body, headers, signal, false);
    throw err;
  });
}

function send(dest: Destination, body: string, headers: Record<string, string>, signal: AbortSignal, keep: boolean) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const https = dest.url.protocol === 'https:';
    const req: ClientRequest = (https ? httpsRequest : httpRequest)(
      {
        host: dest.address,
        family: dest.family,
        port: dest.port,
        path: `${dest.url.pathname}${dest.url.search}`,
        method: 'POST',
        headers: { ...headers, host: dest.url.host, 'content-length': String(Buffer.byteLength(body)) },
        ...(dest.servername ? { servername: dest.servername } : {}),
        agent: keep ? (https ? agents.https : agents.http) : false,
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
    req.on('error', (err) => reject(Object.assign(err, { reused: req.reusedSocket })));
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
