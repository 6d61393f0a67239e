import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { INTERFACES, SIGN_VERSION, SIGN_VERSION_HEADER, openReply, sealRequest, type InterfaceCode } from '@mdl/protocol';
import type { Caller } from '../../domain/credentials.js';
import type { Platform } from '../../platform.js';
import { cardCsrf, cardCsrfOk, csrfInput } from './card-csrf.js';
import { qrSvg, sendPage, str } from './common.js';
import { withoutSpaces } from '../form.js';
import {
  KIOSK_TITLE,
  homeForm,
  kioskFailure,
  qrOutcome,
  qrWaiting,
  scanForm,
  scanRefused,
  scanSucceeded,
  type KioskPatient,
} from './kiosk-views.js';
import { Fields, FormBody, type PageApp } from '../route-schemas.js';

/**
 * A demo hospital kiosk (自助机演示) for the two kiosk flows: 主扫 shows ORG_EHC_001's authUrl as a QR and
 * polls ORG_EHC_002; 被扫 takes the text a scanner types from the citizen's health code and calls
 * ORG_EHC_003. It acts as the hospital with one of the hospital's *test-environment* credentials and
 * calls the real gateway (signed, encrypted, through the same pipeline), so it shows exactly what a
 * hospital integration sees; production credentials are refused.
 */
