import type { Kysely } from 'kysely';
import type { ConsoleUser, DB } from '../db/schema.js';
import type { Vault } from '../vault.js';
import { newTotpSecret, otpauthUri, verifyTotp } from './console/totp.js';
import { audit, auditEvent } from './audit.js';
import type { ChangedBy } from './credentials.js';

/**
 * Second factor per institution (issue #12 item 3). Every account created since issue #12 gets a TOTP
 * secret, and an account that has one must always give a code. What an operator decides per institution
 * is whether that institution's staff accounts *without* an enrolled factor (accounts from before, or
 * whose factor an operator removed) may still sign in with their password alone, as the issue asks
 * ("an operator may enforce it per institution"). Operators always have one (a CHECK in migration 005);
 * an auditor without one is refused, since an auditor reads every institution's data.
 */

/** Whether a sign-in of this account must present a valid code. */
export async function secondFactorRequired(
  db: Kysely<DB>,
  user: Pick<ConsoleUser, 'role' | 'org_id' | 'totp_secret_enc'>,
): Promise<boolean> {
  if (user.totp_secret_enc) return true;
  if (user.role !== 'staff' || !user.org_id) return true;
  const inst = await db.selectFrom('institution').select('require_totp').where('org_id', '=', user.org_id).executeTakeFirst();
  return inst?.require_totp ?? true;
}

/** The operator's setting, audited as an institution change whichever door it came through. Returns false for an unknown orgId. */
export async function setInstitutionRequiresTotp(db: Kysely<DB>, orgId: string, required: boolean, by: ChangedBy): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable('institution')
      .set({ require_totp: required, updated_at: new Date() })
      .where('org_id', '=', orgId)
      .returning('org_id')
      .executeTakeFirst();
    if (!r) return false;
    await audit(
      trx,
      auditEvent(by.actorType, by.actorId.slice(0, 64), 'institution.require_totp', {
        orgId: orgId,
        target: `org:${orgId}`,
        detail: JSON.stringify({ required }),
      }),
    );
    return true;
  });
}

/**
 * Enrolment, in two steps so that a factor is stored only once the person has shown that their app
 * produces its codes: `proposeEnrolment` makes a secret and seals it (with the account id and an expiry)
 * for the form to carry; `confirmEnrolment` opens it, checks the code and stores the secret, replacing any
 * earlier one. The step the code used is claimed at once, so it cannot also open a session.
 */
const PROPOSAL_MS = 10 * 60_000;

export function proposeEnrolment(
  vault: Vault,
  user: { id: number; username: string },
  now: number,
): { sealed: string; secret: string; otpauth: string } {
  const secret = newTotpSecret();
  const sealed = vault.encrypt(JSON.stringify({ purpose: 'totp-enrol', uid: user.id, secret, exp: now + PROPOSAL_MS }));
  return { sealed, secret, otpauth: otpauthUri(secret, user.username) };
}

export async function confirmEnrolment(
  db: Kysely<DB>,
  vault: Vault,
  user: { id: number; username: string; org_id: string | null },
  input: { sealed: string; code: string },
  now: number,
): Promise<{ ok: true } | { ok: false; message: string }> {
  let proposal: { purpose?: string; uid?: number; secret?: string; exp?: number };
  try {
    proposal = JSON.parse(vault.decrypt(input.sealed)) as typeof proposal;
  } catch {
    return { ok: false, message: '绑定请求无效，请重新开始' };
  }
  if (proposal.purpose !== 'totp-enrol' || proposal.uid !== user.id || !proposal.secret || !proposal.exp || proposal.exp < now) {
    return { ok: false, message: '绑定请求已过期，请重新开始' };
  }
  const step = verifyTotp(proposal.secret, input.code.trim(), now);
  if (step === undefined) return { ok: false, message: '动态口令不正确，请核对手机时间后重试' };
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('console_user')
      .set({ totp_secret_enc: vault.encrypt(proposal.secret!), totp_last_step: step, updated_at: new Date(now) })
      .where('id', '=', user.id)
      .execute();
    await audit(
      trx,
      auditEvent('operator', user.username.slice(0, 64), 'console.totp.enrol', {
        orgId: user.org_id,
        target: `user:${user.username}`,
      }),
    );
  });
  return { ok: true };
}
