import { MdlError, RespCode, documentProblem, epochMsToChinaTime, fenToYuan } from '@mdl/protocol';
import type { OverdueItem, QueryOverdueDataRequest, QueryOverdueDataResponse } from '@mdl/protocol';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Vault } from '../vault.js';
import type { Caller } from './credentials.js';
import { REASON_TEXT, decide, type Decision, type EligibilityPolicy } from './eligibility.js';
import { findPersonByIdentity } from './persons.js';

export interface ArrearsQueryResult {
  response: QueryOverdueDataResponse;
  decision: Decision;
  subject: string;
}

/**
 * ORG_MDL_002. The person's province-wide real-name arrears plus the caller's own non-real-name items
 * decide `next`; `itemList` is narrowed to `orgId` when one is given (DESIGN.md "Eligibility").
 * Authorization is applied here, where the rows are read: a non-real-name row is only ever matched
 * through a key that contains the caller's own orgId.
 */
export async function queryArrears(
  db: Kysely<DB>,
  vault: Vault,
  caller: Caller,
  req: QueryOverdueDataRequest,
  policy: EligibilityPolicy,
  now: number,
): Promise<ArrearsQueryResult> {
  if (caller.kind === 'institution' && !req.ehealthCardId) {
    throw new MdlError(RespCode.INVALID_PARAM, '电子健康卡主索引 id(ehealthCardId) 不能为空');
  }
  const problem = documentProblem(req.idType, req.idNo);
  if (problem) throw new MdlError(RespCode.INVALID_PARAM, problem);
  const subject = vault.personKey(req.idType, req.idNo);
  const subjects = [subject];
  if (caller.orgId) subjects.push(vault.localKey(caller.orgId, req.idType, req.idNo, req.userName));
  // The items need only the blind indexes, so both reads go out at once.
  const [person, rows] = await Promise.all([
    findPersonByIdentity(db, vault, req.idType, req.idNo),
    db
      .selectFrom('arrears_item as i')
      .innerJoin('institution as o', 'o.org_id', 'i.org_id')
      .select(['i.org_id', 'o.org_name', 'i.item_name', 'i.amount_fen', 'i.actual_time', 'i.state'])
      .where('i.subject_bidx', 'in', subjects)
      .where('i.state', '=', '0')
      .orderBy('i.actual_time')
      .execute(),
  ]);
  if (req.ehealthCardId && (!person || person.ehealth_card_id !== req.ehealthCardId)) {
    throw new MdlError(RespCode.APP_BAD_REQUEST, person ? '电子健康卡主索引与证件信息不一致' : '电子健康卡主索引不存在');
  }
  if (person && person.name_bidx !== vault.nameKey(req.userName)) {
    throw new MdlError(RespCode.APP_BAD_REQUEST, '姓名与证件信息不一致');
  }
  const decision = decide(
    policy,
    rows.map((r) => ({ amountFen: r.amount_fen, actualTime: r.actual_time })),
    now,
  );
  const itemList: OverdueItem[] = rows
    .filter((r) => !req.orgId || r.org_id === req.orgId)
    .map((r) => ({
      orgId: r.org_id,
      orgName: r.org_name,
      itemName: r.item_name,
      amount: fenToYuan(r.amount_fen),
      actualTime: epochMsToChinaTime(r.actual_time.getTime()),
      state: r.state,
    }));
  return {
    subject,
    decision,
    response: {
      next: decision.next,
      itemList,
      extData: {
        reasons: decision.reasons,
        reasonText: decision.reasons.map((r) => REASON_TEXT[r]).join('；'),
        unpaidCount: decision.unpaidCount,
        unpaidTotal: fenToYuan(decision.unpaidTotalFen),
      },
    },
  };
}
