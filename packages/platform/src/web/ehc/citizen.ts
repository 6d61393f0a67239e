import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ID_TYPES, maskIdNo, maskName } from '@mdl/protocol';
import { auditCitizen, type AuditAction } from '../../domain/audit.js';
import { institutionName } from '../../domain/credentials.js';
import type { Person } from '../../domain/persons.js';
import { CITIZEN_COOKIE, CITIZEN_SESSION_SECONDS, endCardSession, openCardSession, readCardSession } from '../../domain/ehc/citizen.js';
import { ehcServices, personById } from '../../domain/ehc/index.js';
import { identityProblems, type CitizenIdentity } from '../../domain/ehc/registry.js';
import { authPath, decide, effectiveStatus, findByToken } from '../../domain/ehc/sessions.js';
import { CARD_SIGN_IN_FAILED, citizenSignedIn, guardCitizenSignIn } from '../../domain/ehc/sign-in-guard.js';
import type { Platform } from '../../platform.js';
import { h, raw, type Html } from '../html.js';
import { errorSummary, field, firstError, withoutSpaces } from '../form.js';
import { chinaClock, qrSvg, safeNext, sendPage, str } from './common.js';

/**
 * The citizen's e-health-card pages, standing in for the WeChat mini-program: sign in or 领卡, authorize
 * or refuse a hospital's request (ORG_EHC_001's authUrl), and show the dynamic health code (被扫).
 * Plain forms and a Refresh header: everything works without JavaScript.
 */
