import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { ConsoleUser, DB } from '../../db/schema.js';
import { newBearerToken, tokenHash } from '../bearer-token.js';
import { auditEvent, audit, auditOperator, type AuditAction } from '../audit.js';
import type { Services } from '../deps.js';
import { countAttempt } from '../throttle.js';
import { secondFactorRequired } from '../second-factor.js';
import { hashPassword, needsRehash, passwordProblem, verifyPassword } from './passwords.js';
import { newTotpSecret, otpauthUri, verifyTotp } from './totp.js';

/**
 * Console accounts and sessions (等保 level 3): memory-hard password hashes, lock-out after repeated
 * failures, TOTP for every role, sessions that end after 30 idle minutes, a CSRF token per session.
 * Every sign-in, failed or not, and every sign-out or expiry is an audit event.
 */
export type Role = 'operator' | 'auditor' | 'staff';
export const ROLE_TEXT: Record<Role, string> = { operator: '运营人员', auditor: '审计人员（只读）', staff: '医疗机构人员' };

export const LOCK_AFTER_FAILURES = 5;
export const LOCK_MS = 15 * 60_000;
export const IDLE_MS = 30 * 60_000;
/** Even an active session is asked to sign in again after a working day. */
export const MAX_SESSION_MS = 12 * 3600_000;

/** Who is asking, as every console query needs it: staff are confined to `orgId`. */
export interface Actor {
  userId: number;
  username: string;
  role: Role;
  orgId: string | null;
  /** The institution's name for staff (shown in the page header), read with the session. */
  orgName?: string;
  csrf: string;
}

/** The orgId every query must be filtered by, or undefined for platform-wide roles. */
export function orgScope(actor: Actor): string | undefined {
  return actor.role === 'staff' ? (actor.orgId ?? '\u0000no-org') : undefined;
}

