import type { FastifyReply, FastifyRequest } from 'fastify';
import { cardOfPerson, setPhoneOfRecord } from '../../domain/citizen/card-phone.js';
import type { CitizenSession } from '../../domain/citizen/tokens.js';
import { checkCode, openChallenge } from '../../domain/ehc/card-otp.js';
import { phoneProblem } from '../../domain/ehc/registry.js';
import { citizenSignedIn, guardCardAttempt } from '../../domain/ehc/sign-in-guard.js';
import { smsGateway } from '../../domain/sms/gateway.js';
import { MDR_PATH } from '../../domain/citizen/tokens.js';
import type { Platform } from '../../platform.js';
import { sameToken } from '../csrf.js';
import { field, withoutSpaces } from '../form.js';
import { h } from '../html.js';
import { APP_TITLE, infoPage, shell } from './views.js';
import { FormBody, type PageApp } from '../route-schemas.js';

const PATH = `${MDR_PATH}/card-phone`;
const FAILED = '验证码不正确或已失效，请重新获取';

/**
 * The stronger path to a phone-less e-health card (issue #12): a card an institution made through
 * ORG_EHC_004 has no phone of record, and /card never lets whoever signs in first set one. Here the person
 * came in through the 闽政通 channel's signed entry (ORG_MDL_004 from the channel credential: 闽政通 has
 * verified them by real name), so they may give the card a phone — once it has proved theirs with an SMS
 * code. A session from a hospital portal, or a card that already has a phone, gets no form.
 */
/** Whether this /mdr session may give its card a phone here (the overview links the page then). */
export async function mayGivePhone(platform: Platform, s: CitizenSession): Promise<boolean> {
  if (s.entered_by !== 'channel' || s.person_id === null) return false;
  const p = await cardOfPerson(platform.db, s.person_id);
  return p !== undefined && p.phone_enc === null;
}

export function cardPhoneRoutes(
  app: PageApp,
  platform: Platform,
  sessionOf: (req: FastifyRequest) => Promise<CitizenSession | undefined>,
): void {
  const { db, vault } = platform;
  const sms = smsGateway(platform.config, { db, vault, post: platform.post });
  const send = (reply: FastifyReply, body: string, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(body);
  const refuse = (reply: FastifyReply, status = 403) =>
    send(
      reply,
      infoPage('无法绑定', '只有从“闽政通”进入、且电子健康卡尚未登记手机号时，才能在这里绑定手机号。', '已登记的手机号不能在这里更改。'),
      status,
    );

  /** The session's card when it may be given a phone here. */
  async function eligible(s: CitizenSession | undefined) {
    if (!s || !(await mayGivePhone(platform, s)) || s.person_id === null) return undefined;
    const p = await cardOfPerson(db, s.person_id);
    return p && p.phone_enc === null ? p : undefined;
  }

  const phoneForm = (s: CitizenSession, v: string, error?: string) =>
    shell(
      '绑定电子健康卡手机号',
      h`<form class="card" method="post" action="${PATH}" novalidate><h2>绑定手机号</h2>
<p>您的电子健康卡还没有登记手机号。登记后，可以用手机号和短信验证码登录电子健康卡。</p>
<input type="hidden" name="csrf" value="${s.csrf}">
${field({ label: '手机号', name: 'mobilePhone', id: 'mobilePhone', value: v, error, focus: true, attrs: 'inputmode="tel" autocomplete="tel"' })}
<div class="actions"><button type="submit">获取验证码</button></div></form>`,
      { signedIn: true, csrf: s.csrf },
    );

  const codeForm = (s: CitizenSession, challenge: string, error?: string) =>
    shell(
      '绑定电子健康卡手机号',
      h`<form class="card" method="post" action="${PATH}/verify" novalidate><h2>输入短信验证码</h2>
${error ? h`<div class="form-alert" role="alert">${error}</div>` : ''}
<input type="hidden" name="csrf" value="${s.csrf}"><input type="hidden" name="challenge" value="${challenge}">
${field({ label: '验证码', name: 'code', id: 'code', value: '', focus: true, hint: '6 位数字', attrs: 'inputmode="numeric" autocomplete="one-time-code"' })}
<div class="actions"><button type="submit">确认绑定</button></div></form>`,
      { signedIn: true, csrf: s.csrf },
    );

  app.get(PATH, async (req, reply) => {
    const s = await sessionOf(req);
    if (!s || !(await eligible(s))) return refuse(reply);
    return send(reply, phoneForm(s, ''));
  });

  app.post(PATH, { schema: { body: FormBody } }, async (req, reply) => {
    const s = await sessionOf(req);
    const b = req.body ?? {};
    if (!s || !sameToken(b.csrf, s.csrf))
      return send(reply, infoPage('页面已失效', '页面已过期，请返回后重试。', '返回“我的记录”重新操作。'), 403);
    const p = await eligible(s);
    if (!p) return refuse(reply);
    const phone = withoutSpaces(typeof b.mobilePhone === 'string' ? b.mobilePhone : '');
    const problem = phoneProblem(phone);
    if (problem) return send(reply, phoneForm(s, phone, problem), 400);
    const key = `card-id:${p.id_no_bidx}`;
    if (!(await guardCardAttempt(db, key, req.ip, platform.now())).ok)
      return send(reply, phoneForm(s, phone, '尝试次数过多，请稍后再试'), 429);
    const challenge = await openChallenge(db, vault, sms, {
      to: { personId: p.id, phone },
      recordPhone: phone,
      purpose: 'phone',
      throttleKey: key,
      nowMs: platform.now(),
      ttlSeconds: platform.config.smsCodeTtlSeconds,
      onSendError: (err) => platform.log.error({ err }, 'SMS gateway refused a sign-in code'),
    });
    return send(reply, codeForm(s, challenge));
  });

  app.post(`${PATH}/verify`, { schema: { body: FormBody } }, async (req, reply) => {
    const s = await sessionOf(req);
    const b = req.body ?? {};
    if (!s || !sameToken(b.csrf, s.csrf))
      return send(reply, infoPage('页面已失效', '页面已过期，请返回后重试。', '返回“我的记录”重新操作。'), 403);
    const p = await eligible(s);
    if (!p) return refuse(reply);
    const challenge = typeof b.challenge === 'string' ? b.challenge : '';
    if (!(await guardCardAttempt(db, `card-id:${p.id_no_bidx}`, req.ip, platform.now())).ok)
      return send(reply, codeForm(s, challenge, FAILED), 429);
    const r = await checkCode(db, vault, {
      token: challenge,
      code: withoutSpaces(typeof b.code === 'string' ? b.code : ''),
      purpose: 'phone',
      nowMs: platform.now(),
    });
    if (!r.ok || r.personId !== p.id || !r.phone) return send(reply, codeForm(s, challenge, FAILED), 400);
    // Conditional: a phone recorded meanwhile (another tab, an operator) is never overwritten.
    if (!(await setPhoneOfRecord(platform, p, r.phone, req.id))) return refuse(reply, 409);
    // Proved by the channel and the code: the identity's attempt count starts over, as after a sign-in.
    await citizenSignedIn(db, r.throttleKey);
    return send(
      reply,
      shell(
        APP_TITLE,
        h`<section class="card"><h2>绑定成功</h2><p>电子健康卡已登记该手机号。现在可以用姓名、证件号、手机号和短信验证码<a href="/card/login">登录电子健康卡</a>。</p></section>`,
        {
          signedIn: true,
          csrf: s.csrf,
        },
      ),
    );
  });
}
