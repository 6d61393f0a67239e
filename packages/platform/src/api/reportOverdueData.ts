import { INTERFACES, unknownFields } from '@mdl/protocol';
import { acceptBatch, batchProblem, notifyUrlProblem, withUnknownFields } from '../domain/batches.js';
import { defineApi } from './types.js';

/**
 * ORG_MDL_001: accept, store, answer; processing and the ORG_002 callback follow as jobs. A call the
 * platform does not take is answered `state: fail` with the reason (§4.3.1.3).
 */
export const reportOverdueData = defineApi('ORG_MDL_001', {
  channelAllowed: false,
  async handle({ platform, caller, requestId, plaintext }, req) {
    const unknown = unknownFields(INTERFACES.ORG_MDL_001.request, req);
    const problem = batchProblem('REPORT', req) ?? (await notifyUrlProblem(platform.db, caller, req.notifyUrl));
    if (problem) return withUnknownFields({ state: 'fail', msg: problem }, unknown);
    const count = (req.unsettleList ?? []).reduce((n, p) => n + p.itemList.length, 0);
    return withUnknownFields(await acceptBatch(platform.acceptDeps, caller, 'REPORT', req, plaintext, count, requestId), unknown);
  },
});
