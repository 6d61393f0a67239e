import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { Fields, FormBody, fieldOf, pageRoutes } from '../route-schemas.js';
import type { Platform } from '../../platform.js';
import { auditAction, resolveSession, signIn, signOut } from '../../domain/console/auth.js';
import { OutOfScopeError } from '../../domain/console/reader.js';
import { actorOf, ConsoleHttpError, SESSION_COOKIE, type ConsoleContext } from './context.js';
import { h, page } from '../html.js';
import { privatePageHeaders } from '../security.js';
import { BAD_REQUEST_TEXT, isSchemaError } from '../error-pages.js';
import { CONSOLE_CSS, consolePage, field, str } from './layout.js';
import { CONSOLE_ASSETS } from './assets.js';
import { alertCard } from './components.js';
import { dashboardRoutes } from './dashboard.js';
import { institutionRoutes } from './institutions.js';
import { batchRoutes } from './batches.js';
import { appealRoutes } from './appeals.js';
import { auditRoutes } from './audit.js';
import { coverageRoutes } from './coverage.js';
import { policyRoutes } from './policy.js';
import { userRoutes } from './users.js';
import { citizenDataRoutes } from './citizen-data.js';
import { onceRoutes } from './show-once.js';
import { cardReviewRoutes } from './card-reviews.js';
import { newCsrfToken, sameToken } from '../csrf.js';
import { secondFactorRoutes } from './second-factor.js';
import { itemPageRoutes } from './item-pages.js';
import { exportRoutes } from './exports.js';
import { receiptRoutes } from './receipts.js';

const LOGIN_COOKIE = 'mdl_console_login';
const PUBLIC_ROUTES = new Set(['/console/login', '/console/assets/:file']);

const CODE_ATTRS = 'inputmode="numeric" pattern="[0-9]{6}" maxlength="6" autocomplete="one-time-code"';

/** Pages show personal data and one-time secrets; scripts only from here. */
const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

function loginPage(o: { error?: string; info?: string; username?: string; csrf: string }): string {
  return page({
    title: '诊疗失信人员信息管理系统 · 登录',
    css: CONSOLE_CSS + 'main{max-width:26rem}',
    body: h`<div class="card"><h2>管理控制台登录</h2>
${o.info ? h`<p class="warn" role="status">${o.info}</p>` : ''}
${o.error ? h`<p class="bad" role="alert" id="login-error">${o.error}</p>` : ''}
<form method="post" action="/console/login" autocomplete="off">
<input type="hidden" name="_csrf" value="${o.csrf}">
${field({ label: '用户名', name: 'username', value: o.username ?? '', required: true, attrs: 'autocomplete="username"' })}
${field({ label: '密码', name: 'password', type: 'password', required: true, attrs: 'autocomplete="current-password"' })}
${field({ label: '动态口令', name: 'code', attrs: CODE_ATTRS, hint: '身份验证器应用中的 6 位数字' })}
<p><button type="submit">登录</button></p></form>
<p class="muted">连续 5 次登录失败将锁定账户 15 分钟；30 分钟无操作自动退出。</p></div>`,
  });
}

