// Shared pieces of the benchmark: settings, and the deterministic synthetic population, so that the
// loader and the load generators agree on who person #i is without keeping 1M identities in memory.
import { performance } from 'node:perf_hooks';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import pg from 'pg';
import { residentId } from '@mdl/protocol';

export const settings = {
  databaseUrl: process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  schema: process.env.BENCH_SCHEMA || 'bench',
  // Fixed so that a kept data set (BENCH_SKIP_LOAD=1) stays readable run after run. Not a secret.
  masterKey: '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
  persons: Number(process.env.BENCH_PERSONS || 1_000_000),
  items: Number(process.env.BENCH_ITEMS || 3_000_000),
  skipLoad: process.env.BENCH_SKIP_LOAD === '1',
  connections: Number(process.env.BENCH_CONNECTIONS || 64),
  warmupMs: Number(process.env.BENCH_WARMUP_S || 5) * 1000,
  durationMs: Number(process.env.BENCH_DURATION_S || 20) * 1000,
  queryRuns: Number(process.env.BENCH_QUERY_RUNS || 2),
  ingestRuns: Number(process.env.BENCH_INGEST_RUNS || 1),
  hospitals: Number(process.env.BENCH_HOSPITALS || 20),
  ingestItems: Number(process.env.BENCH_INGEST_ITEMS || 200_000),
  ingestTimeoutMs: Number(process.env.BENCH_INGEST_TIMEOUT_S || 600) * 1000,
  /** The fixed-rate measurement's rate in req/s; 0: half the run's closed-loop throughput. Set it to compare two builds at one rate. */
  fixedRate: Number(process.env.BENCH_FIXED_RATE || 0),
  /** BENCH_AUDIT_SEAL=off: the servers under test do not seal the audit trail, to measure what the SM3 chain costs. */
  auditSeal: process.env.BENCH_AUDIT_SEAL !== 'off',
};

/** Institutions that own the bulk-loaded items (not the ingest hospitals). */
export const LOADER_ORGS = Array.from({ length: 50 }, (_, k) => `H3500000${String(k).padStart(4, '0')}`);

const REGIONS = [
  '350102',
  '350103',
  '350104',
  '350105',
  '350111',
  '350203',
  '350205',
  '350206',
  '350211',
  '350212',
  '350302',
  '350402',
  '350502',
  '350503',
  '350602',
  '350702',
  '350802',
  '350902',
  '350181',
  '350182',
];
const SURNAMES = '林陈黄张吴王郑李刘杨许蔡洪谢叶曾苏庄郭周'.split('');
const GIVEN = '晓梅建国丽华志明秀英伟强海燕文斌春兰振宇雅婷俊杰淑芬'.split('');
const BIRTH0 = Date.UTC(1940, 0, 1);
const DAYS = 25_000; // 1940 .. ~2008

/** A connection to the bench's schema, for the bench's own reads (statement statistics, the sealing wait). */
export async function benchClient() {
  const c = new pg.Client({ connectionString: settings.databaseUrl, options: `-c search_path="${settings.schema}"` });
  await c.connect();
  return c;
}

/** Person #i of the synthetic population (0-based), the same on every call. */
export function personAt(i) {
  const region = REGIONS[i % REGIONS.length];
  const day = Math.floor(i / REGIONS.length) % DAYS;
  const seq = Math.floor(i / (REGIONS.length * DAYS)) + 1; // unique for i < 20 * 25,000 * 999
  const birth = new Date(BIRTH0 + day * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  const idNo = residentId(region, birth, seq);
  const userName = SURNAMES[i % SURNAMES.length] + GIVEN[(i >> 3) % GIVEN.length] + (i % 3 === 0 ? '' : GIVEN[(i >> 7) % GIVEN.length]);
  const ehealthCardId = createHash('md5').update(`card:${i}`).digest('hex').toUpperCase();
  const cardNo = String(100_000_000_000 + i);
  const phone = `13${String(i % 1_000_000_000).padStart(9, '0')}`;
  return { idType: '01', idNo, userName, ehealthCardId, cardNo, phone, birthday: birth, sex: Number(idNo[16]) % 2 === 1 ? '1' : '2' };
}

export function chinaTime(msAgo = 0) {
  const t = new Date(Date.now() - msAgo + 8 * 3600_000).toISOString();
  return `${t.slice(0, 10)} ${t.slice(11, 19)}`;
}

export function log(...args) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${args.join(' ')}\n`);
}

export function fmt(n, digits = 0) {
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Peak and current RSS of a process, from /proc (VmHWM is the kernel's high-water mark). */
export function procMemory(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    return { hwmMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
  } catch {
    return { hwmMb: NaN, rssMb: NaN };
  }
}

/** CPU ticks (user+system) of every process, from /proc/<pid>/stat. */
export function cpuSnapshot() {
  const out = new Map();
  // Whole machine from /proc/stat: user nice system idle iowait irq softirq steal.
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const machine = { busy: f[0] + f[1] + f[2] + f[5] + f[6], steal: f[7] ?? 0, all: f.slice(0, 8).reduce((s, x) => s + (x || 0), 0) };
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = s.lastIndexOf(')');
      const comm = s.slice(s.indexOf('(') + 1, close);
      const f = s.slice(close + 2).split(' ');
      out.set(Number(d), { comm, ticks: Number(f[11]) + Number(f[12]), ppid: Number(f[1]) });
    } catch {
      // exited meanwhile
    }
  }
  return { at: performance.now(), procs: out, machine };
}

/**
 * CPU used between two snapshots, in cores (1.0 = one core busy all the time), by role. `roles` maps
 * a pid to a label; postgres and redis are recognised by name; everything else is "other".
 */
export function cpuUsage(a, b, roles) {
  const hz = 100;
  const seconds = (b.at - a.at) / 1000;
  const by = {};
  for (const [pid, p] of b.procs) {
    const before = a.procs.get(pid);
    const d = p.ticks - (before && before.comm === p.comm ? before.ticks : 0);
    if (d <= 0) continue;
    const role = roles.get(pid) ?? (p.comm === 'postgres' ? 'postgres' : p.comm.startsWith('redis') ? 'redis' : 'other processes');
    by[role] = (by[role] ?? 0) + d / hz / seconds;
  }
  const cores = (b.machine.all - a.machine.all) / hz / seconds;
  by['machine busy'] = (b.machine.busy - a.machine.busy) / hz / seconds;
  by['machine steal'] = (b.machine.steal - a.machine.steal) / hz / seconds;
  by['machine cores'] = cores;
  for (const k of Object.keys(by)) by[k] = Math.round(by[k] * 100) / 100;
  return by;
}

export function loadAverage() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

/**
 * The schema an extension lives in, creating it in `public` first if the database lacks it (the bench's own
 * search_path does not reach it). `c` is a node-postgres client connected as a role that may create extensions.
 */
export async function extensionSchema(c, name) {
  await c.query(`CREATE EXTENSION IF NOT EXISTS ${c.escapeIdentifier(name)} SCHEMA public`);
  const r = await c.query(`SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1`, [
    name,
  ]);
  return c.escapeIdentifier(r.rows[0].nspname);
}
