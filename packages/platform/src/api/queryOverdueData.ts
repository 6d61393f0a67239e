import { queryArrears } from '../domain/arrears.js';
import { defineApi } from './types.js';

/** ORG_MDL_002: items and `next`; the decision and its reasons go to the audit trail. */
export const queryOverdueData = defineApi('ORG_MDL_002', {
  channelAllowed: true,
  orgIdIsFilter: true,
  async handle({ platform, caller, requestId }, req) {
    const policy = await platform.policy.get();
    const r = await queryArrears(platform.db, platform.vault, platform.readModel, caller, req, policy, platform.now());
    await platform.auditWriter.write({
      actor_type: 'app',
      actor_id: caller.appId,
      org_id: caller.orgId,
      subject_bidx: r.subject,
      action: 'arrears.query',
      target: req.businessType,
      outcome: 'ok',
      resp_code: '000000',
      request_id: requestId,
      detail: JSON.stringify({ next: r.decision.next, reasons: r.decision.reasons, unpaid: r.decision.unpaidCount }),
    });
    return r.response;
  },
});
