/**
 * The nightly uploader (guide §3.1.8, §3.2.4.1): reports the previous natural day's unsettled items,
 * records what was reported (the 已上报 mark) in a durable state file, and collects the platform's
 * results from the ORG_002 callback or, when none comes in time, from ORG_MDL_005.
 *
 * Crash safety: a batch is written to the state file as `sending` before it goes out and as
 * `accepted` after. A restart resends a `sending` batch under the same content-derived orgRequestId
 * (the platform does not process a known orgRequestId twice) and never resends an accepted one.
 */
import { readFile } from 'node:fs/promises';
import { RespCode } from '@mdl/protocol';
import type { CallbackRequest, ResultItem, ResultPerson, UnsettledPerson } from '@mdl/protocol';
import { type OrgInfo, planReport, traceIdsOf } from './batching.js';
import { type PlatformClient, backoffDelay, checkRequest, resultReady } from './client.js';
import { parseReportCsv, reportRowsToPersons } from './csv.js';
import type { CsvEncoding } from './csv-encoding.js';
import { PlatformError } from './errors.js';
import { callbackRequestId } from './handlers.js';
import { nextRunAt, previousChinaDay } from './schedule.js';
import { JsonDocument } from './store.js';

export type ItemSource =
  /** The HIS hands over the day's unsettled items, already per person. */
  | ((day: string) => Promise<UnsettledPerson[]>)
  /** A CSV file (columns in docs/hospital-integration.md); a function may name one file per day. */
  | { csv: string | ((day: string) => string); encoding?: CsvEncoding }
  /** A database query returning one row per item, with the CSV column names. */
  | { query: (day: string) => Promise<Record<string, string | null | undefined>[]> };

export type BatchStatus = 'sending' | 'accepted' | 'done' | 'failed' | 'abandoned';

export interface BatchRecord {
  orgRequestId: string;
  orgTraceIds: string[];
  status: BatchStatus;
  sentAt?: string;
  doneAt?: string;
  via?: 'callback' | 'ORG_MDL_005';
  error?: string;
  results?: { orgTraceId: string; traceId?: string; state?: string }[];
}

export interface UploaderState {
  version: 1;
  days: Record<string, { startedAt: string; batches: BatchRecord[] }>;
}

export interface UploaderOptions {
  client: PlatformClient;
  org: OrgInfo;
  source: ItemSource;
  /** JSON state file, e.g. `/var/lib/mdl-hospital/uploader.json`. */
  stateFile: string;
  now?: () => number;
  /** How long to wait for ORG_002 before asking ORG_MDL_005 (default 30 minutes). */
  callbackTimeoutMs?: number;
  /** The 已上报 mark in the HIS, called once per accepted batch. */
  onReported?: (orgTraceIds: string[], orgRequestId: string) => Promise<void>;
  /** Platform results (traceId per item, needed for later updates). */
  onResult?: (results: ResultPerson[], orgRequestId: string) => Promise<void>;
  onProgress?: (event: { phase: 'send' | 'result'; done: number; total: number; orgRequestId: string }) => void;
  /**
   * A batch that fails with a retryable code (000002, -3, -6, 000003) or no answer is sent again within
   * the same run, after the client's own retries, with jittered backoff: `rounds` times (default 5),
   * waiting from `baseMs` (default 30 s) up to `maxMs` (default 10 min). Then the run stops and the next
   * run resumes from the state file.
   */
  retry?: { rounds?: number; baseMs?: number; maxMs?: number };
  sleep?: (ms: number) => Promise<void>;
}

export interface RunSummary {
  day: string;
  batches: BatchRecord[];
  sentNow: number;
  pending: number;
  failed: number;
}

export class NightlyUploader {
  private doc: JsonDocument<UploaderState> | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly now: () => number;

  constructor(private readonly opts: UploaderOptions) {
    this.now = opts.now ?? Date.now;
  }

  private async state(): Promise<JsonDocument<UploaderState>> {
    this.doc ??= await JsonDocument.load<UploaderState>(this.opts.stateFile, { version: 1, days: {} });
    return this.doc;
  }

  /** Sends the day's report and waits for its results. Safe to run again: nothing is reported twice. */
  async run(day = previousChinaDay(this.now())): Promise<RunSummary> {
    const sentNow = await this.send(day);
    await this.collectResults(day, this.opts.callbackTimeoutMs ?? 30 * 60_000);
    return { ...(await this.summary(day)), sentNow };
  }

