import { MdlError, RespCode } from '@mdl/protocol';
import type { AcceptResponse, UpdateOverdueDataRequest } from '@mdl/protocol';
import { acceptBatch, batchProblem, notifyUrlProblem } from '../domain/batches.js';
import { defineApi } from './types.js';

/** ORG_MDL_003: paid / revoked, and non-real-name → real-name conversion (§3.1.10). */
export const updateOverdueData = defineApi<UpdateOverdueDataRequest, AcceptResponse>({
  code: 'ORG_MDL_003',
  channelAllowed: false,
  async handle({ platform, caller, requestId, plaintext }, req) {
    const problem = batchProblem('UPDATE', req) ?? (await notifyUrlProblem(platform.db, caller, req.notifyUrl));
    if (problem) throw new MdlError(RespCode.INVALID_PARAM, problem);
    return acceptBatch(platform.acceptDeps, caller, 'UPDATE', req, plaintext, req.itemList.length, requestId);
  },
});
