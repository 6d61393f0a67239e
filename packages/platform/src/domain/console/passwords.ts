import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with scrypt (memory-hard, in node's crypto: no native module). New hashes use
 * N=2^17, r=8 (128 MiB, the current OWASP floor). The parameters travel in the stored string, so older
 * hashes (N=2^15) still verify and are re-hashed on the next good sign-in (`needsRehash`).
 *
 * Parameters read back from a stored string are bounded: a planted hash with N=2^30 must not make one
 * sign-in allocate gigabytes. And at most two hashes run at a time per process, so a burst of sign-ins
 * queues instead of taking all the memory.
 */
const N = 1 << 17;
const R = 8;
const P = 1;
const KEYLEN = 32;
const MIN_N = 1 << 14;
const MAX_N = 1 << 20;
const MAX_PARALLEL = 2;

let running = 0;
const waiting: (() => void)[] = [];

async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: n, r, p, maxmem: 128 * n * r * p + 16 * 1024 * 1024 };
  return limited(
    () =>
      new Promise((resolve, reject) =>
        scrypt(password.normalize('NFC'), salt, KEYLEN, opts, (err, key) => (err ? reject(err) : resolve(key))),
      ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface Parsed {
  n: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

/** The stored string's parts, or undefined when anything is malformed or out of bounds. */
function parse(stored: string): Parsed | undefined {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [n, r, p] = parts.slice(1, 4).map((x) => (/^\d{1,8}$/.test(x!) ? Number(x) : NaN)) as [number, number, number];
  if (!(n >= MIN_N && n <= MAX_N && (n & (n - 1)) === 0)) return undefined;
  if (!(r >= 1 && r <= 16 && p >= 1 && p <= 4)) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64');
  const hash = Buffer.from(parts[5]!, 'base64');
  if (salt.length < 16 || salt.length > 64 || hash.length !== KEYLEN) return undefined;
  return { n, r, p, salt, hash };
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const s = parse(stored);
  if (!s || password.length > 1024) return false;
  const key = await derive(password, s.salt, s.n, s.r, s.p);
  return timingSafeEqual(key, s.hash);
}

/** True when a (verified) stored hash is weaker than what new hashes get. */
export function needsRehash(stored: string): boolean {
  const s = parse(stored);
  return !s || s.n < N || s.r < R;
}

/** 等保 level 3 asks for complexity: at least 10 characters, three of four character classes. */
export function passwordProblem(pw: string): string | undefined {
  if (pw.length < 10 || pw.length > 128) return '密码长度应为 10 到 128 个字符';
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(pw)).length;
  if (classes < 3) return '密码须包含大写字母、小写字母、数字、符号中的至少三类';
  return undefined;
}