export function kioskRoutes(app: PageApp, platform: Platform): void {
  async function kioskCaller(appId: string): Promise<Caller | string> {
    const c = appId ? await platform.credentials.get(appId) : undefined;
    if (!c || c.kind !== 'institution' || !c.orgId) return '应用 ID 不存在或不是医疗机构凭证';
    if (c.env !== 'test') return '自助机演示只能使用测试环境凭证';
    return c;
  }

  async function gateway(caller: Caller, code: InterfaceCode, payload: Record<string, unknown>) {
    const env = sealRequest(payload, { appId: caller.appId, secret: caller.secret });
    const res = await app.inject({
      method: 'POST',
      url: platform.config.apiPrefix + INTERFACES[code].path,
      headers: { 'content-type': 'application/json; charset=utf-8', [SIGN_VERSION_HEADER]: SIGN_VERSION },
      payload: JSON.stringify(env),
    });
    return openReply(res.json(), caller.secret, { allowPlain: false });
  }

  const fail = (reply: FastifyReply, msg: string, status = 400) => sendPage(reply, KIOSK_TITLE, kioskFailure(msg), { status });

  // Every kiosk form carries the /card CSRF token too (card-csrf.ts): a foreign page cannot make it act.
  const csrf = (req: FastifyRequest, reply: FastifyReply) =>
    csrfInput(cardCsrf(req, reply, platform.config.publicUrl.startsWith('https:')));
  const staleForm = (reply: FastifyReply) => fail(reply, '表单已失效或来源不明，请返回自助机首页重试。', 403);

  app.get('/card/kiosk', async (req, reply) => sendPage(reply, KIOSK_TITLE, homeForm(csrf(req, reply))));

  /** A wrong application id is an error beside its field on the kiosk's first page. */
  const badAppId = (req: FastifyRequest, reply: FastifyReply, appId: string, error: string) =>
    sendPage(reply, KIOSK_TITLE, homeForm(csrf(req, reply), appId, error), { status: 400 });

  // ---- 主扫: ORG_EHC_001, then the QR page polls ORG_EHC_002 -----------------------------------------
  app.post('/card/kiosk/qr', { schema: { body: FormBody } }, async (req, reply) => {
    if (!cardCsrfOk(req)) return staleForm(reply);
    const appId = withoutSpaces(str(req.body?.appId));
    const caller = await kioskCaller(appId);
    if (typeof caller === 'string') return badAppId(req, reply, appId, caller);
    const outAuthNo = `K${Date.now()}${randomBytes(4).toString('hex')}`;
    const r = await gateway(caller, 'ORG_EHC_001', { orgId: caller.orgId, outAuthNo });
    if (r.respCode !== '000000') return fail(reply, `发起授权失败：${r.respMsg}`);
    return reply.redirect(`/card/kiosk/qr?appId=${encodeURIComponent(caller.appId)}&no=${outAuthNo}`, 303);
  });

  app.get('/card/kiosk/qr', { schema: { querystring: Fields } }, async (req, reply) => {
    const q = req.query;
    const caller = await kioskCaller(str(q.appId));
    if (typeof caller === 'string') return fail(reply, caller);
    const outAuthNo = str(q.no);
    const r = await gateway(caller, 'ORG_EHC_002', { orgId: caller.orgId, outAuthNo });
    if (r.respCode !== '000000') return fail(reply, `查询授权结果失败：${r.respMsg}`);
    const status = String(r.payload?.authStatus);
    if (status !== 'ing') {
      const patient = status === 'succ' ? patientOf(r.payload) : undefined;
      return sendPage(reply, KIOSK_TITLE, qrOutcome(status, csrf(req, reply), caller.appId, patient));
    }
    // ORG_EHC_001 again with the same outAuthNo answers the same link while the session is open.
    const link = await gateway(caller, 'ORG_EHC_001', { orgId: caller.orgId, outAuthNo });
    if (link.respCode !== '000000') return fail(reply, `发起授权失败：${link.respMsg}`);
    const authUrl = String(link.payload?.authUrl);
    const body = qrWaiting(authUrl, await qrSvg(authUrl), caller.appId, outAuthNo);
    return sendPage(reply, KIOSK_TITLE, body, { scripts: ['/card/kiosk.js'] });
  });

  app.get('/card/kiosk/status', { schema: { querystring: Fields } }, async (req, reply) => {
    const q = req.query;
    const caller = await kioskCaller(str(q.appId));
    if (typeof caller === 'string') return reply.code(400).send({ error: caller });
    const r = await gateway(caller, 'ORG_EHC_002', { orgId: caller.orgId, outAuthNo: str(q.no) });
    // Only the state: the identity stays on the server side of the kiosk.
    return reply.header('cache-control', 'no-store').send({ respCode: r.respCode, authStatus: r.payload?.authStatus ?? null });
  });

  app.get('/card/kiosk.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').send(KIOSK_JS));

  // ---- 被扫: ORG_EHC_003 --------------------------------------------------------------------------
  app.post('/card/kiosk/scan', { schema: { body: FormBody } }, async (req, reply) => {
    if (!cardCsrfOk(req)) return staleForm(reply);
    const appId = withoutSpaces(str(req.body?.appId));
    const caller = await kioskCaller(appId);
    if (typeof caller === 'string') return badAppId(req, reply, appId, caller);
    return sendPage(reply, KIOSK_TITLE, scanForm(csrf(req, reply), caller.appId));
  });

  app.post('/card/kiosk/scan/verify', { schema: { body: FormBody } }, async (req, reply) => {
    if (!cardCsrfOk(req)) return staleForm(reply);
    const b = req.body ?? {};
    const caller = await kioskCaller(str(b.appId));
    if (typeof caller === 'string') return fail(reply, caller);
    // Sent as scanned (only the scanner's line end trimmed), so the platform judges the code, not the page.
    const code = typeof b.ehealthCode === 'string' ? b.ehealthCode.replace(/[\r\n]+$/, '') : '';
    const r = await gateway(caller, 'ORG_EHC_003', { orgId: caller.orgId, ehealthCode: code });
    const outcome = r.respCode === '000000' ? scanSucceeded(patientOf(r.payload)) : scanRefused(r.respCode, r.respMsg);
    const status = r.respCode === '000000' ? 200 : 400;
    return sendPage(reply, KIOSK_TITLE, scanForm(csrf(req, reply), caller.appId, outcome), { status });
  });
}

/** The patient in ORG_EHC_002/003's answer. */
function patientOf(payload: Record<string, unknown> | undefined): KioskPatient {
  return { userName: String(payload?.userName), idNo: String(payload?.idNo), cardNo: String(payload?.cardNo) };
}

/** Polls the state every two seconds and reloads the page once it changes (the page itself needs no JS). */
const KIOSK_JS = `(function(){
  var s=document.getElementById('kiosk-status');if(!s)return;
  var p=new URLSearchParams(location.search);
  var url='/card/kiosk/status?appId='+encodeURIComponent(p.get('appId')||'')+'&no='+encodeURIComponent(p.get('no')||'');
  function tick(){fetch(url,{cache:'no-store'}).then(function(r){return r.json()}).then(function(j){
    if(j.authStatus&&j.authStatus!==s.getAttribute('data-status')){location.reload();return}
    setTimeout(tick,2000)}).catch(function(){setTimeout(tick,4000)})}
  setTimeout(tick,2000);
})();`;
