import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import type { DB } from '../../db/schema.js';
import type { HttpPost } from '../../outbound/pinned-post.js';
import type { Vault } from '../../vault.js';

/**
 * Sends a text message to a mobile phone: the /card sign-in codes. One interface, two implementations
 * chosen by the settings: the operator's HTTP gateway (MDL_SMS_URL, request shape in docs/operations.md),
 * or, in a sandbox only, an outbox table the tester reads at /card/sandbox/sms (as reminders have theirs).
 */
export interface SmsGateway {
  readonly kind: 'http' | 'outbox';
  /** Resolves once the gateway has taken the message; throws when it has not. */
  send(phone: string, text: string): Promise<void>;
}

/** Production without an SMS gateway: nothing is sent, nothing is written, every send fails. */
export class SmsUnavailable extends Error {}

const SMS_TIMEOUT_MS = 5000;

/** The operator's gateway: POST JSON, bearer credential, any 2xx is taken. The URL still passes the address policy. */
export class HttpSmsGateway implements SmsGateway {
  readonly kind = 'http' as const;
  constructor(
    private readonly post: HttpPost,
    private readonly url: string,
    private readonly credential: string,
  ) {}

  async send(phone: string, text: string): Promise<void> {
    let ports: number[] = [];
    try {
      const u = new URL(this.url);
      ports = [u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80];
    } catch {
      // The address policy refuses a URL that does not parse.
    }
    const res = await this.post(
      { url: this.url, ports },
      JSON.stringify({ phone, text }),
      { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${this.credential}` },
      SMS_TIMEOUT_MS,
    );
    if (res.status < 200 || res.status > 299) throw new Error(`SMS gateway answered HTTP ${res.status}`);
  }
}

/** The sandbox's outbox: phone and text sealed like every other personal value. */
export class OutboxSmsGateway implements SmsGateway {
  readonly kind = 'outbox' as const;
  constructor(
    private readonly db: Kysely<DB>,
    private readonly vault: Vault,
  ) {}

  async send(phone: string, text: string): Promise<void> {
    await this.db
      .insertInto('sms_outbox')
      .values({ phone_enc: this.vault.encrypt(phone), text_enc: this.vault.encrypt(text) })
      .execute();
  }
}

class RefusingSmsGateway implements SmsGateway {
  readonly kind = 'outbox' as const;
  async send(): Promise<void> {
    throw new SmsUnavailable('MDL_SMS_URL is not set: production sends no SMS to an outbox');
  }
}

/** The gateway the settings name. Production never gets the outbox: without MDL_SMS_URL every send fails. */
export function smsGateway(
  config: Pick<Config, 'deployment' | 'smsUrl' | 'smsCredential'>,
  deps: { db: Kysely<DB>; vault: Vault; post: HttpPost },
): SmsGateway {
  if (config.smsUrl) return new HttpSmsGateway(deps.post, config.smsUrl, config.smsCredential ?? '');
  if (config.deployment !== 'sandbox') return new RefusingSmsGateway();
  return new OutboxSmsGateway(deps.db, deps.vault);
}

/** The sandbox outbox, newest first, opened for the tester's page. Never called on production. */
export async function readOutbox(db: Kysely<DB>, vault: Vault, limit = 20): Promise<{ phone: string; text: string; at: Date }[]> {
  const rows = await db.selectFrom('sms_outbox').selectAll().orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({ phone: vault.decrypt(r.phone_enc), text: vault.decrypt(r.text_enc), at: new Date(r.created_at) }));
}
