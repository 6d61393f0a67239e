import {
  createCipheriv,
  createDecipheriv,
  createHash,
  getCiphers,
  getHashes,
  timingSafeEqual,
  type Cipher,
  type Decipher,
} from 'node:crypto';

/**
 * SM3/SM4 through Node's OpenSSL 3 build. We refuse to run without them rather than fall back to a
 * pure-JS implementation: a silent fallback would change performance and key handling under our feet.
 */
export function assertSmAvailable(): void {
  const missing: string[] = [];
  if (!getHashes().includes('sm3')) missing.push('sm3');
  if (!getCiphers().includes('sm4-ecb')) missing.push('sm4-ecb');
  if (missing.length > 0) {
    throw new Error(
      `This Node.js build lacks ${missing.join(' and ')} (OpenSSL 3 with SM algorithms is required). ` +
        'Use the official Node.js 20+ binaries.',
    );
  }
}

/**
 * A fresh SM3 state, copied from one that never takes data: a copy skips the algorithm fetch that
 * `createHash` pays each time (a quarter of the cost of signing a reply).
 */
const EMPTY_SM3 = createHash('sm3');

export function sm3(data: string | Buffer): Buffer {
  return EMPTY_SM3.copy().update(data).digest();
}

export function sm3Hex(data: string | Buffer): string {
  return EMPTY_SM3.copy().update(data).digest('hex');
}

/** The guide's key rule: the UTF-8 bytes of the first 16 characters of the secret. */
export function sm4KeyFromSecret(secret: string): Buffer {
  const key = Buffer.from(secret.slice(0, 16), 'utf8');
  if (key.length !== 16) throw new Error('secret must start with 16 ASCII characters');
  return key;
}

/**
 * One SM4-ECB cipher and decipher per key, kept: creating them costs OpenSSL an algorithm fetch and a key
 * schedule, as much as encrypting a reply. ECB encrypts each block on its own, so with OpenSSL's padding off
 * and whole blocks in, `update` keeps no state from one message to the next; PKCS#7 is added and checked here.
 */
interface EcbPair {
  enc: Cipher;
  dec: Decipher;
}
const ecbPairs = new Map<string, EcbPair>();
const MAX_ECB_KEYS = 1024;

function ecbPair(key: Buffer): EcbPair {
  const id = key.toString('latin1');
  let pair = ecbPairs.get(id);
  if (!pair) {
    // Fails on a key that is not 16 bytes, as creating a cipher per call did.
    pair = {
      enc: createCipheriv('sm4-ecb', key, null).setAutoPadding(false),
      dec: createDecipheriv('sm4-ecb', key, null).setAutoPadding(false),
    };
    // Credentials are few; a bound keeps a flood of distinct keys from growing the map (oldest out first).
    if (ecbPairs.size >= MAX_ECB_KEYS) ecbPairs.delete(ecbPairs.keys().next().value!);
    ecbPairs.set(id, pair);
  }
  return pair;
}

export function sm4EcbEncrypt(key: Buffer, plain: Buffer): Buffer {
  const pad = 16 - (plain.length % 16);
  const padded = Buffer.allocUnsafe(plain.length + pad);
  plain.copy(padded);
  padded.fill(pad, plain.length);
  return ecbPair(key).enc.update(padded);
}

/** Throws on a length that is not whole blocks or on bad PKCS#7 padding. */
export function sm4EcbDecrypt(key: Buffer, cipher: Buffer): Buffer {
  if (cipher.length === 0 || cipher.length % 16 !== 0) throw new Error('ciphertext is not a whole number of blocks');
  const plain = ecbPair(key).dec.update(cipher);
  const pad = plain[plain.length - 1]!;
  let bad = pad < 1 || pad > 16 || plain.length !== cipher.length ? 1 : 0;
  for (let i = plain.length - Math.min(pad, 16, plain.length); i < plain.length; i++) bad |= plain[i]! ^ pad;
  if (bad !== 0) throw new Error('bad decrypt');
  return plain.subarray(0, plain.length - pad);
}

/** url-safe alphabet with = padding, as every vector shows. */
export function base64UrlEncode(buf: Buffer): string {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

const LENIENT_B64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * Accepts standard or url-safe alphabets, padded or not. Node's own decoder silently skips junk
 * characters, so the alphabet and length are checked first: anything else is not base64 at all.
 */
export function base64LenientDecode(text: string): Buffer | undefined {
  const s = text.trim();
  if (!LENIENT_B64.test(s)) return undefined;
  const body = s.replace(/=+$/, '');
  if (body.length % 4 === 1) return undefined;
  return Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

export function decodeUtf8Strict(buf: Buffer): string | undefined {
  try {
    return utf8Strict.decode(buf);
  } catch {
    return undefined;
  }
}