export const consolePlugin: FastifyPluginAsync<{ platform: Platform }> = async (app, { platform }) => {
  const secure = platform.config.publicUrl.startsWith('https:');
  const cookieOpts = { path: '/console', httpOnly: true, sameSite: 'strict' as const, secure };
  app.decorateRequest('consoleActor', null);

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const status =
      err instanceof ConsoleHttpError
        ? err.statusCode
        : err instanceof OutOfScopeError
          ? 403
          : err.statusCode && err.statusCode < 500
            ? 400
            : 500;
    if (status >= 500) req.log.error({ err, requestId: req.id }, 'console error');
    // A route schema's refusal names fields in English: the reader gets one plain sentence instead.
    const message = status >= 500 ? `系统错误，请求编号 ${req.id}` : isSchemaError(err) ? BAD_REQUEST_TEXT : err.message;
    const body = h`${alertCard(h`<p>${message}</p><p><a href="/console">返回总览</a></p>`)}`;
    reply.code(status).type('text/html; charset=utf-8');
    return req.consoleActor
      ? consolePage(req.consoleActor, { title: status === 404 ? '不存在' : status === 403 ? '无权访问' : '出错了', active: '', body })
      : page({ title: '出错了', body });
  });

  app.addHook('onRequest', privatePageHeaders(CONSOLE_CSP));

  app.addHook('preHandler', async (req, reply) => {
    if (PUBLIC_ROUTES.has(req.routeOptions.url ?? '')) return;
    const found = await resolveSession(platform, req.cookies[SESSION_COOKIE]);
    if (!('actor' in found)) {
      reply.clearCookie(SESSION_COOKIE, cookieOpts);
      return reply.redirect(found.expired ? '/console/login?expired=1' : '/console/login', 303);
    }
    // Staff see their institution's name in the header, not its code: resolveSession reads it (actor.orgName).
    req.consoleActor = found.actor;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      if (!sameToken(fieldOf(req.body, '_csrf'), found.actor.csrf)) {
        await auditAction(platform.db, found.actor, 'console.csrf', req.url.slice(0, 120), null, { outcome: 'refused', requestId: req.id });
        throw new ConsoleHttpError(403, '表单已失效或来源不明（CSRF 校验失败），请刷新页面后重试');
      }
    }
  });

  CONSOLE_ASSETS.register(app, '/assets');

  const showLogin = (reply: FastifyReply, o: { error?: string; info?: string; username?: string }, status = 200) => {
    // Login CSRF: a double-submit token, since there is no session yet to hold one.
    const csrf = newCsrfToken();
    reply.setCookie(LOGIN_COOKIE, csrf, cookieOpts);
    return reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(loginPage({ ...o, csrf }));
  };

  const routes = pageRoutes(app);
  routes.get('/login', { schema: { querystring: Fields } }, async (req, reply) => {
    const q = req.query;
    return showLogin(reply, q.expired ? { info: '长时间未操作，会话已结束，请重新登录' } : {});
  });

  routes.post('/login', { schema: { body: FormBody } }, async (req, reply) => {
    const body = req.body ?? {};
    const username = str(body.username).trim();
    if (!sameToken(body._csrf, req.cookies[LOGIN_COOKIE])) {
      return showLogin(reply, { error: '登录表单已失效，请重试', username }, 403);
    }
    const r = await signIn(platform, { username, password: str(body.password), code: str(body.code), ip: req.ip });
    if (!r.ok) return showLogin(reply, { error: r.message, username }, 401);
    reply.clearCookie(LOGIN_COOKIE, cookieOpts);
    reply.setCookie(SESSION_COOKIE, r.token, cookieOpts);
    return reply.redirect('/console', 303);
  });

  app.post('/logout', async (req, reply) => {
    const actor = actorOf(req);
    await signOut(platform, req.cookies[SESSION_COOKIE]!, actor);
    reply.clearCookie(SESSION_COOKIE, cookieOpts);
    return reply.redirect('/console/login', 303);
  });

  const ctx: ConsoleContext = { app: routes, platform };
  await dashboardRoutes(ctx);
  await institutionRoutes(ctx);
  await batchRoutes(ctx);
  await appealRoutes(ctx);
  await auditRoutes(ctx);
  await policyRoutes(ctx);
  await coverageRoutes(ctx);
  await userRoutes(ctx);
  await citizenDataRoutes(ctx);
  await cardReviewRoutes(ctx);
  await onceRoutes(ctx);
  await secondFactorRoutes(ctx);
  await itemPageRoutes(ctx);
  await exportRoutes(ctx);
  await receiptRoutes(ctx);
};

// The page modules import these from context.js; re-exported so that imports written against plugin.js keep working.
export { actorOf, ConsoleHttpError, html, need, notFound, SESSION_COOKIE, type ConsoleContext } from './context.js';
