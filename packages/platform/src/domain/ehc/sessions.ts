import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { MdlError, RespCode } from '@mdl/protocol';
import type { Config } from '../../config.js';
import type { DB, EhcAuthSession } from '../../db/schema.js';
import type { Vault } from '../../vault.js';

/**
 * Authorization sessions of ORG_EHC_001/002: a hospital opens one under its own `outAuthNo`, the citizen
 * authorizes or refuses it on the card page reached through `authUrl`, and the hospital polls the result.
 *
 * States: `ing` until the citizen decides; `succ` (bound to the citizen's card) or `cancel`; `fail` once
 * the session expired undecided. Expiry is read from `expires_at` rather than written by a job, so every
 * process agrees on it at once.
 */
export type AuthStatus = 'ing' | 'succ' | 'fail' | 'cancel';

export interface SessionDeps {
  db: Kysely<DB>;
  vault: Vault;
  /** Read at each call (PUBLIC_URL, MDL_EHC_SESSION_TTL_S), not copied. */
  config: Pick<Config, 'publicUrl' | 'ehcSessionTtlSeconds'>;
}

/** Path of the citizen's authorization page; authUrl = PUBLIC_URL + this. */
export function authPath(token: string): string {
  return `/card/auth/${token}`;
}

export function effectiveStatus(s: EhcAuthSession, nowMs: number): AuthStatus {
  if (s.status === 'ing' && s.expires_at.getTime() <= nowMs) return 'fail';
  return s.status;
}

/**
 * ORG_EHC_001. The same outAuthNo again while its session is still open answers the same link (a retry
 * after a lost reply must not strand the citizen); once the session is over, the number is spent.
 */
export async function openSession(
  deps: SessionDeps,
  input: { orgId: string; appId: string; outAuthNo: string },
  nowMs: number,
): Promise<{ session: EhcAuthSession; authUrl: string; token: string | undefined }> {
  const token = randomBytes(16).toString('base64url');
  const authUrl = deps.config.publicUrl + authPath(token);
  const inserted = await deps.db
    .insertInto('ehc_auth_session')
    .values({
      token_bidx: deps.vault.index('ehc-auth', token),
      org_id: input.orgId,
      app_id: input.appId,
      out_auth_no: input.outAuthNo,
      auth_url_enc: deps.vault.encrypt(authUrl),
      expires_at: new Date(nowMs + deps.config.ehcSessionTtlSeconds * 1000),
    })
    .onConflict((oc) => oc.columns(['org_id', 'out_auth_no']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { session: inserted, authUrl, token };
  const existing = await findByOutAuthNo(deps.db, input.orgId, input.outAuthNo);
  if (!existing) throw new Error('outAuthNo conflict without a row');
  const status = effectiveStatus(existing, nowMs);
  if (status !== 'ing') {
    throw new MdlError(RespCode.APP_BAD_REQUEST, `外部授权流水号 ${input.outAuthNo} 已使用（授权状态 ${status}），请使用新的流水号`);
  }
  return { session: existing, authUrl: deps.vault.decrypt(existing.auth_url_enc), token: undefined };
}

export async function findByOutAuthNo(db: Kysely<DB>, orgId: string, outAuthNo: string): Promise<EhcAuthSession | undefined> {
  return db.selectFrom('ehc_auth_session').selectAll().where('org_id', '=', orgId).where('out_auth_no', '=', outAuthNo).executeTakeFirst();
}

export async function findByToken(db: Kysely<DB>, vault: Vault, token: string): Promise<EhcAuthSession | undefined> {
  if (!/^[A-Za-z0-9_-]{22}$/.test(token)) return undefined;
  return db.selectFrom('ehc_auth_session').selectAll().where('token_bidx', '=', vault.index('ehc-auth', token)).executeTakeFirst();
}

/**
 * The citizen's decision. Only an open, unexpired session moves, and only once: a second tab or a late
 * click gets `undefined` and the page says what happened instead.
 */
export async function decide(
  db: Kysely<DB>,
  sessionId: number,
  decision: { status: 'succ'; personId: number } | { status: 'cancel' },
  nowMs: number,
): Promise<EhcAuthSession | undefined> {
  return db
    .updateTable('ehc_auth_session')
    .set({
      status: decision.status,
      person_id: decision.status === 'succ' ? decision.personId : null,
      decided_at: new Date(nowMs),
    })
    .where('id', '=', sessionId)
    .where('status', '=', 'ing')
    .where('expires_at', '>', new Date(nowMs))
    .returningAll()
    .executeTakeFirst();
}
