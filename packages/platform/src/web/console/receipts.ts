import { auditAction } from '../../domain/console/auth.js';
import { actorOf, notFound, readerOf, type ConsoleContext } from './context.js';
import { num } from './layout.js';
import { IdParams } from '../route-schemas.js';

/**
 * An appeal's receipt photo, opened from its seal for the appeal page: operators and auditors any,
 * staff their institution's (another's is 404). Served with its checked type, never sniffed, not cached,
 * and every viewing is audited like the appeal itself.
 */
export async function receiptRoutes({ app, platform }: ConsoleContext): Promise<void> {
  app.get('/appeals/:id/receipt', { schema: { params: IdParams } }, async (req, reply) => {
    const actor = actorOf(req);
    const id = num(req.params.id);
    const r = id === undefined ? undefined : await readerOf(platform, req).receipt(id);
    if (!r) notFound('收据照片');
    await auditAction(platform.db, actor, 'console.appeal.receipt', `appeal:${id}`, null);
    return reply
      .type(r.contentType)
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'private, no-store')
      .header('content-disposition', 'inline')
      .send(r.data);
  });
}
