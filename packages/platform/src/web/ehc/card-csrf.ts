import type { FastifyReply, FastifyRequest } from 'fastify';
import { h, type Html } from '../html.js';
import { fieldOf } from '../route-schemas.js';
import { CSRF_FIELD, newCsrfToken, sameToken } from '../csrf.js';

/**
 * CSRF for every /card form, with the platform's one CSRF implementation (web/csrf.ts). Sign-in forms
 * come before any session, so the token is a double-submit cookie: HttpOnly, SameSite=Strict, path /card,
 * and every form carries it in `_csrf`. A cross-site page can neither read the cookie nor set the field.
 */
export const CARD_CSRF_COOKIE = 'ehc_csrf';

/** The token of this browser, set now when it has none (a page with a form calls this before rendering). */
export function cardCsrf(req: FastifyRequest, reply: FastifyReply, secure: boolean): string {
  const have = req.cookies[CARD_CSRF_COOKIE];
  if (have && /^[A-Za-z0-9_-]{32}$/.test(have)) return have;
  const token = newCsrfToken();
  reply.setCookie(CARD_CSRF_COOKIE, token, { path: '/card', httpOnly: true, sameSite: 'strict', secure });
  return token;
}

export function csrfInput(token: string): Html {
  return h`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;
}

/** Whether a POST carries this browser's token. */
export function cardCsrfOk(req: FastifyRequest): boolean {
  return sameToken(fieldOf(req.body, CSRF_FIELD), req.cookies[CARD_CSRF_COOKIE]);
}
