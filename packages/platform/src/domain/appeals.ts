import type { Kysely } from 'kysely';
import type { Appeal, DB } from '../db/schema.js';
import { noticeItemChange, type NoticeDeps } from './notices.js';
import { auditEvent, audit } from './audit.js';
import { refreshSubjects } from './subjects.js';
import type { SealedReceipt } from './appeal-receipts.js';

/**
 * Appeals (DESIGN.md): a citizen appeals one of their own records; the reporting institution may answer;
 * an operator decides. Upheld revokes the item (state 2). Every step is audited. Callers enforce who
 * may act (citizen session, institution staff of `org_id`, operator); these functions check state.
 */
export const APPEAL_REASONS = { paid: '已缴清', not_me: '非本人', wrong_amount: '金额有误', other: '其他' } as const;
export type AppealReason = keyof typeof APPEAL_REASONS;
export const APPEAL_STATUS_TEXT = {
  open: '待处理',
  answered: '机构已答复',
  upheld: '申诉成立（记录已撤销）',
  rejected: '申诉不成立',
} as const;
export const MAX_APPEAL_TEXT = 500;

export class AppealError extends Error {
  override name = 'AppealError';
}

/** What a citizen must fix in an appeal form, every field at once. */
export function appealInputProblems(input: { reason: string; description: string }): { reason?: string; description?: string } {
  const out: { reason?: string; description?: string } = {};
  if (!Object.hasOwn(APPEAL_REASONS, input.reason)) out.reason = '请选择申诉原因';
  const description = input.description.trim();
  if (description.length === 0) out.description = '请填写申诉说明';
  else if ([...description].length > MAX_APPEAL_TEXT) out.description = `申诉说明不能超过 ${MAX_APPEAL_TEXT} 字`;
  return out;
}

export async function fileAppeal(
  db: Kysely<DB>,
  input: {
    itemId: number;
    subjectBidx: string;
    reason: string;
    description: string;
    actor: string;
    requestId?: string | null;
    /** A receipt photo, checked and sealed (domain/appeal-receipts.ts), stored with the appeal or not at all. */
    receipt?: SealedReceipt | undefined;
  },
): Promise<Appeal> {
  const problems = appealInputProblems(input);
  if (problems.reason ?? problems.description) throw new AppealError((problems.reason ?? problems.description)!);
  const description = input.description.trim();
  return db.transaction().execute(async (trx) => {
    // The record must belong to the appellant: authorization where the data is read.
    const item = await trx
      .selectFrom('arrears_item')
      .select(['id', 'org_id', 'state'])
      .where('id', '=', input.itemId)
      .where('subject_bidx', '=', input.subjectBidx)
      .executeTakeFirst();
    if (!item) throw new AppealError('记录不存在');
    const open = await trx
      .selectFrom('appeal')
      .select('id')
      .where('item_id', '=', item.id)
      .where('status', 'in', ['open', 'answered'])
      .executeTakeFirst();
    if (open) throw new AppealError('该记录已有处理中的申诉，请等待处理结果');
    const appeal = await trx
      .insertInto('appeal')
      .values({
        item_id: item.id,
        org_id: item.org_id,
        subject_bidx: input.subjectBidx,
        reason: input.reason as AppealReason,
        description,
        org_reply: null,
        org_replied_by: null,
        org_replied_at: null,
        decision_reason: null,
        decided_by: null,
        decided_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    if (input.receipt) {
      await trx
        .insertInto('appeal_receipt')
        .values({
          appeal_id: appeal.id,
          content_type: input.receipt.contentType,
          size_bytes: input.receipt.sizeBytes,
          data_enc: input.receipt.dataEnc,
        })
        .execute();
    }
    await audit(
      trx,
      auditEvent('citizen', input.actor, 'appeal.file', {
        orgId: item.org_id,
        subject: input.subjectBidx,
        target: `appeal:${appeal.id}`,
        requestId: input.requestId ?? null,
        detail: JSON.stringify({ reason: input.reason, itemId: item.id, receipt: input.receipt ? input.receipt.sizeBytes : undefined }),
      }),
    );
    return appeal;
  });
}

export async function answerAppeal(
  db: Kysely<DB>,
  input: { appealId: number; orgId: string; reply: string; actor: string },
): Promise<void> {
  const reply = input.reply.trim();
  if (!reply || [...reply].length > MAX_APPEAL_TEXT) throw new AppealError(`答复应为 1 到 ${MAX_APPEAL_TEXT} 字`);
  await db.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable('appeal')
      .set({ status: 'answered', org_reply: reply, org_replied_by: input.actor, org_replied_at: new Date(), updated_at: new Date() })
      .where('id', '=', input.appealId)
      .where('org_id', '=', input.orgId)
      .where('status', 'in', ['open', 'answered'])
      .returning(['subject_bidx'])
      .executeTakeFirst();
    if (!r) throw new AppealError('申诉不存在或已处理');
    await audit(
      trx,
      auditEvent('operator', input.actor, 'appeal.answer', {
        orgId: input.orgId,
        subject: r.subject_bidx,
        target: `appeal:${input.appealId}`,
      }),
    );
  });
}

/** Operator decision. Upheld revokes the record (state 2) in the same transaction. */
export async function decideAppeal(
  db: Kysely<DB>,
  input: { appealId: number; upheld: boolean; reason: string; actor: string },
  /** Tells the hospital's HIS of the revocation (ORG_002 UPDATE); left out only by tests of the appeal alone. */
  notice?: NoticeDeps,
): Promise<void> {
  const reason = input.reason.trim();
  if (!input.upheld && !reason) throw new AppealError('驳回申诉时必须填写理由');
  if ([...reason].length > MAX_APPEAL_TEXT) throw new AppealError(`理由不能超过 ${MAX_APPEAL_TEXT} 字`);
  await db.transaction().execute(async (trx) => {
    const now = new Date();
    const a = await trx
      .updateTable('appeal')
      .set({
        status: input.upheld ? 'upheld' : 'rejected',
        decision_reason: reason || null,
        decided_by: input.actor,
        decided_at: now,
        updated_at: now,
      })
      .where('id', '=', input.appealId)
      .where('status', 'in', ['open', 'answered'])
      .returning(['item_id', 'org_id', 'subject_bidx'])
      .executeTakeFirst();
    if (!a) throw new AppealError('申诉不存在或已处理');
    if (input.upheld) {
      const revoked = await trx
        .updateTable('arrears_item')
        .set({ state: '2', settled_at: now, updated_at: now })
        .where('id', '=', a.item_id)
        .where('state', '=', '0')
        .returning('subject_bidx')
        .execute();
      await refreshSubjects(
        trx,
        revoked.map((r) => r.subject_bidx),
      );
      if (notice && revoked.length > 0) await noticeItemChange(trx, notice, a.item_id, 'appeal.upheld', now);
    }
    await audit(
      trx,
      auditEvent('operator', input.actor, input.upheld ? 'appeal.uphold' : 'appeal.reject', {
        orgId: a.org_id,
        subject: a.subject_bidx,
        target: `appeal:${input.appealId}`,
        detail: reason || null,
      }),
    );
  });
}
