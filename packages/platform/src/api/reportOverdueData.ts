import { MdlError, RespCode } from '@mdl/protocol';
import type { AcceptResponse, ReportOverdueDataRequest } from '@mdl/protocol';
import { acceptBatch, batchProblem, notifyUrlProblem } from '../domain/batches.js';
import { defineApi } from './types.js';

/** ORG_MDL_001: accept, store, answer; processing and the ORG_002 callback follow as jobs. */
export const reportOverdueData = defineApi<ReportOverdueDataRequest, AcceptResponse>({
  code: 'ORG_MDL_001',
  channelAllowed: false,
  async handle({ platform, caller, requestId, plaintext }, req) {
    const problem = batchProblem('REPORT', req) ?? (await notifyUrlProblem(platform.db, caller, req.notifyUrl));
    if (problem) throw new MdlError(RespCode.INVALID_PARAM, problem);
    const count = (req.unsettleList ?? []).reduce((n, p) => n + p.itemList.length, 0);
    return acceptBatch(platform.acceptDeps, caller, 'REPORT', req, plaintext, count, requestId);
  },
});
