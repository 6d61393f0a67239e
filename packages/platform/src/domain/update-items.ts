import { ITEM_STATES } from '@mdl/protocol';
import type { ResultItem, UpdateOverdueDataRequest } from '@mdl/protocol';
import type { Transaction, Updateable } from 'kysely';
import type { ArrearsItemTable, Batch, DB } from '../db/schema.js';
import type { AuditInput } from './audit.js';
import { type Applied, claimedKey, event, existingItems, personResult, type ProcessDeps, resolveSubject } from './batch-items.js';

/**
 * The item state machine of docs/decisions.md "Item states": 0 → 1 (paid), 0 → 2 (revoked), the same state
 * again is a no-op; anything else is refused with the reason. ORG_MDL_003 and the staff portal
 * (domain/item-state.ts) both ask here, so the two cannot drift apart.
 */
export function stateChangeProblem(from: '0' | '1' | '2', to: '1' | '2'): string | undefined {
  if (from !== '0' && from !== to) return `状态不能从 ${from}（${ITEM_STATES[from]}）改为 ${to}（${ITEM_STATES[to]}）`;
  return undefined;
}

/**
 * ORG_MDL_003 per item, by the state machine of docs/decisions.md "Item states": 0 → 1 (paid) and
 * 0 → 2 (revoked); the same state again is a no-op answered with success; everything else is refused
 * for that item with its current state and the reason. A real-name item needs the full identity,
 * matching its person (强校验), whatever the call carries; an identity on a non-real-name item converts
 * it to real name (§3.1.10).
 */
export async function applyUpdate(
  deps: ProcessDeps,
  trx: Transaction<DB>,
  batch: Batch,
  payload: UpdateOverdueDataRequest,
  events: AuditInput[],
): Promise<Applied> {
  // The items the call names, locked: what they are now, and the subjects they belong to before the batch.
  const existing = await existingItems(
    trx,
    batch.org_id,
    payload.itemList.map((i) => i.orgTraceId),
  );
  const who = { idNo: payload.idNo ?? '', userName: payload.userName ?? '' };
  const subject = await resolveSubject(deps, trx, batch.org_id, payload);
  const touched = new Set<string>();
  const now = new Date(deps.now());
  const items: ResultItem[] = [];
  const failures: { orgTraceId: string; msg: string }[] = [];
  for (const it of payload.itemList) {
    const row = existing.get(it.orgTraceId);
    const to = it.state as '1' | '2';
    let problem: string | undefined;
    if (!row || row.trace_id !== it.traceId) problem = '未找到对应的欠费记录（orgTraceId 与 traceId 不匹配）';
    else if ('problem' in subject) problem = subject.problem;
    else if (row.real_name && !subject.real) problem = '实名欠费记录的更新须提供 idNo、idType、userName、ehealthCardId 并通过强校验';
    else if (row.real_name && row.person_id !== subject.personId) problem = '身份信息与原欠费记录不一致';
    else problem = stateChangeProblem(row.state, to);
    if (problem || !row || 'problem' in subject) {
      failures.push({ orgTraceId: it.orgTraceId, msg: problem! });
      items.push({ orgTraceId: it.orgTraceId, traceId: row?.trace_id ?? it.traceId, state: row?.state ?? '2' });
      continue;
    }
    const set: Updateable<ArrearsItemTable> = { last_batch_id: batch.id, updated_at: now };
    if (subject.real && !row.real_name) {
      // §3.1.10: a non-real-name record becomes the person's, province-wide.
      Object.assign(set, {
        real_name: true,
        person_id: subject.personId,
        subject_bidx: subject.key,
        id_type: payload.idType,
        id_no_enc: deps.vault.encrypt(payload.idNo!.toUpperCase()),
        name_enc: deps.vault.encrypt(payload.userName!),
        ehealth_card_id: payload.ehealthCardId,
      });
    }
    if (row.state !== to) Object.assign(set, { state: to, settled_at: now });
    await trx.updateTable('arrears_item').set(set).where('id', '=', row.id).execute();
    touched.add((set.subject_bidx as string | undefined) ?? row.subject_bidx);
    items.push({ orgTraceId: it.orgTraceId, traceId: row.trace_id, state: to });
  }
  const accepted = items.length - failures.length;
  events.push(
    event(
      batch,
      'item.update',
      'problem' in subject ? claimedKey(deps.vault, payload) : subject.key || null,
      failures.length ? 'refused' : 'ok',
      {
        accepted,
        failures: failures.length ? failures : undefined,
      },
    ),
  );
  const before = [...existing.values()].map((i) => i.subject_bidx);
  return { persons: [personResult(who, items, failures)], accepted, rejected: failures.length, touched, before };
}
