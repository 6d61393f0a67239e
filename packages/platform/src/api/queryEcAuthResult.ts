import { auditApp } from '../domain/audit.js';
import { cardView, getOrRegisterPerson } from '../domain/persons.js';
import { defineApi } from './types.js';

/**
 * ORG_EHC_004: the insured person's card. With the built-in registry it is registered on first sight of a
 * well-formed identity; with MDL_EHC_REGISTRY=upstream the city's system checks type, psnNo, cardNo and
 * insuplcAdmdvs and issues the card, and the platform only mirrors it (domain/ehc/upstream.ts).
 */
export const queryEcAuthResult = defineApi('ORG_EHC_004', {
  channelAllowed: false,
  async handle({ platform, caller, requestId }, req) {
    const registry = platform.ehc.registry;
    const { person, created } =
      registry.kind === 'upstream'
        ? await registry.insured(req, { orgId: caller.orgId, requestId })
        : await getOrRegisterPerson(
            platform.db,
            platform.vault,
            { idType: req.idType, idNo: req.idNo, userName: req.userName },
            // An institution's 医保 identity outranks a name typed at /card 领卡 (domain/ehc/self-registration.ts).
            { verifiedBy: caller.appId },
          );
    await auditApp(platform.db, caller, created ? 'ehc.register' : 'ehc.lookup', {
      orgId: caller.orgId,
      subject: person.id_no_bidx,
      target: `type=${req.type}`,
      respCode: '000000',
      requestId: requestId,
    });
    return cardView(platform.vault, person);
  },
});
