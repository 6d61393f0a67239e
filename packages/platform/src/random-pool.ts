import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/**
 * Random bytes for values that are public once used (the IV of a sealed value, a platform trace id), drawn from
 * a pool the CSPRNG fills 4 KB at a time. One `randomBytes` call costs about 6 µs here, nearly all of it per
 * call, and processing a 100-item batch needs some 180 of them. Each byte is handed out once and the pool is
 * refilled when spent (Node's own randomUUID keeps a cache the same way). Secrets (tokens, keys, salts) do not
 * come from here: they are drawn when needed and kept out of a long-lived buffer.
 */
export function publicRandomBytes(n: number): Buffer {
  if (n > POOL_BYTES) throw new RangeError(`at most ${POOL_BYTES} bytes at a time`);
  if (used + n > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const out = Buffer.from(pool.subarray(used, used + n));
  used += n;
  return out;
}
