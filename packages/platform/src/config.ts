import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import { parseCidrs } from './outbound/address-policy.js';

/** Everything the platform reads from its environment, validated once at start-up. */
export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  /** Path prefix in front of the guide's interface suffixes, '' by default. */
  apiPrefix: string;
  dataDir: string;
  /**
   * Which deployment this is (MDL_DEPLOYMENT). A sandbox holds test credentials, demo data and the kiosk demo; a
   * production deployment refuses all three. The embedded default is a sandbox; PostgreSQL is production unless
   * configured otherwise, so production needs no setting.
   */
  deployment: 'sandbox' | 'production';
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** 32 hex characters: the SM4 key for personal data at rest and the root of the blind-index key. */
  masterKey: string;
  timestampToleranceMs: number;
  rateLimitPerSecond: number;
  bodyLimitBytes: number;
  /** A request must arrive whole (headers and body) within this time; idle keep-alive connections end sooner. */
  requestTimeoutMs: number;
  callbackTimeoutMs: number;
  /** Longest wait for one Redis command (replay cache, rate limits) before the request fails with 000002. */
  redisTimeoutMs: number;
  callbackRetryDelaySeconds: number;
  callbackRetryLimit: number;
  /** Postgres schema for our tables (tests isolate themselves with it); pg-boss gets `${schema}_jobs`. */
  dbSchema: string;
  logLevel: string;
  runJobs: boolean;
  /** E-health card (issue #3): which registry issues cards, see domain/ehc/registry.ts. */
  ehcRegistry: 'builtin' | 'upstream';
  /**
   * The city's e-health-card system (MDL_EHC_UPSTREAM_*), required with `upstream`: where its API is, the
   * credential it issued the platform, how long one call may take and how often a connection error or a 5xx
   * is tried again (outbound/city-card.ts, docs/ehc-flows.md).
   */
  ehcUpstream: EhcUpstreamSettings | undefined;
  /** How long an ORG_EHC_001 authorization stays open before ORG_EHC_002 answers `fail`. */
  ehcSessionTtlSeconds: number;
  /** How long a dynamic health code verifies after it was shown (pages refresh it every minute). */
  ehcCodeTtlSeconds: number;
  /** Environment tag inside every health code, so a test platform's code is refused by production. */
  ehcEnv: string;
  /** The real e-health-card mini-program (wxMiniAppId / wxMiniPath of ORG_EHC_001); unset: not offered. */
  ehcWxMiniAppId: string | undefined;
  ehcWxMiniPath: string;
  /** Lifetime of an mdrUrl token and of the citizen session it opens (ORG_MDL_004), default 30 min. */
  mdrTokenTtlMs: number;
  /** Timeout of one ORG_001 call: a citizen is waiting on the page. */
  refreshTimeoutMs: number;
  /** At most one reminder per person in this many days. */
  reminderIntervalDays: number;
  /** HTTP push adapter: endpoint and the channel credential that signs (unset: the outbox table). */
  reminderPushUrl: string | undefined;
  reminderPushAppId: string | undefined;
  /**
   * SMS gateway of the /card sign-in codes (docs/operations.md, "SMS gateway"): its URL and the credential sent
   * as a bearer token. Unset: the sandbox's outbox (table sms_outbox); production refuses to send without one.
   */
  smsUrl: string | undefined;
  smsCredential: string | undefined;
  /** Lifetime of a sign-in code sent by SMS (MDL_SMS_CODE_TTL_S, default 300 s). */
  smsCodeTtlSeconds: number;
  /** pg-boss cron (China time) of the reminder scan and of the ORG_001 reconciliation. */
  reminderCron: string;
  reconcileCron: string;
  /** Addresses of the reverse proxies whose X-Forwarded-For is believed (MDL_TRUST_PROXY), or none. */
  trustProxy: string[];
  /**
   * The Prometheus listener (MDL_METRICS_PORT, MDL_METRICS_HOST): its own port, loopback by default, never the
   * public one. Unset: no listener; 0: a port the system chooses (printed at start, for tests).
   */
  metricsPort: number | undefined;
  metricsHost: string;
  /**
   * Outbound address policy (outbound/address-policy.ts, docs/security.md "Outbound calls"): private and
   * loopback ranges the platform may call (MDL_OUTBOUND_ALLOW_CIDRS; unset: loopback in a sandbox, nothing on
   * production; `none`: nothing), and where production may use plain http (MDL_OUTBOUND_HTTP_CIDRS).
   */
  outboundAllowCidrs: string | undefined;
  outboundHttpCidrs: string | undefined;
  /** Console sign-in attempts one client address may make per 15 minutes (MDL_CONSOLE_LOGIN_PER_ADDRESS). */
  consoleLoginPerAddress: number;
}

