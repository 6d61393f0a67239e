import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Headers for pages that show personal data or one-time secrets: never cached, never framed, no
 * Referer leaking a token in the URL, no content sniffing, and the page's own content security policy.
 */
export function privatePageHeaders(csp: string): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('content-security-policy', csp);
  };
}
