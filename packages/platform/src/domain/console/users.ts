import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Services } from '../deps.js';
import { auditAction, type Actor } from './auth.js';

/** Console accounts, oldest first: the operators' account page and `mdl users list` read the same rows. */
export function listUsers(db: Kysely<DB>) {
  return db
    .selectFrom('console_user')
    .select(['id', 'username', 'role', 'org_id', 'status', 'locked_until', 'last_login_at', 'created_at'])
    .orderBy('id')
    .execute();
}

/**
 * An operator enables or disables another account (which also clears a lock-out). A disabled account's open
 * sessions end at once, not at their idle timeout; the change, the ended sessions and the audit event are one
 * transaction. Returns false for no such account or the operator's own.
 */
export async function setUserStatus(
  deps: Pick<Services, 'db' | 'now'>,
  actor: Actor,
  userId: number,
  status: 'active' | 'disabled',
): Promise<boolean> {
  if (userId === actor.userId) return false;
  const at = new Date(deps.now());
  return deps.db.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable('console_user')
      .set({ status, failed_count: 0, locked_until: null, updated_at: at })
      .where('id', '=', userId)
      .returning('username')
      .executeTakeFirst();
    if (!r) return false;
    await auditAction(trx, actor, status === 'active' ? 'console.user.enable' : 'console.user.disable', `user:${r.username}`);
    if (status === 'disabled') {
      await trx.updateTable('console_session').set({ ended_at: at }).where('user_id', '=', userId).where('ended_at', 'is', null).execute();
    }
    return true;
  });
}

/** The account whose second factor is being enrolled (web/console/second-factor.ts). */
export function enrolmentUser(db: Kysely<DB>, userId: number) {
  return db.selectFrom('console_user').select(['id', 'username', 'totp_secret_enc']).where('id', '=', userId).executeTakeFirstOrThrow();
}
