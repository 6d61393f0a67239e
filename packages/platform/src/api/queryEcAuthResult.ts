import { audit } from '../domain/audit.js';
import { cardView, getOrRegisterPerson } from '../domain/persons.js';
import { defineApi } from './types.js';

/** ORG_EHC_004: the insured person's card, registered on first sight of a well-formed identity. */
export const queryEcAuthResult = defineApi('ORG_EHC_004', {
  channelAllowed: false,
  async handle({ platform, caller, requestId }, req) {
    const { person, created } = await getOrRegisterPerson(platform.db, platform.vault, {
      idType: req.idType,
      idNo: req.idNo,
      userName: req.userName,
      psnNo: req.psnNo,
    });
    await audit(platform.db, {
      actor_type: 'app',
      actor_id: caller.appId,
      org_id: caller.orgId,
      subject_bidx: person.id_no_bidx,
      action: created ? 'ehc.register' : 'ehc.lookup',
      target: `type=${req.type}`,
      outcome: 'ok',
      resp_code: '000000',
      request_id: requestId,
      detail: null,
    });
    return cardView(platform.vault, person);
  },
});
