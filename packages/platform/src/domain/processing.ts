import type { ReportOverdueDataRequest, UpdateOverdueDataRequest } from '@mdl/protocol';
import { auditMany, type AuditInput } from './audit.js';
import type { ProcessDeps } from './batch-items.js';
import { applyReport } from './report-items.js';
import { refreshSubjects } from './subjects.js';
import { applyUpdate } from './update-items.js';

export type { ProcessDeps } from './batch-items.js';

/**
 * Applies a stored batch to the ledger in one transaction, then enqueues its callback in the same
 * transaction. Safe to run again: a batch already done is left alone, and item identity is
 * (orgId, orgTraceId), so a retry after a crash never double-counts.
 */
export async function processBatch(deps: ProcessDeps, batchId: number): Promise<'done' | 'already-done' | 'missing'> {
  // Read before the transaction: the embedded database has one connection, held by the transaction.
  const coverage = deps.coverage ? await deps.coverage() : undefined;
  return deps.db.transaction().execute(async (trx) => {
    const batch = await trx.selectFrom('batch').selectAll().where('id', '=', batchId).forUpdate().executeTakeFirst();
    if (!batch) return 'missing' as const;
    if (batch.status === 'done') return 'already-done' as const;
    const payload = JSON.parse(deps.vault.decrypt(batch.payload_enc)) as ReportOverdueDataRequest | UpdateOverdueDataRequest;
    const events: AuditInput[] = [];
    const { touched, before, ...result } =
      batch.kind === 'REPORT'
        ? await applyReport(deps, trx, batch, payload as ReportOverdueDataRequest, events, coverage)
        : await applyUpdate(deps, trx, batch, payload as UpdateOverdueDataRequest, events);
    await trx
      .updateTable('batch')
      .set({
        status: 'done',
        processed_at: new Date(deps.now()),
        accepted_count: result.accepted,
        rejected_count: result.rejected,
        result_enc: deps.vault.encrypt(JSON.stringify(result)),
      })
      .where('id', '=', batch.id)
      .execute();
    // The read model follows every subject the batch touched: the items' subjects before (read locked, so a
    // concurrent batch that moved one has committed) and after (the keys the batch wrote).
    if (touched.size > 0) await refreshSubjects(trx, [...before, ...touched]);
    await auditMany(trx, events);
    await deps.enqueueCallback(trx, batch.id, batch.request_id);
    return 'done' as const;
  });
}
