import { MdlError, RespCode } from '@mdl/protocol';
import { auditApp } from '../domain/audit.js';
import { personById } from '../domain/ehc/index.js';
import { effectiveStatus, findByOutAuthNo } from '../domain/ehc/sessions.js';
import { cardView } from '../domain/persons.js';
import { defineApi } from './types.js';

/**
 * ORG_EHC_002: the state of the institution's own session (outAuthNo is looked up under the caller's
 * orgId only, so another institution's number is simply unknown). Identity fields come only with `succ`,
 * and every answer that carries them is an audit event naming the institution and the person.
 */
export const queryAuthResult = defineApi('ORG_EHC_002', {
  channelAllowed: false,
  async handle({ platform, caller, requestId }, req) {
    const session = await findByOutAuthNo(platform.db, req.orgId, req.outAuthNo);
    if (!session) throw new MdlError(RespCode.APP_BAD_REQUEST, `外部授权流水号 ${req.outAuthNo} 不存在，请先调用 ORG_EHC_001`);
    const authStatus = effectiveStatus(session, platform.now());
    if (authStatus !== 'succ') return { authStatus };
    const person = await personById(platform.db, session.person_id!);
    if (!person) throw new Error(`session ${session.id} names a missing person`);
    await auditApp(platform.db, caller, 'ehc.auth.reveal', {
      orgId: req.orgId,
      subject: person.id_no_bidx,
      target: `outAuthNo=${req.outAuthNo}`,
      respCode: '000000',
      requestId: requestId,
      detail: `session=${session.id}; fields=ehealthCardId,cardNo,idType,idNo,userName,userSex,birthday,mobilePhone`,
    });
    return { ...cardView(platform.vault, person), authStatus };
  },
});