export class UserInputError extends Error {
  override name = 'UserInputError';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export interface NewUser {
  username: string;
  role: Role;
  password: string;
  orgId?: string | null | undefined;
  displayName?: string | null | undefined;
}

/** What is wrong with a new account's fields, every field at once (in form order); what needs the database is not here. */
export function newUserProblems(input: NewUser): Partial<Record<'username' | 'role' | 'orgId' | 'password', string>> {
  const out: Partial<Record<'username' | 'role' | 'orgId' | 'password', string>> = {};
  if (!/^[A-Za-z0-9_.-]{2,40}$/.test(input.username)) out.username = '用户名为 2 到 40 个字母、数字或 _ . -';
  if (!['operator', 'auditor', 'staff'].includes(input.role)) out.role = '请选择角色';
  else if (input.role === 'staff' && !input.orgId) out.orgId = '医疗机构人员必须指定所属机构';
  const pwProblem = passwordProblem(input.password);
  if (pwProblem) out.password = pwProblem;
  return out;
}

export async function createUser(
  platform: Pick<Services, 'db' | 'vault'>,
  input: NewUser,
  by: string,
): Promise<{ user: ConsoleUser; totpSecret: string; otpauth: string }> {
  const { db, vault } = platform;
  const problems = newUserProblems(input);
  const [field, message] = Object.entries(problems)[0] ?? [];
  if (field && message) throw new UserInputError(message, field);
  let orgId: string | null = null;
  if (input.role === 'staff') {
    if (!input.orgId) throw new UserInputError('医疗机构人员必须指定所属机构', 'orgId');
    const inst = await db.selectFrom('institution').select('org_id').where('org_id', '=', input.orgId).executeTakeFirst();
    if (!inst) throw new UserInputError(`机构 ${input.orgId} 不存在`, 'orgId');
    orgId = inst.org_id;
  }
  const exists = await db.selectFrom('console_user').select('id').where('username', '=', input.username).executeTakeFirst();
  if (exists) throw new UserInputError('用户名已存在', 'username');
  // Every role has a second factor: an auditor reads personal data, staff act for an institution.
  const totpSecret = newTotpSecret();
  const passwordHash = await hashPassword(input.password);
  const user = await db.transaction().execute(async (trx) => {
    const u = await trx
      .insertInto('console_user')
      .values({
        username: input.username,
        role: input.role,
        org_id: orgId,
        display_name: input.displayName ?? null,
        password_hash: passwordHash,
        totp_secret_enc: vault.encrypt(totpSecret),
        totp_last_step: null,
        locked_until: null,
        last_login_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(
      trx,
      auditEvent('operator', by, 'console.user.create', {
        orgId: orgId,
        target: `user:${input.username}`,
        detail: JSON.stringify({ role: input.role }),
      }),
    );
    return u;
  });
  return { user, totpSecret, otpauth: otpauthUri(totpSecret, input.username) };
}

export type SignInResult = { ok: true; token: string; actor: Actor } | { ok: false; message: string; field?: 'code' | undefined };

/** The one answer to every failed sign-in: wrong name, password or code, locked, disabled, throttled. */
export const SIGN_IN_FAILED = '用户名、密码或动态口令不正确，或账户暂不可用';
const ADDRESS_WINDOW_MS = 15 * 60_000;
// Checked against when the user does not exist, so a wrong name costs as long as a wrong password.
let dummyHash: Promise<string> | undefined;

/**
 * Sign-in. Every check that can refuse without the password runs before the (deliberately slow) hash:
 * the per-address limit, then the account's attempt reservation, then the TOTP step. The reservation
 * and the step are single conditional UPDATEs, so parallel attempts cannot share a count or a code.
 */
export async function signIn(
  platform: Pick<Services, 'config' | 'db' | 'now' | 'vault'>,
  input: { username: string; password: string; code: string; ip: string | null },
): Promise<SignInResult> {
  const { db, vault } = platform;
  const now = new Date(platform.now());
  const username = input.username.slice(0, 40);
  const refuse = async (reason: string, u?: ConsoleUser): Promise<SignInResult> => {
    await audit(
      db,
      auditEvent('operator', (u?.username ?? username).slice(0, 64) || '-', 'console.login', {
        orgId: u?.org_id ?? null,
        target: input.ip ? `ip:${input.ip}` : null,
        outcome: 'refused',
        detail: reason,
      }),
    );
    return { ok: false, message: SIGN_IN_FAILED };
  };
  const fromAddress = await countAttempt(db, `console-ip:${input.ip ?? '-'}`, now, ADDRESS_WINDOW_MS);
  if (fromAddress > platform.config.consoleLoginPerAddress) return refuse('address limit');
  const user = await db.selectFrom('console_user').selectAll().where('username', '=', username).executeTakeFirst();
  if (!user) {
    await verifyPassword(input.password, await (dummyHash ??= hashPassword('not-a-real-password-1A')));
    return refuse('unknown user');
  }
  const attempt = await reserveAttempt(db, user.id, now);
  if (attempt === undefined) return refuse(user.status !== 'active' ? 'disabled' : 'locked', user);
  const lockNote = attempt >= LOCK_AFTER_FAILURES ? '; locked' : '';
  // Staff without an enrolled factor pass on the password alone only where their institution allows it.
  if (await secondFactorRequired(db, user)) {
    const step = user.totp_secret_enc
      ? verifyTotp(vault.decrypt(user.totp_secret_enc), input.code.trim(), now.getTime(), user.totp_last_step)
      : undefined;
    if (step === undefined) return refuse((user.totp_secret_enc ? 'bad second factor' : 'no second factor') + lockNote, user);
    if (!(await claimTotpStep(db, user.id, step))) return refuse('second factor already used' + lockNote, user);
  }
  if (!(await verifyPassword(input.password, user.password_hash))) return refuse('bad password' + lockNote, user);
  return openSession(platform, user, now, input);
}

/**
 * Counts one attempt against the account before anything is checked, and sets the lock when the count
 * reaches the limit; a good sign-in clears both. No row: disabled or locked (refused without a hash).
 */
async function reserveAttempt(db: Kysely<DB>, userId: number, now: Date): Promise<number | undefined> {
  const next = sql`CASE WHEN locked_until IS NOT NULL THEN 1 ELSE failed_count + 1 END`;
  const r = await sql<{ failed_count: number }>`
    UPDATE console_user SET
      failed_count = ${next},
      locked_until = CASE WHEN ${next} >= ${LOCK_AFTER_FAILURES} THEN ${new Date(now.getTime() + LOCK_MS)}::timestamptz ELSE NULL END
    WHERE id = ${userId} AND status = 'active' AND (locked_until IS NULL OR locked_until <= ${now})
    RETURNING failed_count`.execute(db);
  return r.rows[0]?.failed_count;
}

/** A TOTP step is good once: only the first of several parallel sign-ins with one code moves it on. */
async function claimTotpStep(db: Kysely<DB>, userId: number, step: number): Promise<boolean> {
  const r = await db
    .updateTable('console_user')
    .set({ totp_last_step: step })
    .where('id', '=', userId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .returning('id')
    .executeTakeFirst();
  return r !== undefined;
}

async function openSession(
  platform: Pick<Services, 'db'>,
  user: ConsoleUser,
  now: Date,
  input: { password: string; ip: string | null },
): Promise<SignInResult> {
  const { db } = platform;
  // An old, cheaper hash is replaced while the password is at hand.
  const rehash = needsRehash(user.password_hash) ? await hashPassword(input.password) : undefined;
  // Housekeeping on the way: sessions long past any timeout are of no use, even to the audit trail
  // (which has its own events).
  await db
    .deleteFrom('console_session')
    .where('last_seen_at', '<', new Date(now.getTime() - 7 * 86_400_000))
    .execute();
  const token = newBearerToken();
  const csrf = randomBytes(24).toString('base64url');
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('console_user')
      .set({ failed_count: 0, locked_until: null, last_login_at: now, ...(rehash ? { password_hash: rehash } : {}) })
      .where('id', '=', user.id)
      .execute();
    await trx
      .insertInto('console_session')
      .values({
        token_hash: tokenHash(token),
        user_id: user.id,
        csrf_token: csrf,
        ip: input.ip,
        created_at: now,
        last_seen_at: now,
        ended_at: null,
      })
      .execute();
    await audit(
      trx,
      auditEvent('operator', user.username, 'console.login', {
        orgId: user.org_id,
        target: input.ip ? `ip:${input.ip}` : null,
        detail: rehash ? 'password re-hashed' : null,
      }),
    );
  });
  return { ok: true, token, actor: { userId: user.id, username: user.username, role: user.role, orgId: user.org_id, csrf } };
}

export type SessionLookup = { actor: Actor } | { expired: boolean };

/** Resolves a session cookie. An idle or over-long session is ended (and audited) on first sight. */
export async function resolveSession(platform: Pick<Services, 'db' | 'now'>, token: string | undefined): Promise<SessionLookup> {
  if (!token || token.length > 100) return { expired: false };
  const { db } = platform;
  const now = platform.now();
  const row = await db
    .selectFrom('console_session as s')
    .innerJoin('console_user as u', 'u.id', 's.user_id')
    .leftJoin('institution as i', 'i.org_id', 'u.org_id')
    .select([
      's.token_hash',
      's.csrf_token',
      's.created_at',
      's.last_seen_at',
      'u.id',
      'u.username',
      'u.role',
      'u.org_id',
      'u.status',
      'i.org_name',
    ])
    .where('s.token_hash', '=', tokenHash(token))
    .where('s.ended_at', 'is', null)
    .executeTakeFirst();
  if (!row) return { expired: false };
  const idle = now - new Date(row.last_seen_at).getTime() > IDLE_MS;
  const tooLong = now - new Date(row.created_at).getTime() > MAX_SESSION_MS;
  if (idle || tooLong || row.status !== 'active') {
    await endSession(db, row.token_hash, new Date(now), row.username, row.org_id, idle ? 'idle' : tooLong ? 'max-age' : 'user disabled');
    return { expired: true };
  }
  // Written at most once a minute: every page view should not be a write.
  if (now - new Date(row.last_seen_at).getTime() > 60_000) {
    await db
      .updateTable('console_session')
      .set({ last_seen_at: new Date(now) })
      .where('token_hash', '=', row.token_hash)
      .execute();
  }
  const actor: Actor = { userId: row.id, username: row.username, role: row.role, orgId: row.org_id, csrf: row.csrf_token };
  if (row.org_id) actor.orgName = row.org_name ?? row.org_id;
  return { actor };
}

async function endSession(db: Kysely<DB>, sessionHash: string, at: Date, username: string, orgId: string | null, why: string) {
  await db.updateTable('console_session').set({ ended_at: at }).where('token_hash', '=', sessionHash).execute();
  await audit(
    db,
    auditEvent('operator', username, why === 'sign-out' ? 'console.logout' : 'console.session.expire', {
      orgId: orgId,
      detail: why,
    }),
  );
}

export async function signOut(platform: Pick<Services, 'db' | 'now'>, token: string, actor: Actor): Promise<void> {
  await endSession(platform.db, tokenHash(token), new Date(platform.now()), actor.username, actor.orgId, 'sign-out');
}

/** Audit one console action; `subject` is a blind index when the action concerns a person. */
export async function auditAction(
  db: Kysely<DB>,
  actor: Actor,
  action: AuditAction,
  target: string | null,
  detail: unknown = null,
  opts: { subject?: string | null; outcome?: 'ok' | 'refused'; orgId?: string | null; requestId?: string | null } = {},
): Promise<void> {
  await auditOperator(db, actor, action, { ...opts, target, detail });
}

/**
 * A user changes their own password: the current one is checked, the new one must meet the rules and
 * differ, and every other session of the user ends (a stolen session does not outlive the change).
 */
export async function changePassword(
  platform: Pick<Services, 'db' | 'now'>,
  actor: Actor,
  input: { current: string; next: string; confirm: string; keepTokenHash: string },
): Promise<Record<string, string>> {
  const { db } = platform;
  const user = await db.selectFrom('console_user').select(['password_hash']).where('id', '=', actor.userId).executeTakeFirstOrThrow();
  if (!(await verifyPassword(input.current, user.password_hash))) {
    await auditAction(db, actor, 'console.password.change', `user:${actor.username}`, 'bad current password', { outcome: 'refused' });
    return { current: '当前密码不正确' };
  }
  const problem = passwordProblem(input.next);
  if (problem) return { next: problem };
  if (input.next !== input.confirm) return { confirm: '两次输入的新密码不一致' };
  if (input.next === input.current) return { next: '新密码不能与当前密码相同' };
  const hash = await hashPassword(input.next);
  const now = new Date(platform.now());
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('console_user').set({ password_hash: hash, updated_at: now }).where('id', '=', actor.userId).execute();
    await trx
      .updateTable('console_session')
      .set({ ended_at: now })
      .where('user_id', '=', actor.userId)
      .where('token_hash', '<>', input.keepTokenHash)
      .where('ended_at', 'is', null)
      .execute();
    await auditAction(trx, actor, 'console.password.change', `user:${actor.username}`);
  });
  return {};
}
