import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The one CSRF implementation of the platform's forms (console, /card, the citizen app): a random token
 * and a constant-time comparison. Forms carry the token in a hidden `_csrf` field; the server holds it in
 * the session (console, citizen app) or, before there is a session (sign-in forms), in an HttpOnly
 * SameSite cookie (double submit).
 */
export const CSRF_FIELD = '_csrf';

export function newCsrfToken(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Whether a submitted token equals the expected one, in time that does not depend on where they differ.
 * Both sides are hashed first so that their lengths never show either; an empty expected token matches
 * nothing.
 */
export function sameToken(submitted: unknown, expected: string | undefined): boolean {
  if (typeof submitted !== 'string' || !expected) return false;
  const x = createHash('sha256').update(submitted).digest();
  const y = createHash('sha256').update(expected).digest();
  return timingSafeEqual(x, y) && submitted.length > 0;
}
