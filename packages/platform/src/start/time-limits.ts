import { createServer, type RequestListener, type Server } from 'node:http';

/**
 * The platform's HTTP server with time limits (issue #11 item 7). Node's defaults let a client trickle a body
 * forever once Fastify sets its own timeouts to 0, so one slow sender per socket could hold the server's
 * connections: a request must arrive whole (headers and body) within `requestTimeoutMs`, headers within at most
 * 10 s of that, and a keep-alive connection with nothing to do closes after a few seconds.
 */
export function limitedServer(requestTimeoutMs: number): (handler: RequestListener) => Server {
  const headersTimeout = Math.min(requestTimeoutMs, 10_000);
  return (handler) => {
    const server = createServer(
      {
        requestTimeout: requestTimeoutMs,
        headersTimeout,
        keepAliveTimeout: 5_000,
        // Node checks the two limits above on this interval (30 s by default), so a short limit needs a short one.
        connectionsCheckingInterval: Math.max(250, Math.min(1_000, Math.floor(requestTimeoutMs / 4))),
      },
      handler,
    );
    // A socket with no traffic at all for the whole window ends too (slow readers of a reply included).
    server.setTimeout(requestTimeoutMs + 5_000);
    return server;
  };
}
