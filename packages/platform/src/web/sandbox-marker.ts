import type { FastifyInstance } from 'fastify';

const MARKER =
  // A landmark of its own (not a bare div before the header), so page accessibility checks find all content in one.
  '<aside class="sandbox-marker" id="sandbox-marker" aria-label="测试环境">测试环境：数据均非正式数据</aside>';

/**
 * Every page a sandbox serves says so (issue #11 item 1), whoever rendered it: one hook on the HTML replies
 * rather than a flag threaded through each page layout. The look is `.sandbox-marker` in the shared CSS.
 */
export function markSandboxPages(app: FastifyInstance): void {
  app.addHook('onSend', async (_req, reply, payload) => {
    if (typeof payload !== 'string') return payload;
    const type = reply.getHeader('content-type');
    if (typeof type !== 'string' || !type.startsWith('text/html')) return payload;
    return payload.replace(/<body([^>]*)>/, (m) => m + MARKER);
  });
}
