import type { FastifyRequest } from 'fastify';
import { ID_TYPES, chinaClock, maskIdNo, maskName } from '@mdl/protocol';
import { auditCitizen, type AuditAction } from '../../domain/audit.js';
import { institutionName } from '../../domain/credentials.js';
import type { Person } from '../../domain/persons.js';
import { CITIZEN_COOKIE, readCardSession } from '../../domain/ehc/citizen.js';
import { personById } from '../../domain/ehc/index.js';
import { authPath, decide, effectiveStatus, findByToken } from '../../domain/ehc/sessions.js';
import type { Platform } from '../../platform.js';
import { h, type Html } from '../html.js';
import { cardCsrf, cardCsrfOk, csrfInput } from './card-csrf.js';
import { qrSvg, sendPage, str } from './common.js';
import { identityFields, signInRoutes, STALE_FORM } from './sign-in.js';
import { FormBody, TokenParams, type PageApp } from '../route-schemas.js';

/**
 * The citizen's e-health-card pages, standing in for the WeChat mini-program: sign in or 领卡, authorize
 * or refuse a hospital's request (ORG_EHC_001's authUrl), and show the dynamic health code (被扫).
 * Plain forms and a Refresh header: everything works without JavaScript.
 */
export function citizenRoutes(app: PageApp, platform: Platform): void {
  const svc = platform.ehc;
  const vault = platform.vault;
  const db = platform.db;
  signInRoutes(app, platform);

  async function signedIn(req: FastifyRequest): Promise<Person | undefined> {
    const id = await readCardSession(db, req.cookies[CITIZEN_COOKIE], platform.now());
    return id === undefined ? undefined : personById(db, id);
  }

  function citizenAudit(person: Person, action: AuditAction, target: string | null, requestId: string): Promise<void> {
    return auditCitizen(db, `card:${person.card_no}`, action, { subject: person.id_no_bidx, target, requestId });
  }

  const secure = () => platform.config.publicUrl.startsWith('https:');
  const logoutButton = (csrf: string) =>
    h`<form method="post" action="/card/logout">${csrfInput(csrf)}<button class="secondary" type="submit">退出</button></form>`;

  // ---- authorization (ORG_EHC_001's authUrl) ----------------------------------------------------
  const REQUESTED_DATA = ['姓名', '证件类型及号码', '电子健康卡号', '性别、出生日期', '手机号'];
  app.get('/card/auth/:token', { schema: { params: TokenParams } }, async (req, reply) => {
    const { token } = req.params;
    const session = await findByToken(db, vault, token);
    if (!session) return sendPage(reply, '电子健康卡授权', notice('bad', '授权链接无效，请回到医院页面重新发起授权。'), { status: 404 });
    const orgName = (await institutionName(db, session.org_id)) ?? session.org_id;
    const status = effectiveStatus(session, platform.now());
    const me = await signedIn(req);
    const here = authPath(token);
    if (status !== 'ing') {
      const text = {
        succ: h`<div class="notice ok"><p class="big">授权成功</p><p>已将您的电子健康卡信息授权给 ${orgName}，请返回医院页面或自助机继续办理。</p></div>`,
        cancel: notice('', `您已拒绝向 ${orgName} 授权，医院不会获得您的电子健康卡信息。如需办理，请在医院重新发起。`),
        fail: notice('bad', '授权已过期，请回到医院页面或自助机重新发起授权。'),
      }[status];
      return sendPage(reply, '电子健康卡授权', h`${text}<p class="center"><a href="/card">查看我的电子健康卡</a></p>`);
    }
    // What is asked, as a list one can read, and how long is left rather than only a clock time (the pages
    // run no script: the minutes are as of opening the page, the clock time says when exactly).
    const minutesLeft = Math.max(1, Math.ceil((session.expires_at.getTime() - platform.now()) / 60_000));
    const request = h`<div class="card"><p class="big">${orgName}</p>
<p>申请获取您的电子健康卡信息（以下各项），用于先诊后付就医时查询和登记医疗欠费记录：</p>
<ul id="requested-data">${REQUESTED_DATA.map((x) => h`<li>${x}</li>`)}</ul>
<p id="auth-countdown">授权请求还剩 <strong>约 ${minutesLeft} 分钟</strong>，请在 ${chinaClock(session.expires_at.getTime())} 前完成；过期后需回到医院重新发起。</p></div>`;
    const csrf = cardCsrf(req, reply, secure());
    const refuse = h`<form method="post" action="${here}">${csrfInput(csrf)}<input type="hidden" name="decision" value="deny"><button class="secondary" type="submit">拒绝授权</button></form>`;
    if (!me) {
      const body = h`${request}${identityFields('login', here, csrf, {}, {})}
<p class="center">还没有电子健康卡？<a href="/card/register?next=${encodeURIComponent(here)}">立即领卡</a></p>`;
      return sendPage(reply, '电子健康卡授权', body);
    }
    const body = h`${request}<div class="card"><p>当前电子健康卡</p>${cardSummary(me)}
<form method="post" action="/card/logout">${csrfInput(csrf)}<input type="hidden" name="next" value="${here}"><button class="secondary" type="submit" style="margin-top:.5rem">不是本人？切换账号</button></form></div>
<div class="actions"><form method="post" action="${here}">${csrfInput(csrf)}<input type="hidden" name="decision" value="allow"><button type="submit">同意授权</button></form>${refuse}</div>`;
    return sendPage(reply, '电子健康卡授权', body);
  });

  app.post('/card/auth/:token', { schema: { params: TokenParams, body: FormBody } }, async (req, reply) => {
    const { token } = req.params;
    const decision = str((req.body ?? {}).decision);
    if (!cardCsrfOk(req)) return sendPage(reply, '表单已失效', STALE_FORM, { status: 403 });
    const session = await findByToken(db, vault, token);
    if (!session) return sendPage(reply, '电子健康卡授权', notice('bad', '授权链接无效，请回到医院页面重新发起授权。'), { status: 404 });
    const here = authPath(token);
    const me = await signedIn(req);
    if (decision === 'allow') {
      if (!me) return reply.redirect(`/card/login?next=${encodeURIComponent(here)}`, 303);
      const done = await decide(db, session.id, { status: 'succ', personId: me.id }, platform.now());
      if (done) await citizenAudit(me, 'ehc.auth.allow', `org=${session.org_id}; outAuthNo=${session.out_auth_no}`, req.id);
    } else if (decision === 'deny') {
      // Only the signed-in citizen refuses: anyone holding the link must not be able to cancel a patient's visit.
      if (!me) return reply.redirect(`/card/login?next=${encodeURIComponent(here)}`, 303);
      const done = await decide(db, session.id, { status: 'cancel' }, platform.now());
      if (done) await citizenAudit(me, 'ehc.auth.cancel', `org=${session.org_id}; outAuthNo=${session.out_auth_no}`, req.id);
    }
    // Post/redirect/get: the page shows whatever the session now is (also when another tab decided first).
    return reply.redirect(here, 303);
  });

  // ---- my card and the dynamic health code (被扫) -------------------------------------------------
  app.get('/card', async (req, reply) => {
    const me = await signedIn(req);
    if (!me) return reply.redirect('/card/login?next=%2Fcard', 303);
    const issued = svc.codes.issue(me.id, platform.now());
    // A new code before this one expires, also without JavaScript (a code verifies once and lives MDL_EHC_CODE_TTL_S).
    reply.header('refresh', String(Math.max(20, platform.config.ehcCodeTtlSeconds - 10)));
    const body = h`<div class="card">${cardSummary(me)}</div>
<div class="card center"><p class="big">电子健康码</p>
<div class="qr" id="health-qr">${await qrSvg(issued.code)}</div>
<p class="code-text" id="health-code">${issued.code}</p>
<p class="muted">就医时请向医院自助机或窗口出示此码。每分钟自动刷新，本码 ${chinaClock(issued.expiresAt)} 前有效。</p>
<p><a class="button secondary" href="/card">立即刷新</a></p></div>`;
    return sendPage(reply, '我的电子健康卡', body, { headerRight: logoutButton(cardCsrf(req, reply, secure())) });
  });

  function cardSummary(p: Person): Html {
    const name = vault.decrypt(p.name_enc);
    const idNo = vault.decrypt(p.id_no_enc);
    return h`<dl class="kv"><dt>姓名</dt><dd>${maskName(name)}</dd>
<dt>证件</dt><dd>${ID_TYPES[p.id_type as keyof typeof ID_TYPES] ?? p.id_type} ${maskIdNo(idNo)}</dd>
<dt>卡号</dt><dd>${p.card_no}</dd></dl>`;
  }
}

function notice(kind: '' | 'ok' | 'bad', text: string): Html {
  return h`<div class="notice ${kind}">${text}</div>`;
}
