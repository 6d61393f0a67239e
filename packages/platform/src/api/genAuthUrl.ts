import { MdlError, RespCode, type GenAuthUrlResponse } from '@mdl/protocol';
import { auditApp } from '../domain/audit.js';
import { openSession } from '../domain/ehc/sessions.js';
import { defineApi } from './types.js';

/**
 * ORG_EHC_001: opens an authorization session and answers the link to the card page (authUrl, also
 * shown as a QR by kiosks), plus the mini-program jump of guide §4.5.1.3 when the real mini-program is
 * configured. `extData.authAppId` / `authBackUrl` / `authSource` say where the mini-program returns to.
 */
export const genAuthUrl = defineApi('ORG_EHC_001', {
  channelAllowed: false,
  async handle({ platform, caller, requestId }, req) {
    const ext = req.extData ?? {};
    const authAppId = optText(ext.authAppId, 'extData.authAppId', 40);
    const authBackUrl = optText(ext.authBackUrl, 'extData.authBackUrl', 200);
    const authSource = optText(ext.authSource, 'extData.authSource', 8) || 'WX_MINI';
    if (authSource !== 'WX_MINI' && authSource !== 'WX')
      throw new MdlError(RespCode.INVALID_PARAM, 'extData.authSource 只能是 WX_MINI 或 WX');
    const svc = platform.ehc;
    const { session, authUrl } = await openSession(
      svc.sessions,
      { orgId: req.orgId, appId: caller.appId, outAuthNo: req.outAuthNo },
      platform.now(),
    );
    const minutes = Math.round((session.expires_at.getTime() - platform.now()) / 60_000);
    const reply: GenAuthUrlResponse = { authUrl, remark: `请在 ${Math.max(minutes, 1)} 分钟内完成授权，并轮询 ORG_EHC_002 获取结果` };
    const c = platform.config;
    if (c.ehcWxMiniAppId) {
      const encdata = authUrl.slice(authUrl.lastIndexOf('/') + 1);
      const wxMiniPath =
        `${c.ehcWxMiniPath}?encdata=${encdata}&authAppId=${encodeURIComponent(authAppId)}` +
        `&authBackUrl=${encodeURIComponent(authBackUrl)}&authSource=${authSource}`;
      if (wxMiniPath.length > 300) throw new MdlError(RespCode.INVALID_PARAM, 'extData.authBackUrl 过长：小程序路径不能超过 300 个字符');
      reply.wxMiniAppId = c.ehcWxMiniAppId;
      reply.wxMiniPath = wxMiniPath;
    }
    await auditApp(platform.db, caller, 'ehc.auth.open', {
      orgId: req.orgId,
      target: `outAuthNo=${req.outAuthNo}`,
      respCode: '000000',
      requestId: requestId,
      detail: `session=${session.id}`,
    });
    return reply;
  },
});

function optText(v: unknown, name: string, max: number): string {
  if (v === undefined || v === null || v === '') return '';
  if (typeof v !== 'string' || v.length > max) throw new MdlError(RespCode.INVALID_PARAM, `${name} 应为不超过 ${max} 个字符的字符串`);
  return v;
}
