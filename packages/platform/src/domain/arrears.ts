import { MdlError, RespCode, documentProblem, epochMsToChinaTime, fenToYuan } from '@mdl/protocol';
import type { OverdueItem, QueryOverdueDataRequest, QueryOverdueDataResponse } from '@mdl/protocol';
import type { Kysely } from 'kysely';
import type { SubjectItem } from '../db/read-model.js';
import type { DB } from '../db/schema.js';
import type { Vault } from '../vault.js';
import type { Caller } from './credentials.js';
import { REASON_TEXT, decide, type Decision, type EligibilityPolicy } from './eligibility.js';
import { assertRealName } from './persons.js';
import type { InstitutionNames, SubjectReader } from './subjects.js';

export interface ArrearsQueryResult {
  response: QueryOverdueDataResponse;
  decision: Decision;
  subject: string;
}

/**
 * ORG_MDL_002, answered from the read model (domain/subjects.ts) in one primary-key look-up.
 *
 * What a caller sees (docs/decisions.md "Eligibility"):
 * - with `ehealthCardId` (an institution's real-name patient, or the 闽政通 channel): the person's
 *   province-wide real-name arrears after the 强校验, plus the calling institution's own non-real-name
 *   items under the same identity;
 * - an institution without `ehealthCardId` (a non-real-name patient, guide §1.2.2): only its own
 *   non-real-name items under that identity — nothing of other institutions without a verified card;
 * - the channel without a card: the person's real-name arrears, the name checked against the master index.
 * `next` is decided over all of that; `itemList` is narrowed to `orgId` when one is given (a filter, §4.3.2.2).
 * Authorization is applied here, where the rows are read: a non-real-name row is only ever matched through
 * a key that contains the caller's own orgId.
 */
export async function queryArrears(
  db: Kysely<DB>,
  vault: Vault,
  readModel: { reader: SubjectReader; names: InstitutionNames },
  caller: Caller,
  req: QueryOverdueDataRequest,
  policy: EligibilityPolicy,
  now: number,
): Promise<ArrearsQueryResult> {
  const problem = documentProblem(req.idType, req.idNo);
  if (problem) throw new MdlError(RespCode.INVALID_PARAM, problem);
  const personKey = vault.personKey(req.idType, req.idNo);
  const localOnly = caller.kind === 'institution' && !req.ehealthCardId;
  const localKey = caller.orgId ? vault.localKey(caller.orgId, req.idType, req.idNo, req.userName) : undefined;
  const keys = localOnly ? [localKey!] : localKey ? [personKey, localKey] : [personKey];
  const rows = await readModel.reader.read(keys);
  const personRow = localOnly ? undefined : rows.find((r) => r.subject_bidx === personKey);

  if (!localOnly) {
    // The 强校验, on the card and name the read model carries. A person with no read-model row yet (registered
    // by a path that had no item to refresh) is read from the master index instead.
    const card = personRow?.ehealth_card_id;
    const known = card ? { idKey: personKey, cardId: card, nameKey: personRow!.name_bidx } : undefined;
    await assertRealName(db, vault, req, known, personKey);
  }

  const unpaid: SubjectItem[] = [];
  for (const r of rows) {
    if (r.unpaid_count > 0 && (r === personRow || r.subject_bidx === localKey)) unpaid.push(...(JSON.parse(r.items) as SubjectItem[]));
  }
  if (rows.length > 1) unpaid.sort((a, b) => a[3] - b[3]);
  const decision = decide(
    policy,
    unpaid.map(([, , amountFen, at]) => ({ amountFen, actualTime: new Date(at) })),
    now,
  );
  const shown = req.orgId ? unpaid.filter((i) => i[0] === req.orgId) : unpaid;
  const orgNames = shown.length ? await readModel.names.names(shown.map((i) => i[0])) : undefined;
  const itemList: OverdueItem[] = shown.map(([orgId, itemName, amountFen, at]) => ({
    orgId,
    orgName: orgNames?.get(orgId) ?? '',
    itemName,
    amount: fenToYuan(amountFen),
    actualTime: epochMsToChinaTime(at),
    state: '0',
  }));
  return {
    subject: localOnly ? localKey! : personKey,
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