  async summary(day: string): Promise<RunSummary> {
    const batches = (await this.state()).value.days[day]?.batches ?? [];
    const live = batches.filter((b) => b.status !== 'abandoned');
    return {
      day,
      batches: live,
      sentNow: 0,
      pending: live.filter((b) => b.status === 'sending' || b.status === 'accepted').length,
      failed: live.filter((b) => b.status === 'failed').length,
    };
  }

  /** Phase 1: report every item of the day that is not reported yet. Returns how many batches went out. */
  async send(day: string): Promise<number> {
    const doc = await this.state();
    const persons = await this.load(day);
    const dayState = (doc.value.days[day] ??= { startedAt: new Date(this.now()).toISOString(), batches: [] });
    const prefix = `R${day.replace(/-/g, '')}`;
    // Items reported on any night count: a source that hands over every unsettled item, not just
    // the day's, must not get them reported again.
    const reported = new Set<string>();
    for (const d of Object.values(doc.value.days)) {
      for (const b of d.batches) if (b.status === 'accepted' || b.status === 'done') b.orgTraceIds.forEach((t) => reported.add(t));
    }
    const queue: { req: ReturnType<typeof planReport>[number]; record: BatchRecord }[] = [];

    for (const b of dayState.batches) {
      if (b.status !== 'sending') continue;
      // Outcome unknown (crash or lost reply): the same items make the same request; resend it as is.
      const again = planReport(subset(persons, new Set(b.orgTraceIds)), this.opts.org, prefix);
      if (again.length === 1 && again[0]!.orgRequestId === b.orgRequestId) {
        queue.push({ req: again[0]!, record: b });
        b.orgTraceIds.forEach((t) => reported.add(t));
      } else if (await this.knownToPlatform(b)) {
        b.orgTraceIds.forEach((t) => reported.add(t));
      } else b.status = 'abandoned';
    }
    const remaining = subset(persons, undefined, reported);
    for (const req of planReport(remaining, this.opts.org, prefix)) {
      checkRequest('ORG_MDL_001', req);
      const known = dayState.batches.find((b) => b.orgRequestId === req.orgRequestId);
      const record = known ?? { orgRequestId: req.orgRequestId, orgTraceIds: traceIdsOf(req), status: 'sending' as const };
      record.status = 'sending';
      delete record.error;
      if (!known) dayState.batches.push(record);
      queue.push({ req, record });
    }
    const planned = new Set(queue.map((q) => q.record));
    for (const b of dayState.batches) if (b.status === 'failed' && !planned.has(b)) b.status = 'abandoned';
    await doc.save();

    let done = 0;
    for (const { req, record } of queue) {
      let accepted = false;
      try {
        const r = await this.sendWithRetries(() => this.opts.client.reportOverdueData(req));
        if (r.state !== 'success') throw new PlatformError('-1', r.msg || '平台未接收该批次');
        accepted = true;
        // The callback may already have marked it done while the reply was on its way.
        if (record.status === 'sending') record.status = 'accepted';
        record.sentAt = new Date(this.now()).toISOString();
      } catch (e) {
        if (e instanceof PlatformError && !e.retryable) {
          record.status = 'failed';
          record.error = `${e.respCode} ${e.message}`;
        } else {
          await doc.save();
          throw e; // platform unreachable: stop here, the next run resumes from the state file
        }
      }
      await doc.save();
      if (accepted) await this.opts.onReported?.(record.orgTraceIds, record.orgRequestId);
      this.opts.onProgress?.({ phase: 'send', done: ++done, total: queue.length, orgRequestId: record.orgRequestId });
    }
    return queue.length;
  }

  private async sendWithRetries<T>(send: () => Promise<T>): Promise<T> {
    const rounds = this.opts.retry?.rounds ?? 5;
    const sleep = this.opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    for (let round = 0; ; round++) {
      try {
        return await send();
      } catch (e) {
        const retryable = e instanceof PlatformError && e.retryable;
        if (!retryable || round >= rounds) throw e;
        await sleep(backoffDelay(round, this.opts.retry?.baseMs ?? 30_000, this.opts.retry?.maxMs ?? 600_000));
      }
    }
  }

