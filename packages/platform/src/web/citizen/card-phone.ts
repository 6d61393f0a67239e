import type { FastifyReply, FastifyRequest } from 'fastify';
import { cardOfPerson, setPhoneOfRecord } from '../../domain/citizen/card-phone.js';
import type { CitizenSession } from '../../domain/citizen/tokens.js';
import { checkCode, openChallenge } from '../../domain/ehc/card-otp.js';
import { phoneProblem } from '../../domain/ehc/registry.js';
import { citizenSignedIn, guardCardAttempt } from '../../domain/ehc/sign-in-guard.js';
import { smsGateway } from '../../domain/sms/gateway.js';
import type { Platform } from '../../platform.js';
import { sameToken } from '../csrf.js';
import { withoutSpaces } from '../form.js';
import { CARD_PHONE_PATH as PATH, codeFormPage, phoneFormPage, phoneGivenPage } from './card-phone-views.js';
import { CANNOT_GIVE_PHONE, STALE_FORM } from './info-pages.js';
import { FormBody, type PageApp } from '../route-schemas.js';

const FAILED = '验证码不正确或已失效，请重新获取';

/** Whether this /mdr session may give its card a phone here (the overview links the page then). */
export async function mayGivePhone(platform: Platform, s: CitizenSession): Promise<boolean> {
  return (await phoneLessCard(platform, s)) !== undefined;
}

/** The session's card when it may be given a phone here: entered through the channel, and no phone yet. */
async function phoneLessCard(platform: Platform, s: CitizenSession | undefined) {
  if (!s || s.entered_by !== 'channel' || s.person_id === null) return undefined;
  const p = await cardOfPerson(platform.db, s.person_id);
  return p && p.phone_enc === null ? p : undefined;
}

/**
 * The stronger path to a phone-less e-health card (issue #12): a card an institution made through
 * ORG_EHC_004 has no phone of record, and /card never lets whoever signs in first set one. Here the person
 * came in through the 闽政通 channel's signed entry (ORG_MDL_004 from the channel credential: 闽政通 has
 * verified them by real name), so they may give the card a phone — once it has proved theirs with an SMS
 * code. A session from a hospital portal, or a card that already has a phone, gets no form.
 */
export function cardPhoneRoutes(
  app: PageApp,
  platform: Platform,
  sessionOf: (req: FastifyRequest) => Promise<CitizenSession | undefined>,
): void {
  const { db, vault } = platform;
  const sms = smsGateway(platform.config, { db, vault, post: platform.post });
  const send = (reply: FastifyReply, body: string, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(body);
  const refuse = (reply: FastifyReply, status = 403) => send(reply, CANNOT_GIVE_PHONE, status);

  /** A form posted here: its session, fields and card, or undefined once the refusal has been sent. */
  async function posted(req: FastifyRequest, body: FormBody, reply: FastifyReply) {
    const s = await sessionOf(req);
    const b = body ?? {};
    if (!s || !sameToken(b.csrf, s.csrf)) {
      send(reply, STALE_FORM, 403);
      return undefined;
    }
    const p = await phoneLessCard(platform, s);
    if (!p) {
      refuse(reply);
      return undefined;
    }
    return { s, b, p };
  }

  app.get(PATH, async (req, reply) => {
    const s = await sessionOf(req);
    if (!s || !(await phoneLessCard(platform, s))) return refuse(reply);
    return send(reply, phoneFormPage(s.csrf, ''));
  });

  app.post(PATH, { schema: { body: FormBody } }, async (req, reply) => {
    const form = await posted(req, req.body, reply);
    if (!form) return reply;
    const { s, b, p } = form;
    const phone = withoutSpaces(typeof b.mobilePhone === 'string' ? b.mobilePhone : '');
    const problem = phoneProblem(phone);
    if (problem) return send(reply, phoneFormPage(s.csrf, phone, problem), 400);
    const key = `card-id:${p.id_no_bidx}`;
    if (!(await guardCardAttempt(db, key, req.ip, platform.now())).ok)
      return send(reply, phoneFormPage(s.csrf, phone, '尝试次数过多，请稍后再试'), 429);
    const challenge = await openChallenge(db, vault, sms, {
      to: { personId: p.id, phone },
      recordPhone: phone,
      purpose: 'phone',
      throttleKey: key,
      nowMs: platform.now(),
      ttlSeconds: platform.config.smsCodeTtlSeconds,
      onSendError: (err) => platform.log.error({ err }, 'SMS gateway refused a sign-in code'),
    });
    return send(reply, codeFormPage(s.csrf, challenge));
  });

  app.post(`${PATH}/verify`, { schema: { body: FormBody } }, async (req, reply) => {
    const form = await posted(req, req.body, reply);
    if (!form) return reply;
    const { s, b, p } = form;
    const challenge = typeof b.challenge === 'string' ? b.challenge : '';
    if (!(await guardCardAttempt(db, `card-id:${p.id_no_bidx}`, req.ip, platform.now())).ok)
      return send(reply, codeFormPage(s.csrf, challenge, FAILED), 429);
    const r = await checkCode(db, vault, {
      token: challenge,
      code: withoutSpaces(typeof b.code === 'string' ? b.code : ''),
      purpose: 'phone',
      nowMs: platform.now(),
    });
    if (!r.ok || r.personId !== p.id || !r.phone) return send(reply, codeFormPage(s.csrf, challenge, FAILED), 400);
    // Conditional: a phone recorded meanwhile (another tab, an operator) is never overwritten.
    if (!(await setPhoneOfRecord(platform, p, r.phone, req.id))) return refuse(reply, 409);
    // Proved by the channel and the code: the identity's attempt count starts over, as after a sign-in.
    await citizenSignedIn(db, r.throttleKey);
    return send(reply, phoneGivenPage(s.csrf));
  });
}
