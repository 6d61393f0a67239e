import type { FastifyReply, FastifyRequest } from 'fastify';
import { ID_TYPES } from '@mdl/protocol';
import { audit, auditEvent, type AuditAction } from '../../domain/audit.js';
import { challengeKey, checkCode, openChallenge } from '../../domain/ehc/card-otp.js';
import { CITIZEN_COOKIE, CITIZEN_SESSION_SECONDS, endCardSession, openCardSession } from '../../domain/ehc/citizen.js';
import { personById } from '../../domain/ehc/index.js';
import { identityProblems, type CitizenIdentity } from '../../domain/ehc/registry.js';
import { CARD_SIGN_IN_FAILED, citizenSignedIn, guardCardAttempt, guardCitizenSignIn, identityKey } from '../../domain/ehc/sign-in-guard.js';
import { smsGateway } from '../../domain/sms/gateway.js';
import type { Platform } from '../../platform.js';
import { h, raw, type Html } from '../html.js';
import { errorSummary, field, firstError, withoutSpaces } from '../form.js';
import { cardCsrf, cardCsrfOk, csrfInput } from './card-csrf.js';
import { safeNext, sendPage, str } from './common.js';
import { Fields, FormBody, type PageApp } from '../route-schemas.js';

/**
 * Signing in to the card pages (登录) and 领卡: the citizen gives name, ID number and phone; a 6-digit code
 * goes by SMS to the phone of record; the code opens the session. The step after the details always shows
 * the code form, so nothing on the page says whether the details matched a card; every failure — no card,
 * wrong name or phone, no phone of record, throttled, wrong or expired code — shows at the code step in one
 * message (CARD_SIGN_IN_FAILED).
 */
