import { auditEvent } from '../domain/audit.js';
import { queryArrears } from '../domain/arrears.js';
import { defineApi } from './types.js';

/** ORG_MDL_002: items and `next`; the decision and its reasons go to the audit trail. */
export const queryOverdueData = defineApi('ORG_MDL_002', {
  channelAllowed: true,
  orgIdIsFilter: true,
  async handle({ platform, caller, requestId }, req) {
    const policy = await platform.policy.get();
    const r = await queryArrears(platform.db, platform.vault, platform.readModel, caller, req, policy, platform.now());
    await platform.auditWriter.write(
      auditEvent('app', caller.appId, 'arrears.query', {
        orgId: caller.orgId,
        subject: r.subject,
        target: req.businessType,
        respCode: '000000',
        requestId: requestId,
        detail: JSON.stringify({ next: r.decision.next, reasons: r.decision.reasons, unpaid: r.decision.unpaidCount }),
      }),
    );
    return r.response;
  },
});
