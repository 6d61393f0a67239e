import type { QueryEcAuthResultRequest, QueryEcAuthResultResponse } from '@mdl/protocol';
import { auditEvent, audit } from '../domain/audit.js';
import { cardView, getOrRegisterPerson } from '../domain/persons.js';
import { defineApi } from './types.js';

/** ORG_EHC_004: the insured person's card, registered on first sight of a well-formed identity. */
export const queryEcAuthResult = defineApi<QueryEcAuthResultRequest, QueryEcAuthResultResponse>({
  code: 'ORG_EHC_004',
  channelAllowed: false,
  async handle({ platform, caller, requestId }, req) {
    const { person, created } = await getOrRegisterPerson(platform.db, platform.vault, {
      idType: req.idType,
      idNo: req.idNo,
      userName: req.userName,
      psnNo: req.psnNo,
    });
    await audit(
      platform.db,
      auditEvent('app', caller.appId, created ? 'ehc.register' : 'ehc.lookup', {
        orgId: caller.orgId,
        subject: person.id_no_bidx,
        target: `type=${req.type}`,
        respCode: '000000',
        requestId,
      }),
    );
    return cardView(platform.vault, person);
  },
});
