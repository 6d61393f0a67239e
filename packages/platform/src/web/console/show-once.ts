import type { FastifyReply, FastifyRequest } from 'fastify';
import { h, type Html } from '../html.js';
import { ROLE_TEXT, type Actor, type Role } from '../../domain/console/auth.js';
import { qrSvg } from '../ehc/common.js';
import type { Platform } from '../../platform.js';
import { actorOf, html, type ConsoleContext } from './context.js';
import { consolePage } from './layout.js';
import { card } from './components.js';
import { KindParams } from '../route-schemas.js';

/**
 * A secret shown once (post/redirect/get): the POST that issues a credential or an operator's TOTP secret
 * answers with a redirect and a short-lived cookie holding the secret sealed by the vault; the GET page opens
 * the cookie and clears it in the same answer. Reloading, going back or opening the page again shows
 * "already shown" and issues nothing. A cookie rather than server memory: any process behind the load
 * balancer can show it, and the sealed value is useless outside this platform.
 */
const ONCE_COOKIE = 'mdl_console_once';
const ONCE_PATH = '/console/once';
const ONCE_TTL_MS = 5 * 60_000;

export type OnceView =
  | { kind: 'app'; orgId: string; appId: string; secret: string; rotated: boolean }
  | { kind: 'user'; username: string; role: Role; totpSecret: string | null; otpauth: string | null };

interface Sealed {
  uid: number;
  exp: number;
  view: OnceView;
}

function cookieOptions(platform: Platform) {
  const secure = platform.config.publicUrl.startsWith('https:');
  return { path: ONCE_PATH, httpOnly: true, sameSite: 'strict' as const, secure };
}

/** Answers the POST: seals the view into the cookie and redirects to the page that shows it once. */
export function redirectToOnce(platform: Platform, reply: FastifyReply, actor: Actor, view: OnceView): FastifyReply {
  const sealed: Sealed = { uid: actor.userId, exp: platform.now() + ONCE_TTL_MS, view };
  reply.setCookie(ONCE_COOKIE, platform.vault.encrypt(JSON.stringify(sealed)), {
    ...cookieOptions(platform),
    maxAge: ONCE_TTL_MS / 1000,
  });
  return reply.redirect(`${ONCE_PATH}/${view.kind}`, 303);
}

function takeOnce(platform: Platform, req: FastifyRequest, reply: FastifyReply, actor: Actor): OnceView | null {
  const cookie = req.cookies[ONCE_COOKIE];
  reply.clearCookie(ONCE_COOKIE, cookieOptions(platform));
  if (!cookie) return null;
  try {
    const s = JSON.parse(platform.vault.decrypt(cookie)) as Sealed;
    return s.uid === actor.userId && s.exp > platform.now() ? s.view : null;
  } catch {
    return null;
  }
}

function copyable(id: string, label: string, value: string): Html {
  return h`<dt>${label}</dt><dd class="copyable"><span class="secret" id="${id}">${value}</span>
<button type="button" class="small secondary" data-copy="${id}">复制${label}</button>
<span class="ok copy-status" id="${id}-status" role="status"></span></dd>`;
}

function appBody(v: Extract<OnceView, { kind: 'app' }>): Html {
  const back = h`<a class="button" href="/console/institutions/${encodeURIComponent(v.orgId)}">我已妥善保存，返回机构</a>`;
  return card(
    '',
    h`<p class="warn" role="status"><b>密钥只显示这一次</b>：刷新或关闭本页后无法再次查看，
请立即复制并通过安全渠道交给机构。</p>
<dl class="kv">${copyable('new-app-id', 'appId', v.appId)}${copyable('new-secret', '密钥', v.secret)}</dl>
<p>${back}</p>`,
  );
}

async function userBody(v: Extract<OnceView, { kind: 'user' }>): Promise<Html> {
  const totp = v.totpSecret
    ? h`<p class="warn" role="status"><b>动态口令密钥只显示这一次</b>：请本人用身份验证器应用扫描二维码，
或手动输入密钥。刷新或关闭本页后无法再次查看。</p>
<figure class="qrbox" id="totp-qr" role="img" aria-label="动态口令二维码">${await qrSvg(v.otpauth!)}</figure>
<dl class="kv">${copyable('totp-secret', '密钥', v.totpSecret)}</dl>`
    : '';
  const created = h`<p>已创建账户 <b id="created-user">${v.username}</b>（${ROLE_TEXT[v.role]}）。</p>`;
  return card(
    '',
    h`${created}${totp}
<p><a class="button" href="/console/users">返回账户列表</a></p>`,
  );
}

const GONE = h`<div class="card" role="status" id="once-gone"><p>该页面只显示一次，已经显示过或已过期，不能再次查看。</p>
<p class="muted">如果密钥没有保存下来，请在机构页面更换密钥（旧密钥随即失效）；动态口令请由运营人员重新创建账户。</p>
<p><a class="button" href="/console">返回总览</a></p></div>`;

export async function onceRoutes({ app, platform }: ConsoleContext): Promise<void> {
  app.get('/once/:kind', { schema: { params: KindParams } }, async (req, reply) => {
    const actor = actorOf(req);
    const v = takeOnce(platform, req, reply, actor);
    const found = v && v.kind === req.params.kind ? v : null;
    if (!found) {
      return html(reply, consolePage(actor, { title: '页面已失效', active: '', body: GONE }), 410);
    }
    if (found.kind === 'app') {
      const title = found.rotated ? '凭证密钥已更换' : '凭证已创建';
      return html(reply, consolePage(actor, { title, active: '/console/institutions', body: appBody(found) }));
    }
    return html(reply, consolePage(actor, { title: '账户已创建', active: '/console/users', body: await userBody(found) }));
  });
}
