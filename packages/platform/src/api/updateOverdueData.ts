import { INTERFACES, unknownFields } from '@mdl/protocol';
import { acceptBatch, batchProblem, notifyUrlProblem, withUnknownFields } from '../domain/batches.js';
import { defineApi } from './types.js';

/**
 * ORG_MDL_003: paid / revoked (and 转实名 of a non-real-name item, §3.1.10), checked per item in
 * processing against the state machine of docs/decisions.md "Item states". A call the platform does
 * not take is answered `state: fail` with the reason (§4.3.3.3).
 */
export const updateOverdueData = defineApi('ORG_MDL_003', {
  channelAllowed: false,
  async handle({ platform, caller, requestId, plaintext }, req) {
    const unknown = unknownFields(INTERFACES.ORG_MDL_003.request, req);
    const problem = batchProblem('UPDATE', req) ?? (await notifyUrlProblem(platform.db, caller, req.notifyUrl));
    if (problem) return withUnknownFields({ state: 'fail', msg: problem }, unknown);
    return withUnknownFields(
      await acceptBatch(platform.acceptDeps, caller, 'UPDATE', req, plaintext, req.itemList.length, requestId),
      unknown,
    );
  },
});
