import { MdlError, RespCode } from '@mdl/protocol';
import { auditApp } from '../domain/audit.js';
import { personById } from '../domain/ehc/index.js';
import { cardView } from '../domain/persons.js';
import { spendCode } from '../domain/ehc/spent-codes.js';
import { defineApi } from './types.js';

/**
 * ORG_EHC_003 (被扫): verifies the dynamic health code a citizen shows and answers the card, once: the
 * first institution to verify a code spends it (a screenshot replayed elsewhere is refused, -2). A code
 * that is malformed (000105), from another environment, forged or expired (-2) is refused with the precise reason and
 * no identity (docs/decisions.md); refusals are audited too, so a kiosk guessing codes is visible.
 */
export const verifyQrCode = defineApi('ORG_EHC_003', {
  channelAllowed: false,
  async handle({ platform, caller, requestId }, req) {
    const now = platform.now();
    const check = platform.ehc.codes.verify(req.ehealthCode, now);
    const spent = check.ok && !(await spendCode(platform.db, check.codeId, req.orgId, check.expiresAt, now));
    const person = check.ok && !spent ? await personById(platform.db, check.personId) : undefined;
    const refusal = !check.ok
      ? check
      : spent
        ? { reason: 'spent', message: '健康码已被核验过，请患者刷新后重新出示' }
        : person
          ? undefined
          : { reason: 'no_card', message: '健康码对应的电子健康卡不存在' };
    // A code that is not one at all fails the field rule (000105); a well-formed code that is expired, forged, of
    // another environment or of no card is a business refusal (-2, docs/error-codes.md).
    const code = refusal?.reason === 'malformed' ? RespCode.INVALID_PARAM : RespCode.APP_BAD_REQUEST;
    await auditApp(platform.db, caller, 'ehc.code.verify', {
      orgId: req.orgId,
      subject: person?.id_no_bidx ?? null,
      target: refusal ? `refused=${refusal.reason}` : 'ok',
      outcome: refusal ? 'refused' : 'ok',
      respCode: refusal ? code : RespCode.SUCCESS,
      requestId: requestId,
      detail: refusal ? null : 'fields=ehealthCardId,cardNo,cardType,idType,idNo,userName',
    });
    if (refusal) throw new MdlError(code, refusal.message);
    // Only the guide's required fields: sex, birthday and phone are optional there and a kiosk that scans a
    // code does not need them.
    const { userSex: _sex, birthday: _birthday, mobilePhone: _phone, ...required } = cardView(platform.vault, person!);
    return required;
  },
});
