import { randomBytes, randomInt } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Vault } from '../../vault.js';
import { newBearerToken, tokenHash } from '../bearer-token.js';
import type { SmsGateway } from '../sms/gateway.js';

/**
 * One-time codes sent by SMS for the /card pages: 6 digits, a short life (MDL_SMS_CODE_TTL_S), used once,
 * at most CODE_ATTEMPTS guesses, stored only as a keyed digest bound to its challenge (a copy of the
 * database does not give the code, and 10^6 guesses offline need the master key).
 *
 * A challenge is opened for every well-formed sign-in, right or wrong: when the details matched nobody the
 * challenge has no person and a digest no code matches, and no SMS goes out. So the page after the first
 * step reads the same whatever was typed, and every failure shows at the code step, in one message.
 */
export const CODE_ATTEMPTS = 5;
export type OtpPurpose = 'sign-in' | 'phone';

function codeDigest(vault: Vault, token: string, code: string): string {
  return vault.index('card-otp', token, code);
}

export function smsText(code: string, ttlSeconds: number, purpose: OtpPurpose): string {
  const what = purpose === 'sign-in' ? '登录电子健康卡' : '绑定电子健康卡手机号';
  return `【福建省医疗欠费信息平台】验证码 ${code}，用于${what}，${Math.round(ttlSeconds / 60)} 分钟内有效。请勿告诉他人，工作人员不会索要验证码。`;
}

/**
 * Opens a challenge and, when it is for someone, sends the code. `to` undefined: a challenge for nobody.
 * Returns the challenge token the code page carries (stored only as its SM3 digest).
 */
export async function openChallenge(
  db: Kysely<DB>,
  vault: Vault,
  sms: SmsGateway,
  o: {
    to: { personId: number; phone: string } | undefined;
    /** The phone to record when the code is right (purpose 'phone'). */
    recordPhone?: string;
    purpose: OtpPurpose;
    throttleKey: string;
    nowMs: number;
    ttlSeconds: number;
    onSendError?: (err: unknown) => void;
  },
): Promise<string> {
  const token = newBearerToken();
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const now = new Date(o.nowMs);
  // Housekeeping on the way: a challenge a day past its expiry is of no use.
  await db
    .deleteFrom('card_otp')
    .where('expires_at', '<', new Date(o.nowMs - 86_400_000))
    .execute();
  await db
    .insertInto('card_otp')
    .values({
      token_hash: tokenHash(token),
      person_id: o.to?.personId ?? null,
      throttle_key: o.throttleKey.slice(0, 160),
      code_hash: o.to ? codeDigest(vault, token, code) : codeDigest(vault, token, randomBytes(16).toString('hex')),
      phone_enc: o.recordPhone ? vault.encrypt(o.recordPhone) : null,
      purpose: o.purpose,
      created_at: now,
      expires_at: new Date(o.nowMs + o.ttlSeconds * 1000),
      used_at: null,
    })
    .execute();
  if (o.to) {
    const sending = sms.send(o.to.phone, smsText(code, o.ttlSeconds, o.purpose));
    // An HTTP gateway is not awaited: the answer must take as long whether or not a code went out (a slow
    // gateway would otherwise tell that the details matched). Its failures are reported to onSendError.
    if (sms.kind === 'http') void sending.catch((err: unknown) => o.onSendError?.(err));
    else await sending;
  }
  return token;
}

export type CheckOutcome =
  { ok: true; personId: number; phone: string | undefined; throttleKey: string } | { ok: false; throttleKey: string | undefined };

/** The identity counter of a challenge, so that code guesses count against the identity too. */
export async function challengeKey(db: Kysely<DB>, token: string): Promise<string | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const row = await db.selectFrom('card_otp').select('throttle_key').where('token_hash', '=', tokenHash(token)).executeTakeFirst();
  return row?.throttle_key;
}

/**
 * Checks a code in one conditional UPDATE: it spends an attempt and, when the code is right, marks the
 * challenge used in the same statement. Parallel submissions of the right code: one wins; an expired,
 * used or exhausted challenge matches no row.
 */
export async function checkCode(
  db: Kysely<DB>,
  vault: Vault,
  o: { token: string; code: string; purpose: OtpPurpose; nowMs: number },
): Promise<CheckOutcome> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(o.token)) return { ok: false, throttleKey: undefined };
  const now = new Date(o.nowMs);
  const attempt = /^\d{6}$/.test(o.code) ? codeDigest(vault, o.token, o.code) : 'x';
  const row = await db
    .updateTable('card_otp')
    .set({
      attempts: sql`attempts + 1`,
      used_at: sql`CASE WHEN code_hash = ${attempt} THEN ${now}::timestamptz ELSE NULL END`,
    })
    .where('token_hash', '=', tokenHash(o.token))
    .where('purpose', '=', o.purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .where('attempts', '<', CODE_ATTEMPTS)
    .returning(['person_id', 'used_at', 'throttle_key', 'phone_enc'])
    .executeTakeFirst();
  if (!row) return { ok: false, throttleKey: await challengeKey(db, o.token) };
  if (!row.used_at || row.person_id === null) return { ok: false, throttleKey: row.throttle_key };
  return {
    ok: true,
    personId: Number(row.person_id),
    phone: row.phone_enc ? vault.decrypt(row.phone_enc) : undefined,
    throttleKey: row.throttle_key,
  };
}
