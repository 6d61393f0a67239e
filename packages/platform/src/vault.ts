import { createCipheriv, createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { publicRandomBytes } from './random-pool.js';

/**
 * Personal data at rest: SM4-CBC under the platform master key with a random IV per value, and a keyed
 * SM3 (HMAC-SM3) blind index so that equality look-ups never need the clear value.
 *
 * Sealed values carry an integrity tag (v2: encrypt-then-MAC, HMAC-SM3 over the IV and ciphertext under a
 * key of its own): a ciphertext changed in the database (a flipped block turns into another ID number
 * under CBC) is refused instead of decrypted. v1 values (no tag) still open, and are re-sealed as v2
 * whenever they are written again.
 */
const TAG_BYTES = 32;

export class SealedValueError extends Error {
  override name = 'SealedValueError';
}

export class Vault {
  readonly #encKey: Buffer;
  readonly #macKey: Buffer;
  readonly #indexKey: Buffer;
  readonly #deriveKey: Buffer;
  readonly fingerprint: string;
  /**
   * Keys this database used before a master-key rotation (newest first; `domain/keys/rotate.ts`). A
   * rotation re-seals every value and re-keys every index, but the audit trail is never rewritten: its
   * seals and its events' subject indexes stay under the key of their time, and are checked and searched
   * under these. Values sealed under them still open (the v2 tag tells which key sealed a value), which
   * is what lets a rotation that was interrupted be resumed.
   */
  #retired: Vault[] = [];

  constructor(masterKeyHex: string) {
    const master = Buffer.from(masterKeyHex, 'hex');
    if (master.length !== 16) throw new Error('master key must be 16 bytes');
    this.#encKey = createHmac('sm3', master).update('mdl/encryption').digest().subarray(0, 16);
    this.#macKey = createHmac('sm3', master).update('mdl/encryption-mac').digest();
    this.#indexKey = createHmac('sm3', master).update('mdl/blind-index').digest();
    this.#deriveKey = createHmac('sm3', master).update('mdl/derive').digest();
    this.fingerprint = createHmac('sm3', master).update('mdl/fingerprint').digest('hex').slice(0, 16);
  }

  encrypt(plain: string): string {
    const iv = publicRandomBytes(16);
    const c = createCipheriv('sm4-cbc', this.#encKey, iv);
    const body = Buffer.concat([iv, c.update(plain, 'utf8'), c.final()]);
    return 'v2:' + Buffer.concat([body, this.#tag(body)]).toString('base64');
  }

  decrypt(sealed: string): string {
    if (sealed.startsWith('v2:')) {
      const raw = Buffer.from(sealed.slice(3), 'base64');
      if (raw.length < 16 + 16 + TAG_BYTES) throw new SealedValueError('sealed value too short');
      const body = raw.subarray(0, raw.length - TAG_BYTES);
      const tag = raw.subarray(raw.length - TAG_BYTES);
      for (const v of [this, ...this.#retired]) if (timingSafeEqual(tag, v.#tag(body))) return v.#open(body);
      throw new SealedValueError('sealed value was altered');
    }
    if (sealed.startsWith('v1:')) {
      // v1 values predate the tag and the first rotation re-seals every one of them: one still here is
      // under the key the database started with, the oldest one known.
      const original = this.#retired[this.#retired.length - 1] ?? this;
      return original.#open(Buffer.from(sealed.slice(3), 'base64'));
    }
    throw new SealedValueError('unknown sealed value format');
  }

  #open(body: Buffer): string {
    const d = createDecipheriv('sm4-cbc', this.#encKey, body.subarray(0, 16));
    return Buffer.concat([d.update(body.subarray(16)), d.final()]).toString('utf8');
  }

  /** Makes the vault also open values sealed, and check MACs made, under earlier master keys. */
  retire(older: Vault[]): void {
    this.#retired = older.filter((v) => v.fingerprint !== this.fingerprint);
  }

  /** This vault and the retired ones, newest first. */
  get ring(): Vault[] {
    return [this, ...this.#retired];
  }

  #tag(body: Buffer): Buffer {
    return createHmac('sm3', this.#macKey).update('v2').update(body).digest();
  }

  encryptOpt(plain: string | undefined | null): string | null {
    return plain ? this.encrypt(plain) : null;
  }

  decryptOpt(sealed: string | undefined | null): string {
    return sealed ? this.decrypt(sealed) : '';
  }

  /** Blind index of a tuple; parts are joined unambiguously so ('a|b','c') and ('a','b|c') differ. */
  index(...parts: string[]): string {
    const h = createHmac('sm3', this.#indexKey);
    for (const p of parts) h.update(`${Buffer.byteLength(p)}:${p};`);
    return h.digest('base64url');
  }

  /** The key of a real-name person: (idType, idNo), idNo upper-cased (a trailing x is X). */
  personKey(idType: string, idNo: string): string {
    return this.index('person', idType, idNo.toUpperCase());
  }

  /** A non-real-name patient belongs to the reporting institution alone (guide §1.2.2). */
  localKey(orgId: string, idType: string, idNo: string, userName: string): string {
    return this.index('local', orgId, idType, idNo.toUpperCase(), userName);
  }

  /**
   * A non-real-name record reported without an idNo cannot be told apart from another patient's: it is a
   * subject of its own (never pooled with every other such record of the institution, issue #13 item 8).
   */
  recordKey(orgId: string, orgTraceId: string): string {
    return this.index('local-record', orgId, orgTraceId);
  }

  /**
   * A 32-byte key for one purpose (health codes, citizen cookies): each purpose gets its own key, so a
   * value made for one can never verify as another, and none of them is the encryption or index key.
   */
  subkey(purpose: string): Buffer {
    return createHmac('sm3', this.#deriveKey).update(`mdl/${purpose}`).digest();
  }

  /** HMAC-SM3 of `data` under the purpose's subkey. */
  mac(purpose: string, data: string | Buffer): Buffer {
    return createHmac('sm3', this.subkey(purpose)).update(data).digest();
  }

  /**
   * The name index is keyed per person (issue #12): HMAC over the person's own key and the name, so two
   * people of the same name have unrelated name indexes and the column links no one across records, while
   * the 强校验 (this name for this ID number) is still one comparison with a value read by the ID index.
   */
  nameKey(personKey: string, name: string): string {
    return this.index('name', personKey, name.trim());
  }
}
