import { randomBytes } from 'node:crypto';
import { sm3Hex } from '@mdl/protocol';
import type { ResultPerson } from '@mdl/protocol';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Vault } from '../vault.js';
import { auditSystem } from './audit.js';
import type { BatchResult } from './batches.js';

/**
 * Changes the platform makes to an item on its own (an upheld appeal revokes it, a citizen refresh
 * settles it) are pushed to the hospital's HIS as an ORG_002 `UPDATE` notice (docs/decisions.md
 * "Platform-side changes"), so the two do not drift apart. The notice is a batch of its own: it is
 * delivered, retried, shown in the console and answered by ORG_MDL_005 exactly like a callback, under
 * an orgRequestId starting with `PLT` that the hospital never sent.
 */
export interface NoticeDeps {
  vault: Vault;
  /** Enqueues the ORG_002 delivery in the same transaction. */
  enqueueCallback(trx: Kysely<DB>, batchId: number): Promise<void>;
}

export type NoticeReason = 'appeal.upheld' | 'citizen.refresh' | 'staff.settle' | 'staff.revoke';

const REASON_TEXT: Record<NoticeReason, string> = {
  'appeal.upheld': '患者申诉成立，平台已撤销该欠费记录',
  'citizen.refresh': '患者通过医疗欠费名单用户应用查询院内结算结果，平台已按院内状态更新',
  'staff.settle': '本机构工作人员在平台机构门户将该欠费记录标记为已缴清',
  'staff.revoke': '本机构工作人员在平台机构门户撤销了该欠费记录',
};

/** Writes the notice for items already changed in `trx` and enqueues its delivery. No address known: nothing sent. */
export async function noticeItemChange(
  trx: Kysely<DB>,
  deps: NoticeDeps,
  itemId: number,
  reason: NoticeReason,
  now: Date,
): Promise<number | undefined> {
  const row = await trx
    .selectFrom('arrears_item as i')
    .innerJoin('batch as b', 'b.id', 'i.last_batch_id')
    .select([
      'i.org_id',
      'i.org_trace_id',
      'i.trace_id',
      'i.state',
      'i.id_no_enc',
      'i.name_enc',
      'i.subject_bidx',
      'b.app_id',
      'b.notify_url',
    ])
    .where('i.id', '=', itemId)
    .executeTakeFirst();
  if (!row) return undefined;
  const person: ResultPerson = {
    idNo: row.id_no_enc ? deps.vault.decrypt(row.id_no_enc) : '',
    userName: row.name_enc ? deps.vault.decrypt(row.name_enc) : '',
    itemList: [{ orgTraceId: row.org_trace_id, traceId: row.trace_id, state: row.state }],
    extData: { source: 'platform', reason, msg: REASON_TEXT[reason] },
  };
  const result: BatchResult = { persons: [person], accepted: 1, rejected: 0 };
  const body = JSON.stringify({ source: 'platform', reason, traceId: row.trace_id, state: row.state });
  const orgRequestId = `PLT${now.getTime().toString(36).toUpperCase()}${randomBytes(8).toString('hex').toUpperCase()}`;
  const inserted = await trx
    .insertInto('batch')
    .values({
      org_id: row.org_id,
      org_request_id: orgRequestId,
      kind: 'UPDATE',
      app_id: row.app_id,
      payload_hash: sm3Hex(body),
      payload_enc: deps.vault.encrypt(body),
      notify_url: row.notify_url,
      item_count: 1,
      status: 'done',
      callback_status: 'pending',
      request_id: null,
      accepted_count: 1,
      rejected_count: 0,
      result_enc: deps.vault.encrypt(JSON.stringify(result)),
      processed_at: now,
      delivered_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await deps.enqueueCallback(trx, inserted.id);
  await auditSystem(trx, 'notice.update', {
    orgId: row.org_id,
    subject: row.subject_bidx,
    target: orgRequestId,
    detail: JSON.stringify({ reason, traceId: row.trace_id, state: row.state }),
  });
  return inserted.id;
}
