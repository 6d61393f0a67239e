import { randomBytes } from 'node:crypto';
import { sm3Hex } from '@mdl/protocol';

/**
 * Bearer tokens: citizen entry tokens (ORG_MDL_004) and their sessions, card-page sessions and their SMS-code
 * challenges, and console sessions. Each is 32 random bytes (43 base64url characters) handed to its holder and
 * stored only as its SM3 digest, so a copy of the database hands out no live token. One implementation, so the
 * kinds cannot drift apart in length or hash.
 */
export function newBearerToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored form of a bearer token: SM3, lowercase hex (64 characters, the `token_hash` columns). */
export function tokenHash(token: string): string {
  return sm3Hex(token);
}
