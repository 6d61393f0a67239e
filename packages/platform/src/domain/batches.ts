import { RespCode, sm3Hex, MAX_ITEMS_PER_CALL, identityProblem } from '@mdl/protocol';
import type { ReportOverdueDataRequest, UpdateOverdueDataRequest, ResultPerson } from '@mdl/protocol';
import type { Kysely } from 'kysely';
import type { Batch, DB } from '../db/schema.js';
import type { Vault } from '../vault.js';
import type { Caller } from './credentials.js';
import { auditEvent, audit } from './audit.js';

export type BatchKind = 'REPORT' | 'UPDATE';

/** What a processed batch produced: the lists of ORG_002 / ORG_MDL_005. */
export interface BatchResult {
  persons: ResultPerson[];
  accepted: number;
  rejected: number;
}

/**
 * Checks of the whole call that need more than one field (DESIGN.md "Limits", "Item identity"); each
 * is answered `state: fail` with the reason. A REPORT person's identity is checked per person during
 * processing (one bad person does not sink the others); an UPDATE carries one person, so its identity
 * is the call's.
 */
export function batchProblem(kind: BatchKind, payload: ReportOverdueDataRequest | UpdateOverdueDataRequest): string | undefined {
  const traceIds: string[] = [];
  if (kind === 'REPORT') {
    const p = payload as ReportOverdueDataRequest;
    for (const person of p.unsettleList ?? []) traceIds.push(...person.itemList.map((it) => it.orgTraceId));
  } else {
    const p = payload as UpdateOverdueDataRequest;
    const problem = identityProblem(p);
    if (problem) return problem;
    traceIds.push(...p.itemList.map((it) => it.orgTraceId));
  }
  if (traceIds.length > MAX_ITEMS_PER_CALL) return `单次最多 ${MAX_ITEMS_PER_CALL} 条项目，本次 ${traceIds.length} 条，请分批调用`;
  if (new Set(traceIds).size !== traceIds.length) return '同一批次内机构跟踪号(orgTraceId)重复';
  return undefined;
}

/** The answer of ORG_MDL_001 / ORG_MDL_003 (§4.3.1.3): `fail` means the platform did not take the call. */
export type AcceptAnswer = { state: 'success' | 'fail'; msg: string; extData?: Record<string, unknown> };

/**
 * Fields the guide does not have are ignored but named in the answer (docs/decisions.md "Unknown
 * fields"): a misspelt `ehealthCardID` must not vanish without a word. `msg` holds at most 100 characters;
 * `extData.unknownFields` has them all.
 */
export function withUnknownFields(answer: AcceptAnswer, unknown: string[]): AcceptAnswer {
  if (unknown.length === 0) return answer;
  const note = `；未识别的字段已忽略：${unknown.join('、')}`;
  const msg = [...(answer.msg + note)].length <= 100 ? answer.msg + note : [...(answer.msg + note)].slice(0, 99).join('') + '…';
  return { ...answer, msg, extData: { ...answer.extData, unknownFields: unknown } };
}

/**
 * A production credential may only have results sent to hosts its institution registered
 * (DESIGN.md "notifyUrl"): the platform must not call into arbitrary networks on a hospital's say-so.
 */
export async function notifyUrlProblem(db: Kysely<DB>, caller: Caller, notifyUrl: string): Promise<string | undefined> {
  if (caller.env !== 'prod' || !caller.orgId) return undefined;
  const inst = await db.selectFrom('institution').select('notify_hosts').where('org_id', '=', caller.orgId).executeTakeFirst();
  const hosts = inst ? (JSON.parse(inst.notify_hosts) as string[]) : [];
  const host = new URL(notifyUrl).hostname.toLowerCase();
  return hosts.map((h) => h.toLowerCase()).includes(host) ? undefined : `回调地址主机 ${host} 未在机构登记的回调主机列表中`;
}

export interface AcceptDeps {
  db: Kysely<DB>;
  vault: Vault;
  /** Enqueues the processing job inside the same transaction as the batch row, with the request that caused it. */
  enqueue(trx: Kysely<DB>, batchId: number, requestId: string): Promise<void>;
}

/**
 * Stores a batch exactly once per (orgId, orgRequestId). The same request again gets the same answer;
 * another payload under a used orgRequestId is refused with the guide's `state: fail` (DESIGN.md "Batch identity").
 */
export async function acceptBatch(
  deps: AcceptDeps,
  caller: Caller,
  kind: BatchKind,
  payload: ReportOverdueDataRequest | UpdateOverdueDataRequest,
  plaintext: string,
  itemCount: number,
  requestId: string,
): Promise<AcceptAnswer> {
  const hash = sm3Hex(plaintext);
  return deps.db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('batch')
      .values({
        org_id: payload.orgId,
        org_request_id: payload.orgRequestId,
        kind,
        app_id: caller.appId,
        payload_hash: hash,
        payload_enc: deps.vault.encrypt(plaintext),
        notify_url: payload.notifyUrl,
        item_count: itemCount,
        status: 'received',
        callback_status: 'pending',
        request_id: requestId,
        accepted_count: null,
        rejected_count: null,
        result_enc: null,
        processed_at: null,
        delivered_at: null,
      })
      .onConflict((oc) => oc.columns(['org_id', 'org_request_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) {
      const existing = await trx
        .selectFrom('batch')
        .select(['payload_hash', 'kind'])
        .where('org_id', '=', payload.orgId)
        .where('org_request_id', '=', payload.orgRequestId)
        .executeTakeFirstOrThrow();
      if (existing.payload_hash !== hash || existing.kind !== kind) {
        // A business answer, not a format error (docs/error-codes.md): the guide's `state: fail` with the reason.
        return { state: 'fail' as const, msg: `请求批次号 ${payload.orgRequestId} 已被使用，且内容不同，本次未接收` };
      }
      return { state: 'success' as const, msg: '该批次已接收，处理结果以回调或查询为准' };
    }
    await deps.enqueue(trx, inserted.id, requestId);
    await audit(
      trx,
      auditEvent('app', caller.appId, kind === 'REPORT' ? 'batch.report.accept' : 'batch.update.accept', {
        orgId: payload.orgId,
        target: payload.orgRequestId,
        respCode: RespCode.SUCCESS,
        requestId,
        detail: JSON.stringify({ items: itemCount }),
      }),
    );
    return { state: 'success' as const, msg: '已接收' };
  });
}

export async function findBatch(db: Kysely<DB>, orgId: string, orgRequestId: string): Promise<Batch | undefined> {
  return db.selectFrom('batch').selectAll().where('org_id', '=', orgId).where('org_request_id', '=', orgRequestId).executeTakeFirst();
}

export function readResult(vault: Vault, batch: Batch): BatchResult | undefined {
  return batch.result_enc ? (JSON.parse(vault.decrypt(batch.result_enc)) as BatchResult) : undefined;
}
