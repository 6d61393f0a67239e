import { MdlError, RespCode, documentProblem } from '@mdl/protocol';
import { auditApp } from '../domain/audit.js';
import { entryUrl, issueEntryToken } from '../domain/citizen/tokens.js';
import { assertRealName } from '../domain/persons.js';
import { defineApi } from './types.js';

/**
 * ORG_MDL_004: an entry link to the citizen app for one person. The caller has already authenticated
 * the person (闽政通 real-name login, or the hospital portal with the e-health card); the link carries a
 * random token good for one session within `mdrTokenTtlMs`.
 */
export const getIntoMdlUrl = defineApi('ORG_MDL_004', {
  channelAllowed: true,
  async handle({ platform, caller, requestId }, req) {
    const { db, vault, config } = platform;
    // The guide marks orgId and ehealthCardId required for institutions (portal channel); 闽政通 has neither.
    if (caller.kind === 'institution') {
      if (!req.orgId) throw new MdlError(RespCode.INVALID_PARAM, '机构 id(orgId) 不能为空');
      if (!req.ehealthCardId) throw new MdlError(RespCode.INVALID_PARAM, '电子健康卡主索引 id(ehealthCardId) 不能为空');
    }
    const problem = documentProblem(req.idType, req.idNo);
    if (problem) throw new MdlError(RespCode.INVALID_PARAM, problem);
    const person = await assertRealName(db, vault, req);
    const subjectBidx = vault.personKey(req.idType, req.idNo);
    const localBidx = caller.orgId ? vault.localKey(caller.orgId, req.idType, req.idNo, req.userName) : null;
    const { token, expiresAt } = await issueEntryToken(
      db,
      { subjectBidx, localBidx, personId: person?.id ?? null, appId: caller.appId, orgId: caller.orgId },
      platform.now(),
      config.mdrTokenTtlMs,
    );
    const mdrUrl = entryUrl(config.publicUrl, token);
    if (mdrUrl.length > 200) throw new MdlError(RespCode.SYSTEM_ERROR, '应用入口链接超长，请检查 PUBLIC_URL 配置');
    await auditApp(db, caller, 'mdr.link', {
      orgId: caller.orgId,
      subject: subjectBidx,
      respCode: '000000',
      requestId: requestId,
      detail: JSON.stringify({ expiresAt: expiresAt.toISOString(), known: Boolean(person) }),
    });
    return { mdrUrl, extData: { expiresAt: expiresAt.toISOString() } };
  },
});
