import type { FastifyRequest } from 'fastify';
import { ID_TYPES, maskIdNo, maskName } from '@mdl/protocol';
import { auditCitizen, type AuditAction } from '../../domain/audit.js';
import { institutionName } from '../../domain/credentials.js';
import type { Person } from '../../domain/persons.js';
import { CITIZEN_COOKIE, readCardSession } from '../../domain/ehc/citizen.js';
import { personById } from '../../domain/ehc/index.js';
import { authPath, decide, effectiveStatus, findByToken } from '../../domain/ehc/sessions.js';
import type { Platform } from '../../platform.js';
import { cardCsrf, cardCsrfOk } from './card-csrf.js';
import { qrSvg, sendPage, str } from './common.js';
import { signInRoutes } from './sign-in.js';
import { STALE_FORM } from './sign-in-views.js';
import {
  AUTH_TITLE,
  INVALID_AUTH_LINK,
  authDecision,
  authOutcome,
  authRequest,
  authSignIn,
  healthCodePage,
  logoutButton,
  type CardShown,
} from './card-views.js';
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

  // ---- authorization (ORG_EHC_001's authUrl) ----------------------------------------------------
  app.get('/card/auth/:token', { schema: { params: TokenParams } }, async (req, reply) => {
    const { token } = req.params;
    const session = await findByToken(db, vault, token);
    if (!session) return sendPage(reply, AUTH_TITLE, INVALID_AUTH_LINK, { status: 404 });
    const orgName = (await institutionName(db, session.org_id)) ?? session.org_id;
    const status = effectiveStatus(session, platform.now());
    const me = await signedIn(req);
    const here = authPath(token);
    if (status !== 'ing') return sendPage(reply, AUTH_TITLE, authOutcome(status, orgName));
    const minutesLeft = Math.max(1, Math.ceil((session.expires_at.getTime() - platform.now()) / 60_000));
    const request = authRequest(orgName, minutesLeft, session.expires_at.getTime());
    const csrf = cardCsrf(req, reply, secure());
    const body = me ? authDecision(request, shown(me), here, csrf) : authSignIn(request, here, csrf);
    return sendPage(reply, AUTH_TITLE, body);
  });

  app.post('/card/auth/:token', { schema: { params: TokenParams, body: FormBody } }, async (req, reply) => {
    const { token } = req.params;
    const decision = str((req.body ?? {}).decision);
    if (!cardCsrfOk(req)) return sendPage(reply, '表单已失效', STALE_FORM, { status: 403 });
    const session = await findByToken(db, vault, token);
    if (!session) return sendPage(reply, AUTH_TITLE, INVALID_AUTH_LINK, { status: 404 });
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
    const body = healthCodePage(shown(me), await qrSvg(issued.code), issued.code, issued.expiresAt);
    return sendPage(reply, '我的电子健康卡', body, { headerRight: logoutButton(cardCsrf(req, reply, secure())) });
  });

  /** The card as pages show it: decrypted here, masked before it reaches any page. */
  function shown(p: Person): CardShown {
    const idDoc = `${ID_TYPES[p.id_type as keyof typeof ID_TYPES] ?? p.id_type} ${maskIdNo(vault.decrypt(p.id_no_enc))}`;
    return { name: maskName(vault.decrypt(p.name_enc)), idDoc, cardNo: p.card_no };
  }
}
