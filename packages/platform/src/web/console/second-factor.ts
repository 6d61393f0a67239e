import { h, type Html } from '../html.js';
import { qrSvg } from '../ehc/common.js';
import type { Actor } from '../../domain/console/auth.js';
import { enrolmentUser } from '../../domain/console/users.js';
import { confirmEnrolment, proposeEnrolment, setInstitutionRequiresTotp } from '../../domain/second-factor.js';
import { actorOf, ConsoleHttpError, html, need, type ConsoleContext } from './context.js';
import { consolePage, csrfField, field, notice, str } from './layout.js';
import { card, postForm } from './components.js';
import { FormBody, OrgParams } from '../route-schemas.js';

type Enrolment = ReturnType<typeof proposeEnrolment>;

/** The operator's switch on an institution's page: whether its staff must have a second factor. */
export function institutionFactorForm(actor: Actor, orgId: string, required: boolean): Html {
  const now = required ? '必须' : '未绑定的账户可仅凭密码登录';
  if (actor.role !== 'operator') return h`<p id="require-totp">员工登录动态口令：${now}</p>`;
  const action = `/console/institutions/${encodeURIComponent(orgId)}/second-factor`;
  return postForm(
    { action, csrf: csrfField(actor), className: 'filters', id: 'require-totp' },
    h`
<input type="hidden" name="required" value="${required ? '0' : '1'}">
<span>员工登录动态口令：<b>${now}</b></span>
<button class="small secondary" type="submit">${required ? '不再强制' : '强制所有员工使用动态口令'}</button>`,
  );
}

const ENROLLED = h`${notice('动态口令已绑定，此后登录需要输入动态口令。', 'ok', 'totp-done')}
<p><a class="button" href="/console">返回总览</a></p>`;

/** The QR code and key of a proposed secret, and the form that binds it once a code from it verifies. */
function enrolCard(actor: Actor, p: Enrolment, qr: Html, error: string | undefined): Html {
  const attrs = 'inputmode="numeric" autocomplete="one-time-code" maxlength="6"';
  const form = postForm(
    { action: '/console/second-factor', csrf: csrfField(actor), id: 'totp-enrol' },
    h`<input type="hidden" name="sealed" value="${p.sealed}">
${field({ label: '动态口令', name: 'code', error, focus: !!error, attrs })}
<p><button type="submit">绑定</button></p>`,
  );
  return card(
    '',
    h`<p>用身份验证器应用扫描二维码（或手动输入密钥），再输入应用显示的 6 位动态口令完成绑定。</p>
<figure class="qrbox" id="totp-qr" role="img" aria-label="动态口令二维码">${qr}</figure>
<p>密钥：<code id="totp-secret">${p.secret}</code></p>
${form}`,
  );
}

export async function secondFactorRoutes({ app, platform }: ConsoleContext): Promise<void> {
  const { db, vault } = platform;

  app.post('/institutions/:orgId/second-factor', { schema: { params: OrgParams, body: FormBody } }, async (req, reply) => {
    const actor = need(req, 'operator');
    const required = str(req.body?.required) === '1';
    const ok = await setInstitutionRequiresTotp(db, req.params.orgId, required, { actorType: 'operator', actorId: actor.username });
    if (!ok) throw new ConsoleHttpError(404, '机构不存在');
    return reply.redirect(`/console/institutions/${encodeURIComponent(req.params.orgId)}?saved=1`, 303);
  });

  const enrolPage = async (actor: Actor, o: { error?: string; done?: boolean }) => {
    const user = await enrolmentUser(db, actor.userId);
    if (o.done) return consolePage(actor, { title: '动态口令', active: '/console/second-factor', body: ENROLLED });
    // A new secret each time the page is shown; nothing is stored until a code from it verifies.
    const p = proposeEnrolment(vault, user, platform.now());
    const state = h`<p id="totp-state">${user.totp_secret_enc ? '已绑定动态口令。可在此更换（例如换了手机）。' : '尚未绑定动态口令。'}</p>`;
    const body = h`${state}${enrolCard(actor, p, await qrSvg(p.otpauth), o.error)}`;
    return consolePage(actor, { title: '动态口令', active: '/console/second-factor', body });
  };

  app.get('/second-factor', async (req, reply) => html(reply, await enrolPage(actorOf(req), {})));

  app.post('/second-factor', { schema: { body: FormBody } }, async (req, reply) => {
    const actor = actorOf(req);
    const b = req.body ?? {};
    const user = { id: actor.userId, username: actor.username, org_id: actor.orgId };
    const r = await confirmEnrolment(db, vault, user, { sealed: str(b.sealed), code: str(b.code) }, platform.now());
    return r.ok ? html(reply, await enrolPage(actor, { done: true })) : html(reply, await enrolPage(actor, { error: r.message }), 400);
  });
}
