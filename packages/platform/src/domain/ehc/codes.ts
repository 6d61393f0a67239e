import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Vault } from '../../vault.js';

/**
 * The dynamic e-health code (电子健康码) a citizen shows at a kiosk (被扫, ORG_EHC_003):
 *
 *   EHC1.<env>.<card>.<mac>      e.g. EHC1.PROD.q0x9…(22).Zk3…(22)   (at most 67 characters)
 *
 * - `card`: one SM4 block (person id, expiry in Unix seconds, 4 random bytes), so the code names the
 *   card without showing any identifier in clear and two codes never look alike.
 * - `mac`: HMAC-SM3 over `EHC1.<env>.<card>`, truncated to 128 bits, under a key derived from the master
 *   key: a code cannot be forged or moved to another card or environment.
 * - `env`: the platform's MDL_EHC_ENV, so a code from a test platform gets a precise refusal in production.
 */
export const CODE_VERSION = 'EHC1';
const CODE_RE = /^EHC1\.([A-Z0-9]{1,16})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{22})$/;

export interface IssuedCode {
  code: string;
  expiresAt: number;
}

export type CodeCheck =
  | { ok: true; personId: number; expiresAt: number; /** The code's own identity, to spend it once. */ codeId: string }
  | { ok: false; reason: 'malformed' | 'other_env' | 'forged' | 'expired'; message: string };

export class HealthCodes {
  readonly #encKey: Buffer;
  constructor(
    private readonly vault: Vault,
    private readonly env: string,
    private readonly ttlSeconds: number,
  ) {
    this.#encKey = vault.subkey('ehc-code-enc').subarray(0, 16);
  }

  issue(personId: number, nowMs: number): IssuedCode {
    const expiresAt = Math.floor(nowMs / 1000) + this.ttlSeconds;
    const block = Buffer.alloc(16);
    block.writeBigUInt64BE(BigInt(personId), 0);
    block.writeUInt32BE(expiresAt, 8);
    randomBytes(4).copy(block, 12);
    const c = createCipheriv('sm4-ecb', this.#encKey, null).setAutoPadding(false);
    const card = Buffer.concat([c.update(block), c.final()]).toString('base64url');
    const signed = `${CODE_VERSION}.${this.env}.${card}`;
    return { code: `${signed}.${this.#mac(signed)}`, expiresAt: expiresAt * 1000 };
  }

  /** Checks in this order: shape, environment, signature, expiry. Only a valid code names a person. */
  verify(code: string, nowMs: number): CodeCheck {
    const m = CODE_RE.exec(code.trim());
    if (!m) return { ok: false, reason: 'malformed', message: '健康码格式不正确，请确认扫描的是电子健康码' };
    const [, env, card, mac] = m as unknown as [string, string, string, string];
    if (env !== this.env) {
      return { ok: false, reason: 'other_env', message: `健康码不属于本平台环境（码环境 ${env}，本环境 ${this.env}）` };
    }
    // Compared as text, so only the one canonical spelling of the MAC verifies.
    const expected = Buffer.from(this.#mac(`${CODE_VERSION}.${env}.${card}`));
    const given = Buffer.from(mac);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'forged', message: '健康码签名无效，可能被篡改或伪造' };
    }
    const d = createDecipheriv('sm4-ecb', this.#encKey, null).setAutoPadding(false);
    const block = Buffer.concat([d.update(Buffer.from(card, 'base64url')), d.final()]);
    const personId = Number(block.readBigUInt64BE(0));
    const expiresAt = block.readUInt32BE(8) * 1000;
    if (expiresAt <= nowMs) return { ok: false, reason: 'expired', message: '健康码已过期，请患者刷新后重新出示' };
    return { ok: true, personId, expiresAt, codeId: card };
  }

  #mac(signed: string): string {
    return this.vault.mac('ehc-code-mac', signed).subarray(0, 16).toString('base64url');
  }
}
