import type { FastifyReply, FastifyRequest } from 'fastify';
import { ID_TYPES } from '@mdl/protocol';
import { auditCitizen, type AuditAction } from '../../domain/audit.js';
import { challengeKey, checkCode, openChallenge } from '../../domain/ehc/card-otp.js';
import { CITIZEN_COOKIE, CITIZEN_SESSION_SECONDS, endCardSession, openCardSession } from '../../domain/ehc/citizen.js';
import { personById } from '../../domain/ehc/index.js';
import { identityProblems, type CitizenIdentity } from '../../domain/ehc/registry.js';
import { CARD_SIGN_IN_FAILED, citizenSignedIn, guardCardAttempt, guardCitizenSignIn, identityKey } from '../../domain/ehc/sign-in-guard.js';
import { smsGateway } from '../../domain/sms/gateway.js';
import type { Platform } from '../../platform.js';
import { notice } from '../components.js';
import { h } from '../html.js';
import { withoutSpaces } from '../form.js';
import { cardCsrf, cardCsrfOk } from './card-csrf.js';
import { codeFormBody, identityFields, otherModeLink, STALE_FORM, type CodeFormState, type IdentityErrors } from './sign-in-views.js';
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
    await auditCitizen(db, 'card', 'ehc.card.csrf', { target: req.url.slice(0, 120), outcome: 'refused', requestId: req.id });
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
        return sendPage(reply, '暂时无法登录', notice('bad', '短信服务暂不可用，请稍后再试。'), { status: 503 });
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
    return auditCitizen(db, `card:${cardNo}`, action, { subject, requestId });
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
    const body = h`${identityFields(mode, next, csrfToken, v, errors, formError)}${otherModeLink(mode, next)}`;
    return sendPage(reply, mode === 'login' ? '登录电子健康卡' : '领取电子健康卡', body, { status });
  }

  function codeForm(reply: FastifyReply, o: CodeFormState, status = 200): FastifyReply {
    return sendPage(reply, '输入验证码', codeFormBody(o), { status });
  }
}