  /** Phase 2: wait for callbacks up to `timeoutMs`, then ask ORG_MDL_005 for any batch still without a result. */
  async collectResults(day: string, timeoutMs: number): Promise<void> {
    const doc = await this.state();
    const open = () => (doc.value.days[day]?.batches ?? []).filter((b) => b.status === 'accepted');
    const deadline = this.now() + timeoutMs;
    while (open().length > 0 && this.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, Math.max(1, Math.min(deadline - this.now(), 60_000)));
        function done() {
          clearTimeout(t);
          resolve();
        }
        this.waiters.add(done);
      });
    }
    const left = open();
    for (const [i, b] of left.entries()) {
      await this.knownToPlatform(b);
      this.opts.onProgress?.({ phase: 'result', done: i + 1, total: left.length, orgRequestId: b.orgRequestId });
    }
  }

  /** ORG_MDL_005 for one batch; records the result when the platform has one. */
  private async knownToPlatform(b: BatchRecord): Promise<boolean> {
    try {
      const r = await this.opts.client.queryReportResult({ orgId: this.opts.org.orgId, orgRequestId: b.orgRequestId });
      if (!resultReady(r)) return true; // known, still processing
      await this.recordResult(b, r.reportResultList ?? [], 'ORG_MDL_005');
      return true;
    } catch (e) {
      if (e instanceof PlatformError && e.respCode === RespCode.APP_TIMEOUT) return true; // known, still processing
      if (e instanceof PlatformError && !e.retryable) return false;
      throw e;
    }
  }

  /** Wire into the ORG_002 handler: `onCallback: (req) => uploader.handleCallback(req)`. */
  async handleCallback(req: CallbackRequest): Promise<void> {
    if (req.notifyType !== 'REPORT') return;
    const list = req.reportResultList ?? [];
    const traces = new Set(list.flatMap((p) => p.itemList.map((i) => i.orgTraceId)));
    const doc = await this.state();
    const id = callbackRequestId(req);
    for (const day of Object.values(doc.value.days)) {
      for (const b of day.batches) {
        const match = id ? b.orgRequestId === id : b.orgTraceIds.some((t) => traces.has(t));
        if (match && b.status !== 'abandoned') await this.recordResult(b, list, 'callback');
      }
    }
  }

  private async recordResult(b: BatchRecord, list: ResultPerson[], via: 'callback' | 'ORG_MDL_005'): Promise<void> {
    const mine = new Set(b.orgTraceIds);
    const items: ResultItem[] = list.flatMap((p) => p.itemList).filter((i) => mine.has(i.orgTraceId));
    b.status = 'done';
    b.via = via;
    b.doneAt = new Date(this.now()).toISOString();
    b.results = items.map((i) => ({ orgTraceId: i.orgTraceId, traceId: i.traceId, state: i.state }));
    await (await this.state()).save();
    await this.opts.onResult?.(list, b.orgRequestId);
    for (const w of this.waiters) w();
    this.waiters.clear();
  }

  /** The platform trace id of an item, once a result has arrived: needed for ORG_MDL_003. */
  async traceIdOf(orgTraceId: string): Promise<string | undefined> {
    for (const day of Object.values((await this.state()).value.days)) {
      for (const b of day.batches) {
        const hit = b.results?.find((r) => r.orgTraceId === orgTraceId);
        if (hit?.traceId) return hit.traceId;
      }
    }
    return undefined;
  }

  private async load(day: string): Promise<UnsettledPerson[]> {
    const src = this.opts.source;
    if (typeof src === 'function') return src(day);
    if ('csv' in src)
      return parseReportCsv(await readFile(typeof src.csv === 'function' ? src.csv(day) : src.csv), { encoding: src.encoding });
    return reportRowsToPersons(await src.query(day));
  }

  /**
   * Runs every night at the institution's slot inside 02:00–05:30 China time. Errors go to
   * `onError`; the next night (or a manual run) resumes from the state file.
   */
  schedule(onError: (e: unknown) => void = () => {}): { stop(): void; nextAt(): number } {
    let timer: NodeJS.Timeout | undefined;
    let next = 0;
    const arm = () => {
      next = nextRunAt(this.now(), this.opts.org.orgId);
      timer = setTimeout(() => void this.run().catch(onError).finally(arm), Math.max(0, next - this.now()));
    };
    arm();
    return { stop: () => clearTimeout(timer), nextAt: () => next };
  }
}

/** The persons restricted to the given items (or to all but `exclude`), in source order. */
function subset(persons: readonly UnsettledPerson[], only?: ReadonlySet<string>, exclude?: ReadonlySet<string>): UnsettledPerson[] {
  return persons
    .map((p) => ({ ...p, itemList: p.itemList.filter((i) => (only ? only.has(i.orgTraceId) : !exclude?.has(i.orgTraceId))) }))
    .filter((p) => p.itemList.length > 0);
}