export function signInRoutes(app: PageApp, platform: Platform): void {
  const svc = platform.ehc;
  const { db, vault } = platform;
  const sms = smsGateway(platform.config, { db, vault, post: platform.post });
  const secure = () => platform.config.publicUrl.startsWith('https:');
  const csrf = (req: FastifyRequest, reply: FastifyReply) => cardCsrf(req, reply, secure());

  const staleForm = async (req: FastifyRequest, reply: FastifyReply) => {
    await audit(
      db,
      auditEvent('citizen', 'card', 'ehc.card.csrf', {
        target: req.url.slice(0, 120),
        outcome: 'refused',
        requestId: req.id,
      }),
    );
    return sendPage(reply, '表单已失效', STALE_FORM, { status: 403 });
  };

  for (const mode of ['login', 'register'] as const) {
    app.get(`/card/${mode}`, { schema: { querystring: Fields } }, async (req, reply) => {
      const q = req.query;
      return identityForm(reply, mode, safeNext(q.next), csrf(req, reply), {}, {});
    });
    app.post(`/card/${mode}`, { schema: { body: FormBody } }, async (req, reply) => {
      const b = req.body ?? {};
      if (!cardCsrfOk(req)) return staleForm(req, reply);
      const next = safeNext(b.next);
      const who: CitizenIdentity = {
        userName: str(b.userName),
        idType: str(b.idType) || '01',
        idNo: withoutSpaces(str(b.idNo)).toUpperCase(),
        mobilePhone: withoutSpaces(str(b.mobilePhone)),
      };
      const token = csrf(req, reply);
      const errors: IdentityErrors = identityProblems(who);
      if (!(who.idType in ID_TYPES)) errors.idType = '请选择证件类型';
      if (mode === 'register' && str(b.agree) !== '1') errors.agree = '请阅读并同意用户协议和隐私政策';
      if (Object.keys(errors).length) return identityForm(reply, mode, next, token, who, errors, undefined, 400);
      if (sms.kind === 'outbox' && platform.config.deployment !== 'sandbox') {
        // Production without an SMS gateway: the same for everyone, so it tells nothing about the details.
        platform.log.error('MDL_SMS_URL is not set: /card sign-in cannot send codes');
        return sendPage(reply, '暂时无法登录', h`<div class="notice bad">短信服务暂不可用，请稍后再试。</div>`, { status: 503 });
      }
      // Throttled per identity and per address before anything is looked up or sent (growing delays).
      const key = identityKey(vault, who);
      const guard = await guardCitizenSignIn(db, vault, who, req.ip, platform.now());
      const r = !guard.ok ? undefined : mode === 'login' ? await svc.registry.signIn(who) : await svc.registry.register(who);
      const person = r && !('problem' in r) ? r.person : undefined;
      if (person && r && 'created' in r && r.created) await citizenAudit(person.id_no_bidx, person.card_no, 'ehc.card.register', req.id);
      let challenge: string;
      try {
        challenge = await openChallenge(db, vault, sms, {
          to: person?.phone_enc ? { personId: person.id, phone: vault.decrypt(person.phone_enc) } : undefined,
          purpose: 'sign-in',
          throttleKey: key,
          nowMs: platform.now(),
          ttlSeconds: platform.config.smsCodeTtlSeconds,
          onSendError: (err) => platform.log.error({ err }, 'SMS gateway refused a sign-in code'),
        });
      } catch (err) {
        // A gateway that failed: logged, and the page reads as for anyone else (the code will not come).
        platform.log.error({ err }, 'SMS gateway refused a sign-in code');
        challenge = await openChallenge(db, vault, sms, {
          to: undefined,
          purpose: 'sign-in',
          throttleKey: key,
          nowMs: platform.now(),
          ttlSeconds: platform.config.smsCodeTtlSeconds,
        });
      }
      return codeForm(reply, { challenge, next, csrf: token, phone: who.mobilePhone });
    });
  }

  app.post('/card/verify', { schema: { body: FormBody } }, async (req, reply) => {
    const b = req.body ?? {};
    if (!cardCsrfOk(req)) return staleForm(req, reply);
    const next = safeNext(b.next);
    const challenge = str(b.challenge);
    const code = withoutSpaces(str(b.code));
    const token = csrf(req, reply);
    const phone = withoutSpaces(str(b.phone)).slice(0, 11);
    const fail = () => codeForm(reply, { challenge, next, csrf: token, phone, error: CARD_SIGN_IN_FAILED }, 400);
    const key = await challengeKey(db, challenge);
    const guard = await guardCardAttempt(db, key, req.ip, platform.now());
    if (!guard.ok) return fail();
    const r = await checkCode(db, vault, { token: challenge, code, purpose: 'sign-in', nowMs: platform.now() });
    if (!r.ok) return fail();
    await citizenSignedIn(db, r.throttleKey);
    const person = await personById(db, r.personId);
    if (!person) return fail();
    await citizenAudit(person.id_no_bidx, person.card_no, 'ehc.card.signin', req.id);
    reply.setCookie(CITIZEN_COOKIE, await openCardSession(db, person.id, platform.now()), {
      path: '/card',
      httpOnly: true,
      sameSite: 'lax',
      secure: secure(),
      maxAge: CITIZEN_SESSION_SECONDS,
    });
    return reply.redirect(next, 303);
  });

  app.post('/card/logout', { schema: { body: FormBody } }, async (req, reply) => {
    const b = req.body ?? {};
    if (!cardCsrfOk(req)) return staleForm(req, reply);
    await endCardSession(db, req.cookies[CITIZEN_COOKIE], platform.now());
    reply.clearCookie(CITIZEN_COOKIE, { path: '/card' });
    const next = safeNext(b.next);
    return reply.redirect(`/card/login?next=${encodeURIComponent(next)}`, 303);
  });

  function citizenAudit(subject: string, cardNo: string, action: AuditAction, requestId: string): Promise<void> {
    return audit(db, {
      actor_type: 'citizen',
      actor_id: `card:${cardNo}`,
      org_id: null,
      subject_bidx: subject,
      action,
      target: null,
      outcome: 'ok',
      resp_code: null,
      request_id: requestId,
      detail: null,
    });
  }

  function identityForm(
    reply: FastifyReply,
    mode: 'login' | 'register',
    next: string,
    csrfToken: string,
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
    return sendPage(reply, title, h`${identityFields(mode, next, csrfToken, v, errors, formError)}${other}`, { status });
  }
}