export function citizenRoutes(app: FastifyInstance, platform: Platform): void {
  const svc = ehcServices(platform);
  const vault = platform.vault;
  const db = platform.db;

  async function signedIn(req: FastifyRequest): Promise<Person | undefined> {
    const id = await readCardSession(db, req.cookies[CITIZEN_COOKIE], platform.now());
    return id === undefined ? undefined : personById(db, id);
  }

  function citizenAudit(person: Person, action: AuditAction, target: string | null, requestId: string): Promise<void> {
    return auditCitizen(db, `card:${person.card_no}`, action, { subject: person.id_no_bidx, target, requestId });
  }

  const logoutButton = h`<form method="post" action="/card/logout"><button class="secondary" type="submit">退出</button></form>`;

  // ---- sign-in and 领卡 -----------------------------------------------------------------------
  for (const mode of ['login', 'register'] as const) {
    app.get(`/card/${mode}`, async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      return identityForm(reply, mode, safeNext(q.next), {}, {});
    });
    app.post(`/card/${mode}`, async (req, reply) => {
      const b = (req.body ?? {}) as Record<string, unknown>;
      const next = safeNext(b.next);
      const who: CitizenIdentity = {
        userName: str(b.userName),
        idType: str(b.idType) || '01',
        idNo: withoutSpaces(str(b.idNo)).toUpperCase(),
        mobilePhone: withoutSpaces(str(b.mobilePhone)),
      };
      const errors: IdentityErrors = identityProblems(who);
      if (!(who.idType in ID_TYPES)) errors.idType = '请选择证件类型';
      if (mode === 'register' && str(b.agree) !== '1') errors.agree = '请阅读并同意用户协议和隐私政策';
      if (Object.keys(errors).length) return identityForm(reply, mode, next, who, errors, undefined, 400);
      if (mode === 'login') {
        // Throttled per client address and per identity before anything is looked up, and one message for
        // every failure, so the form confirms no ID number, name or phone (domain/ehc/sign-in-guard.ts).
        const guard = await guardCitizenSignIn(db, vault, who, req.ip, platform.now());
        if (!guard.ok) return identityForm(reply, mode, next, who, {}, CARD_SIGN_IN_FAILED, 429);
      }
      const r = mode === 'login' ? await svc.registry.signIn(who) : await svc.registry.register(who);
      if ('problem' in r) return identityForm(reply, mode, next, who, {}, mode === 'login' ? CARD_SIGN_IN_FAILED : r.problem, 400);
      if (mode === 'login') await citizenSignedIn(db, vault, who);
      await citizenAudit(r.person, r.created ? 'ehc.card.register' : 'ehc.card.signin', null, req.id);
      reply.setCookie(CITIZEN_COOKIE, await openCardSession(db, r.person.id, platform.now()), {
        path: '/card',
        httpOnly: true,
        sameSite: 'lax',
        secure: platform.config.publicUrl.startsWith('https:'),
        maxAge: CITIZEN_SESSION_SECONDS,
      });
      return reply.redirect(next, 303);
    });
  }

  app.post('/card/logout', async (req, reply) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    await endCardSession(db, req.cookies[CITIZEN_COOKIE], platform.now());
    reply.clearCookie(CITIZEN_COOKIE, { path: '/card' });
    const next = safeNext(b.next);
    return reply.redirect(`/card/login?next=${encodeURIComponent(next)}`, 303);
  });

  function identityForm(
    reply: FastifyReply,
    mode: 'login' | 'register',
    next: string,
    v: Partial<CitizenIdentity>,
    errors: IdentityErrors,
    formError?: string,
    status = 200,
  ): FastifyReply {
    const title = mode === 'login' ? '登录电子健康卡' : '领取电子健康卡';
    const other =
      mode === 'login'
        ? h`<p class="center">还没有电子健康卡？<a href="/card/register?next=${encodeURIComponent(next)}">立即领卡</a></p>`
        : h`<p class="center">已有电子健康卡？<a href="/card/login?next=${encodeURIComponent(next)}">直接登录</a></p>`;
    return sendPage(reply, title, h`${identityFields(mode, next, v, errors, formError)}${other}`, { status });
  }

  // ---- authorization (ORG_EHC_001's authUrl) ----------------------------------------------------
  app.get('/card/auth/:token', async (req, reply) => {
    const { token } = req.params as { token: string };
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
    const request = h`<div class="card"><p class="big">${orgName}</p>
<p>申请获取您的电子健康卡信息，用于先诊后付就医时查询和登记医疗欠费记录：</p>
<p class="muted">姓名、证件类型及号码、电子健康卡号、性别、出生日期、手机号</p>
<p class="muted">请在 ${chinaClock(session.expires_at.getTime())} 前完成授权。</p></div>`;
    const refuse = h`<form method="post" action="${here}"><input type="hidden" name="decision" value="deny"><button class="secondary" type="submit">拒绝授权</button></form>`;
    if (!me) {
      const body = h`${request}${identityFields('login', here, {}, {})}
<p class="center">还没有电子健康卡？<a href="/card/register?next=${encodeURIComponent(here)}">立即领卡</a></p>`;
      return sendPage(reply, '电子健康卡授权', body);
    }
    const body = h`${request}<div class="card"><p>当前电子健康卡</p>${cardSummary(me)}
<form method="post" action="/card/logout"><input type="hidden" name="next" value="${here}"><button class="secondary" type="submit" style="margin-top:.5rem">不是本人？切换账号</button></form></div>
<div class="actions"><form method="post" action="${here}"><input type="hidden" name="decision" value="allow"><button type="submit">同意授权</button></form>${refuse}</div>`;
    return sendPage(reply, '电子健康卡授权', body);
  });

  app.post('/card/auth/:token', async (req, reply) => {
    const { token } = req.params as { token: string };
    const decision = str(((req.body ?? {}) as Record<string, unknown>).decision);
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
    return sendPage(reply, '我的电子健康卡', body, { headerRight: logoutButton });
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

/** 居民身份证 first, 其他 last: the dictionary's own order puts numeric-looking codes (10 医保电子凭证, 99 其他) first. */
const ID_TYPE_OPTIONS: [string, string][] = Object.entries(ID_TYPES)
  .map(([code, label]): [string, string] => [code, label])
  .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
function rank(code: string): number {
  return code === '01' ? 0 : code === '99' ? 2 : 1;
}

type IdentityErrors = Partial<Record<keyof CitizenIdentity | 'agree', string>>;
const IDENTITY_ORDER = ['userName', 'idType', 'idNo', 'mobilePhone', 'agree'] as const;

function identityFields(
  mode: 'login' | 'register',
  next: string,
  v: Partial<CitizenIdentity>,
  errors: IdentityErrors,
  formError?: string,
): Html {
  const first = firstError(errors, IDENTITY_ORDER);
  const f = (name: keyof CitizenIdentity, label: string, attrs: string, hint?: string) =>
    field({ label, name, id: name, value: v[name] ?? '', error: errors[name], focus: first === name, attrs, ...(hint ? { hint } : {}) });
  return h`<form class="card" method="post" action="/card/${mode}" novalidate>
<p class="big">${mode === 'login' ? '登录电子健康卡' : '领取电子健康卡'}</p>
${errorSummary(errors, formError)}
<input type="hidden" name="next" value="${next}">
${f('userName', '姓名', 'autocomplete="name"')}
${field({ label: '证件类型', name: 'idType', id: 'idType', value: v.idType ?? '01', error: errors.idType, focus: first === 'idType', options: ID_TYPE_OPTIONS })}
${f('idNo', '证件号码', 'autocomplete="off" autocapitalize="characters" spellcheck="false"', '可直接粘贴，空格会自动去掉')}
${f('mobilePhone', '手机号', 'inputmode="tel" autocomplete="tel"')}
${mode === 'register' ? consentBox(errors.agree, first === 'agree') : ''}
<div class="actions"><button type="submit">${mode === 'login' ? '登录' : '领卡并登录'}</button></div>
</form>`;
}

/** 领卡 stores identity data: the citizen agrees to the terms and the privacy notice first (unticked by default). */
function consentBox(error: string | undefined, focus: boolean): Html {
  const aria = raw((error ? ' aria-invalid="true" aria-describedby="agree-error"' : '') + (focus ? ' autofocus' : ''));
  return h`<div class="consent"><input type="checkbox" id="agree" name="agree" value="1"${aria}>
<label for="agree">我已阅读并同意<a href="/card/terms" target="_blank">《用户协议》</a>和<a href="/card/privacy" target="_blank">《隐私政策》</a></label>
${error ? h`<div class="field-error" id="agree-error">${error}</div>` : ''}</div>`;
}
