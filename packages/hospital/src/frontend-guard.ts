/**
 * The 前置机's local API is closed by default (issue #11 item 6): it answers with patients' identities and
 * queues reports, so any web page open on the HIS machine must not be able to use it (CSRF, DNS rebinding),
 * and a HIS on the network must prove who it is.
 *  - a token, made on first start and kept in `<data-dir>/local-token` (mode 0600), on every /local/* call;
 *  - a Host header from an allow-list (loopback names and the bound address, plus --local-allowed-host);
 *  - no foreign Origin (a browser page) unless listed with --local-allowed-origin;
 *  - request bodies only as application/json (a form or text/plain POST, which a page may send without a
 *    CORS preflight, never gets in);
 *  - listening beyond loopback needs a token of at least 16 characters, and TLS when --local-require-tls is set;
 *  - every request must arrive whole within a time limit (server-limits.ts).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { join } from 'node:path';

export const TOKEN_FILE = 'local-token';
export const MIN_TOKEN_LENGTH = 16;

/** A refusal of the local API: the status and the Chinese message the HIS is shown. */
export class GuardRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function writeToken(file: string, token: string): void {
  // Written beside and renamed over, so a reader never sees half a token; 0600 from the first byte.
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

/** The token file: made on first use (returns `created: true`, the only time the caller should print it). */
export function ensureToken(dataDir: string): { token: string; created: boolean; file: string } {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, TOKEN_FILE);
  try {
    const token = readFileSync(file, 'utf8').trim();
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    if (token.length >= MIN_TOKEN_LENGTH) return { token, created: false, file };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const token = newToken();
  writeToken(file, token);
  return { token, created: true, file };
}

/** `mdl-hospital token rotate`: a new token; a running 前置机 takes it on the next request. */
export function rotateToken(dataDir: string): { token: string; file: string } {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, TOKEN_FILE);
  const token = newToken();
  writeToken(file, token);
  return { token, file };
}

/**
 * The token the local API checks: a fixed one (--local-token / MDL_LOCAL_TOKEN), or the file's, re-read when
 * the file changes so a rotation needs no restart.
 */
export class TokenSource {
  #cached: { mtimeMs: number; token: string } | undefined;
  constructor(
    private readonly fixed: string | undefined,
    private readonly file: string,
  ) {}

  current(): string {
    if (this.fixed) return this.fixed;
    try {
      const { mtimeMs } = statSync(this.file);
      if (this.#cached?.mtimeMs !== mtimeMs) this.#cached = { mtimeMs, token: readFileSync(this.file, 'utf8').trim() };
    } catch {
      // The file went away: keep the last token rather than open the API.
    }
    return this.#cached?.token ?? '';
  }

  matches(header: string | undefined): boolean {
    const want = Buffer.from(this.current());
    const got = Buffer.from(/^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '');
    return want.length >= MIN_TOKEN_LENGTH && got.length === want.length && timingSafeEqual(got, want);
  }
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

/** Host names (no port) the local API answers to. */
export function allowedHosts(bindHost: string, extra: readonly string[]): Set<string> {
  const set = new Set(['localhost', '127.0.0.1', '[::1]', ...extra.map((h) => h.toLowerCase())]);
  const bind = bindHost.toLowerCase();
  if (bind !== '0.0.0.0' && bind !== '::') set.add(isIP(bind) === 6 ? `[${bind}]` : bind);
  return set;
}

function hostnameOf(hostHeader: string): string | undefined {
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

export interface GuardOptions {
  token: TokenSource;
  hosts: ReadonlySet<string>;
  origins: ReadonlySet<string>;
}

/**
 * Host and Origin, for every request (the public /docs too: a rebinding page must not even read it). Throws
 * a GuardRefusal.
 */
export function checkCaller(req: IncomingMessage, g: GuardOptions): void {
  const host = hostnameOf(req.headers.host ?? '');
  if (!host || !g.hosts.has(host)) throw new GuardRefusal(421, `不接受的 Host: 请用允许的地址访问前置机 (--local-allowed-host)`);
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined; // `null` (a sandboxed frame, a file) is foreign
    }
    const same = originHost !== undefined && originHost === req.headers.host;
    if (!same && !g.origins.has(origin))
      throw new GuardRefusal(403, '不接受来自浏览器页面的跨站请求 (Origin 不在 --local-allowed-origin 中)');
  }
}

/** Token and media type, for /local/* calls. */
export function checkLocalCall(req: IncomingMessage, g: GuardOptions): void {
  if (!g.token.matches(req.headers.authorization)) throw new GuardRefusal(401, '缺少或错误的 Authorization: Bearer 令牌');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') throw new GuardRefusal(415, '请求体只接受 Content-Type: application/json');
  }
}

/** Refuses to start a local API reachable from the network without what protects it. */
export function checkBinding(opts: { host: string; token: string; tls: boolean; requireTls: boolean }): void {
  if (opts.token.length < MIN_TOKEN_LENGTH) throw new Error(`本地接口令牌至少 ${MIN_TOKEN_LENGTH} 个字符`);
  if (isLoopbackHost(opts.host)) return;
  if (opts.requireTls && !opts.tls) {
    throw new Error(
      `本地接口监听 ${opts.host} (不只是本机) 且要求 TLS (--local-require-tls), 但没有提供 --local-tls-cert/--local-tls-key, 拒绝启动`,
    );
  }
}
