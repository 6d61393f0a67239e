import { MdlError, RespCode } from '@mdl/protocol';
import type { QueryReportResultRequest, QueryReportResultResponse } from '@mdl/protocol';
import { findBatch, readResult } from '../domain/batches.js';
import { defineApi } from './types.js';

/** ORG_MDL_005: the result of a batch, callback or not. */
export const queryReportResult = defineApi<QueryReportResultRequest, QueryReportResultResponse>({
  code: 'ORG_MDL_005',
  channelAllowed: false,
  async handle({ platform }, req) {
    const batch = await findBatch(platform.db, req.orgId, req.orgRequestId);
    if (!batch) throw new MdlError(RespCode.APP_BAD_REQUEST, `请求批次号 ${req.orgRequestId} 不存在`);
    const inst = await platform.db.selectFrom('institution').select('org_name').where('org_id', '=', req.orgId).executeTakeFirst();
    const result = readResult(platform.vault, batch);
    return {
      orgId: batch.org_id,
      orgName: inst?.org_name ?? '',
      reportResultList: result?.persons ?? [],
      extData: {
        notifyType: batch.kind,
        status: batch.status === 'done' ? 'done' : 'processing',
        accepted: result?.accepted ?? 0,
        rejected: result?.rejected ?? 0,
        callbackStatus: batch.callback_status,
      },
    };
  },
});