export interface EhcUpstreamSettings {
  url: string;
  appId: string;
  secret: string;
  timeoutMs: number;
  retries: number;
}

const KNOWN = new Set([
  'PORT',
  'HOST',
  'PUBLIC_URL',
  'MDL_API_PREFIX',
  'MDL_DATA_DIR',
  'MDL_DEPLOYMENT',
  'DATABASE_URL',
  'REDIS_URL',
  'MDL_REDIS_TIMEOUT_MS',
  'MDL_MASTER_KEY',
  'MDL_TIMESTAMP_TOLERANCE_S',
  'MDL_RATE_LIMIT_PER_S',
  'MDL_BODY_LIMIT_BYTES',
  'MDL_REQUEST_TIMEOUT_S',
  'MDL_CALLBACK_TIMEOUT_MS',
  'MDL_CALLBACK_RETRY_DELAY_S',
  'MDL_CALLBACK_RETRY_LIMIT',
  'MDL_DB_SCHEMA',
  'MDL_LOG_LEVEL',
  'MDL_EHC_REGISTRY',
  'MDL_EHC_UPSTREAM_URL',
  'MDL_EHC_UPSTREAM_APP_ID',
  'MDL_EHC_UPSTREAM_SECRET',
  'MDL_EHC_UPSTREAM_TIMEOUT_MS',
  'MDL_EHC_UPSTREAM_RETRIES',
  'MDL_EHC_SESSION_TTL_S',
  'MDL_EHC_CODE_TTL_S',
  'MDL_EHC_ENV',
  'MDL_EHC_WX_MINI_APP_ID',
  'MDL_EHC_WX_MINI_PATH',
  'MDL_MDR_TOKEN_TTL_S',
  'MDL_REFRESH_TIMEOUT_MS',
  'MDL_REMINDER_INTERVAL_DAYS',
  'MDL_REMINDER_PUSH_URL',
  'MDL_REMINDER_PUSH_APP_ID',
  'MDL_SMS_URL',
  'MDL_SMS_CREDENTIAL',
  'MDL_SMS_CODE_TTL_S',
  'MDL_REMINDER_CRON',
  'MDL_RECONCILE_CRON',
  'MDL_TRUST_PROXY',
  'MDL_METRICS_PORT',
  'MDL_METRICS_HOST',
  'MDL_OUTBOUND_ALLOW_CIDRS',
  'MDL_OUTBOUND_HTTP_CIDRS',
  'MDL_CONSOLE_LOGIN_PER_ADDRESS',
]);
// Read by the test and bench tools, not by the platform: known so that a shell with them set still starts it.
const TOOLS = [
  'MDL_CHROMIUM',
  'MDL_SCREENSHOT_DIR',
  'MDL_TEST_LOG_LEVEL',
  'MDL_TEST_FILE_TIMEOUT_S',
  'MDL_TEST_EXIT_GRACE_S',
  'MDL_TEST_RUN_TIMEOUT_S',
];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function int(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name}=${raw}: expected an integer from ${min} to ${max}`);
  return n;
}

/**
 * Reads the environment. Unknown MDL_* settings stop the start: a typo in a setting name should not
 * silently run the platform with a default.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  for (const name of Object.keys(env)) {
    if (name.startsWith('MDL_') && !KNOWN.has(name) && !TOOLS.includes(name))
      throw new ConfigError(`unknown setting ${name} (known: ${[...KNOWN].filter((k) => k.startsWith('MDL_')).join(', ')})`);
  }
  const port = int(env, 'PORT', 8080, 0, 65535);
  const host = env.HOST || '127.0.0.1';
  const publicUrl = (env.PUBLIC_URL || `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`).replace(/\/+$/, '');
  try {
    new URL(publicUrl);
  } catch {
    throw new ConfigError(`PUBLIC_URL=${publicUrl}: not a URL`);
  }
  const apiPrefix = (env.MDL_API_PREFIX ?? '').replace(/\/+$/, '');
  if (apiPrefix && !apiPrefix.startsWith('/')) throw new ConfigError('MDL_API_PREFIX must start with /');
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) throw new ConfigError('DATABASE_URL must be a postgres:// URL');
  const deployment = (env.MDL_DEPLOYMENT || (databaseUrl ? 'production' : 'sandbox')) as Config['deployment'];
  if (deployment !== 'sandbox' && deployment !== 'production') throw new ConfigError('MDL_DEPLOYMENT must be sandbox or production');
  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError('REDIS_URL must be a redis:// URL');
  const dataDir = resolve(env.MDL_DATA_DIR || './data');
  // authUrl (ORG_EHC_001) is PUBLIC_URL + '/card/auth/' + a 22-character token and must fit in 200.
  if (publicUrl.length > 160) throw new ConfigError('PUBLIC_URL must be at most 160 characters (authUrl is limited to 200)');
  const ehcRegistry = (env.MDL_EHC_REGISTRY || 'builtin') as Config['ehcRegistry'];
  if (ehcRegistry !== 'builtin' && ehcRegistry !== 'upstream') throw new ConfigError('MDL_EHC_REGISTRY must be builtin or upstream');
  const ehcUpstream = ehcRegistry === 'upstream' ? ehcUpstreamFrom(env) : undefined;
  const ehcEnv = env.MDL_EHC_ENV || 'DEV';
  if (!/^[A-Z0-9]{1,16}$/.test(ehcEnv)) throw new ConfigError('MDL_EHC_ENV must be 1 to 16 upper-case letters or digits');
  const ehcWxMiniAppId = env.MDL_EHC_WX_MINI_APP_ID || undefined;
  if (ehcWxMiniAppId && !/^[\w-]{1,40}$/.test(ehcWxMiniAppId))
    throw new ConfigError('MDL_EHC_WX_MINI_APP_ID: at most 40 letters or digits');
  const ehcWxMiniPath = env.MDL_EHC_WX_MINI_PATH || 'pages/loading/index';
  if (!/^[\w/.-]{1,100}$/.test(ehcWxMiniPath))
    throw new ConfigError('MDL_EHC_WX_MINI_PATH: a mini-program page path such as pages/loading/index');
  const dbSchema = env.MDL_DB_SCHEMA || 'public';
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(dbSchema)) throw new ConfigError('MDL_DB_SCHEMA must be a lower-case identifier');
  // mdrUrl is at most 200 characters (guide §4.3.4.3): the public URL leaves room for /mdr/t/ + token.
  if (publicUrl.length > 140) throw new ConfigError('PUBLIC_URL is too long: mdrUrl must stay within 200 characters (at most 140 here)');
  const reminderPushUrl = env.MDL_REMINDER_PUSH_URL || undefined;
  if (reminderPushUrl && !/^https?:\/\//.test(reminderPushUrl)) throw new ConfigError('MDL_REMINDER_PUSH_URL must be an http(s) URL');
  if (reminderPushUrl && !env.MDL_REMINDER_PUSH_APP_ID)
    throw new ConfigError('MDL_REMINDER_PUSH_APP_ID (the channel credential that signs pushes) is required with MDL_REMINDER_PUSH_URL');
  const smsUrl = env.MDL_SMS_URL || undefined;
  if (smsUrl && !/^https?:\/\//.test(smsUrl)) throw new ConfigError('MDL_SMS_URL must be an http(s) URL');
  if (smsUrl && !env.MDL_SMS_CREDENTIAL)
    throw new ConfigError('MDL_SMS_CREDENTIAL (the SMS gateway credential) is required with MDL_SMS_URL');
  const metricsPort = env.MDL_METRICS_PORT ? int(env, 'MDL_METRICS_PORT', 0, 0, 65535) : undefined;
  // The public port never serves metrics (they have no sign-in): the two must be two listeners.
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port)
    throw new ConfigError('MDL_METRICS_PORT must differ from PORT');
  const cfg: Config = {
    port,
    host,
    publicUrl,
    apiPrefix,
    dataDir,
    deployment,
    databaseUrl,
    redisUrl,
    redisTimeoutMs: int(env, 'MDL_REDIS_TIMEOUT_MS', 1000, 50, 30_000),
    masterKey: overrides.masterKey ?? masterKeyFrom(env, databaseUrl, dataDir),
    timestampToleranceMs: int(env, 'MDL_TIMESTAMP_TOLERANCE_S', 300, 1, 86400) * 1000,
    rateLimitPerSecond: int(env, 'MDL_RATE_LIMIT_PER_S', 500, 1, 1_000_000),
    bodyLimitBytes: int(env, 'MDL_BODY_LIMIT_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    requestTimeoutMs: int(env, 'MDL_REQUEST_TIMEOUT_S', 30, 1, 600) * 1000,
    callbackTimeoutMs: int(env, 'MDL_CALLBACK_TIMEOUT_MS', 10_000, 100, 120_000),
    callbackRetryDelaySeconds: int(env, 'MDL_CALLBACK_RETRY_DELAY_S', 30, 1, 3600),
    callbackRetryLimit: int(env, 'MDL_CALLBACK_RETRY_LIMIT', 12, 0, 100),
    dbSchema,
    logLevel: env.MDL_LOG_LEVEL || 'info',
    runJobs: true,
    ehcRegistry,
    ehcUpstream,
    ehcSessionTtlSeconds: int(env, 'MDL_EHC_SESSION_TTL_S', 600, 30, 86400),
    ehcCodeTtlSeconds: int(env, 'MDL_EHC_CODE_TTL_S', 60, 30, 3600),
    ehcEnv,
    ehcWxMiniAppId,
    ehcWxMiniPath,
    mdrTokenTtlMs: int(env, 'MDL_MDR_TOKEN_TTL_S', 1800, 60, 86400) * 1000,
    refreshTimeoutMs: int(env, 'MDL_REFRESH_TIMEOUT_MS', 5000, 100, 60_000),
    reminderIntervalDays: int(env, 'MDL_REMINDER_INTERVAL_DAYS', 7, 1, 365),
    reminderPushUrl,
    reminderPushAppId: env.MDL_REMINDER_PUSH_APP_ID || undefined,
    smsUrl,
    smsCredential: env.MDL_SMS_CREDENTIAL || undefined,
    smsCodeTtlSeconds: int(env, 'MDL_SMS_CODE_TTL_S', 300, 60, 1800),
    reminderCron: env.MDL_REMINDER_CRON || '0 10 * * *',
    reconcileCron: env.MDL_RECONCILE_CRON || '17 * * * *',
    trustProxy: trustedProxies(env.MDL_TRUST_PROXY),
    metricsPort,
    metricsHost: env.MDL_METRICS_HOST || '127.0.0.1',
    outboundAllowCidrs: cidrSetting(env, 'MDL_OUTBOUND_ALLOW_CIDRS'),
    outboundHttpCidrs: cidrSetting(env, 'MDL_OUTBOUND_HTTP_CIDRS'),
    consoleLoginPerAddress: int(env, 'MDL_CONSOLE_LOGIN_PER_ADDRESS', 30, 1, 100_000),
  };
  return { ...cfg, ...overrides };
}

/** The city card system's settings; all three of URL, appId and secret, or the start stops. */
function ehcUpstreamFrom(env: NodeJS.ProcessEnv): EhcUpstreamSettings {
  const url = (env.MDL_EHC_UPSTREAM_URL || '').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(url))
    throw new ConfigError(
      'MDL_EHC_UPSTREAM_URL (the city e-health-card system, an http(s) URL) is required with MDL_EHC_REGISTRY=upstream',
    );
  const appId = env.MDL_EHC_UPSTREAM_APP_ID || '';
  if (!/^[\w-]{1,64}$/.test(appId)) throw new ConfigError('MDL_EHC_UPSTREAM_APP_ID (the appId the city issued) is required with upstream');
  const secret = env.MDL_EHC_UPSTREAM_SECRET || '';
  // The SM4 key is the secret's first 16 characters as bytes (guide §4.1): they must be printable ASCII.
  if (!/^[\x21-\x7e]{16}/.test(secret))
    throw new ConfigError('MDL_EHC_UPSTREAM_SECRET (the secret the city issued, at least 16 ASCII characters) is required');
  return {
    url,
    appId,
    secret,
    timeoutMs: int(env, 'MDL_EHC_UPSTREAM_TIMEOUT_MS', 3000, 100, 60_000),
    retries: int(env, 'MDL_EHC_UPSTREAM_RETRIES', 2, 0, 5),
  };
}

/** `127.0.0.1,10.0.0.0/8`: addresses or CIDR ranges. A proxy not listed cannot make up a caller's address. */
function trustedProxies(raw: string | undefined): string[] {
  const list = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const entry of list) {
    const [addr, bits, extra] = entry.split('/');
    const version = isIP(addr ?? '');
    const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 6 ? 128 : 32));
    if (!version || !okBits || extra !== undefined) throw new ConfigError(`MDL_TRUST_PROXY: ${entry} is not an IP address or CIDR range`);
  }
  return list;
}

function cidrSetting(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name] || undefined;
  try {
    parseCidrs(raw);
  } catch (e) {
    throw new ConfigError(`${name}: ${(e as Error).message}`);
  }
  return raw;
}

const KEY_RE = /^[0-9a-fA-F]{32}$/;

/**
 * Production (DATABASE_URL) reads the key from MDL_MASTER_KEY and refuses to start without it. The
 * embedded default makes one on first use and keeps it beside the data, so `npm start` just works.
 */
function masterKeyFrom(env: NodeJS.ProcessEnv, databaseUrl: string | undefined, dataDir: string): string {
  const given = env.MDL_MASTER_KEY;
  if (given) {
    if (!KEY_RE.test(given)) throw new ConfigError('MDL_MASTER_KEY must be 32 hex characters (16 bytes)');
    return given.toLowerCase();
  }
  if (databaseUrl) {
    throw new ConfigError(
      'MDL_MASTER_KEY is required with DATABASE_URL: personal data is encrypted under it (generate one with `openssl rand -hex 16`)',
    );
  }
  const file = resolve(dataDir, 'master.key');
  if (existsSync(file)) {
    const k = readFileSync(file, 'utf8').trim();
    if (!KEY_RE.test(k)) throw new ConfigError(`${file} does not hold a 32-hex-character key`);
    return k.toLowerCase();
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const k = randomBytes(16).toString('hex');
  writeFileSync(file, k + '\n', { mode: 0o600 });
  return k;
}