/** The answer to a form without this browser's CSRF token (shared by every /card form). */
export const STALE_FORM = h`<div class="notice bad">表单已失效或来源不明，请返回重新打开页面后再试。</div>
<p class="center"><a href="/card/login">重新登录</a></p>`;

/** 185****0018: what the citizen typed, so they see where the code went without the page saying whether it matched. */
function maskPhone(phone: string): string {
  return /^\d{11}$/.test(phone) ? `${phone.slice(0, 3)}****${phone.slice(7)}` : '';
}

function codeForm(
  reply: FastifyReply,
  o: { challenge: string; next: string; csrf: string; phone: string; error?: string },
  status = 200,
): FastifyReply {
  const to = maskPhone(o.phone);
  const body = h`<form class="card" method="post" action="/card/verify" novalidate>
<p class="big">输入短信验证码</p>
${o.error ? h`<div class="form-alert" role="alert">${o.error}</div>` : ''}
<p>如果您填写的信息与电子健康卡登记的一致，验证码已发送至${to ? h` ${to}` : '登记的手机号'}，几分钟内有效。</p>
${csrfInput(o.csrf)}<input type="hidden" name="next" value="${o.next}"><input type="hidden" name="challenge" value="${o.challenge}">
<input type="hidden" name="phone" value="${o.phone}">
${field({ label: '验证码', name: 'code', id: 'code', value: '', focus: true, hint: '6 位数字', attrs: 'inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]*"' })}
<div class="actions"><button type="submit">登录</button></div>
<p class="muted">收不到验证码？请核对姓名、证件号和手机号后<a href="/card/login?next=${encodeURIComponent(o.next)}">重新填写</a>。电子健康卡没有登记手机号的，请从闽政通进入“医疗欠费名单”绑定手机号。</p>
</form>`;
  return sendPage(reply, '输入验证码', body, { status });
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

export function identityFields(
  mode: 'login' | 'register',
  next: string,
  csrfToken: string,
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
${csrfInput(csrfToken)}<input type="hidden" name="next" value="${next}">
${f('userName', '姓名', 'autocomplete="name"')}
${field({ label: '证件类型', name: 'idType', id: 'idType', value: v.idType ?? '01', error: errors.idType, focus: first === 'idType', options: ID_TYPE_OPTIONS })}
${f('idNo', '证件号码', 'autocomplete="off" autocapitalize="characters" spellcheck="false"', '可直接粘贴，空格会自动去掉')}
${f('mobilePhone', '手机号', 'inputmode="tel" autocomplete="tel"', '验证码将发送到领卡时登记的手机号')}
${mode === 'register' ? consentBox(errors.agree, first === 'agree') : ''}
<div class="actions"><button type="submit">${mode === 'login' ? '获取验证码' : '领卡并获取验证码'}</button></div>
</form>`;
}

/** 领卡 stores identity data: the citizen agrees to the terms and the privacy notice first (unticked by default). */
function consentBox(error: string | undefined, focus: boolean): Html {
  const aria = raw((error ? ' aria-invalid="true" aria-describedby="agree-error"' : '') + (focus ? ' autofocus' : ''));
  return h`<div class="consent"><input type="checkbox" id="agree" name="agree" value="1"${aria}>
<label for="agree">我已阅读并同意<a href="/card/terms" target="_blank">《用户协议》</a>和<a href="/card/privacy" target="_blank">《隐私政策》</a></label>
${error ? h`<div class="field-error" id="agree-error">${error}</div>` : ''}</div>`;
}
