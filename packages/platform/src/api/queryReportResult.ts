import { MdlError, RespCode } from '@mdl/protocol';
import { findBatch, readResult } from '../domain/batches.js';
import { institutionName } from '../domain/credentials.js';
import { defineApi } from './types.js';

/** ORG_MDL_005: the result of a batch, callback or not. */
export const queryReportResult = defineApi('ORG_MDL_005', {
  channelAllowed: false,
  async handle({ platform }, req) {
    const batch = await findBatch(platform.db, req.orgId, req.orgRequestId);
    if (!batch) throw new MdlError(RespCode.APP_BAD_REQUEST, `请求批次号 ${req.orgRequestId} 不存在`);
    // Still processing: the guide's fields have no such state, so the answer is the retryable -3 with
    // the reason (docs/decisions.md "Ledger"); the hospital SDK retries it with backoff.
    if (batch.status !== 'done') throw new MdlError(RespCode.APP_TIMEOUT, `批次 ${req.orgRequestId} 正在处理，请稍后再查询`);
    const result = readResult(platform.vault, batch);
    return {
      orgId: batch.org_id,
      orgName: (await institutionName(platform.db, req.orgId)) ?? '',
      reportResultList: result?.persons ?? [],
      extData: {
        notifyType: batch.kind,
        accepted: result?.accepted ?? 0,
        rejected: result?.rejected ?? 0,
        callbackStatus: batch.callback_status,
      },
    };
  },
});
