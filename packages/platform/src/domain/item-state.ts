import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { audit, auditEvent, type AuditAction, type AuditInput } from './audit.js';
import { noticeItemChange, type NoticeDeps } from './notices.js';
import { stateChangeProblem } from './update-items.js';
import { refreshSubjects } from './subjects.js';

/**
 * An institution's staff marking one of its own records paid (1) or revoked (2) from the portal: the same
 * state machine as ORG_MDL_003 (`stateChangeProblem`), the read model of ORG_MDL_002 kept in step in the
 * same transaction, audited, and told to the hospital's HIS as an ORG_002 UPDATE notice like every other
 * change the platform makes on its own (docs/decisions.md "Staff settle and revoke").
 */
export class ItemStateError extends Error {
  override name = 'ItemStateError';
  constructor(
    message: string,
    readonly notFound = false,
  ) {
    super(message);
  }
}

export interface StaffItemChange {
  itemId: number;
  /** The staff member's institution: a record of another institution is "not found", never changed. */
  orgId: string;
  to: '1' | '2';
  actor: string;
  requestId: string | null;
}

/** Returns whether the record changed (the same state again is a no-op, as in ORG_MDL_003). */
export async function changeItemStateByStaff(db: Kysely<DB>, notice: NoticeDeps | undefined, input: StaffItemChange): Promise<boolean> {
  const action: AuditAction = input.to === '1' ? 'item.settle.staff' : 'item.revoke.staff';
  type Outcome = { changed: boolean } | { refused: string; notFound: boolean; row: Parameters<typeof event>[2] };
  const outcome = await db.transaction().execute(async (trx): Promise<Outcome> => {
    // The row lock serialises two clicks (or two staff) on the same record: the second sees the first's state.
    const row = await trx
      .selectFrom('arrears_item')
      .select(['id', 'state', 'subject_bidx', 'trace_id'])
      .where('id', '=', input.itemId)
      .where('org_id', '=', input.orgId)
      .forUpdate()
      .executeTakeFirst();
    if (!row) return { refused: '记录不存在或无权查看', notFound: true, row };
    const problem = stateChangeProblem(row.state, input.to);
    if (problem) return { refused: problem, notFound: false, row };
    if (row.state === input.to) return { changed: false };
    const now = new Date();
    await trx.updateTable('arrears_item').set({ state: input.to, settled_at: now, updated_at: now }).where('id', '=', row.id).execute();
    await refreshSubjects(trx, [row.subject_bidx]);
    await audit(trx, event(input, action, row, 'ok'));
    if (notice) await noticeItemChange(trx, notice, row.id, input.to === '1' ? 'staff.settle' : 'staff.revoke', now);
    return { changed: true };
  });
  if ('changed' in outcome) return outcome.changed;
  // A refusal is audited outside the (rolled back or empty) transaction, so an attempt on another
  // institution's record leaves its trace.
  await audit(db, event(input, action, outcome.row, 'refused'));
  throw new ItemStateError(outcome.refused, outcome.notFound);
}

function event(
  input: StaffItemChange,
  action: AuditAction,
  row: { id: number; state: string; subject_bidx: string; trace_id: string } | undefined,
  outcome: 'ok' | 'refused',
): AuditInput {
  return auditEvent('operator', input.actor, action, {
    orgId: input.orgId,
    // Nothing of another institution's record goes into this institution's audit trail.
    subject: row?.subject_bidx ?? null,
    target: row?.trace_id ?? `item:${input.itemId}`,
    outcome,
    requestId: input.requestId,
    detail: { itemId: input.itemId, from: row?.state, to: input.to },
  });
}
