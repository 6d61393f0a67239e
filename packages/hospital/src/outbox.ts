/**
 * The 前置机's durable outbox: every report and update the HIS hands over is appended (fsync'd) to
 * `outbox.jsonl` before the HIS is told it was accepted, and stays there until the platform has
 * taken it. Each entry carries its orgRequestId from the start, so a resend after a crash, a network
 * cut or a platform outage is the same request, which the platform does not process twice.
 */
import { join } from 'node:path';
import type { ReportOverdueDataRequest, ResultPerson, UpdateOverdueDataRequest } from '@mdl/protocol';
import { traceIdsOf } from './batching.js';
import { type PlatformClient, backoffDelay } from './client.js';
import { PlatformError } from './errors.js';
import { JsonLinesLog } from './store.js';

export type OutboxKind = 'report' | 'update';
export type OutboxStatus = 'pending' | 'sent' | 'done' | 'failed';

export interface OutboxEntry {
  id: string;
  kind: OutboxKind;
  payload: ReportOverdueDataRequest | UpdateOverdueDataRequest;
  status: OutboxStatus;
  enqueuedAt: string;
  attempts: number;
  lastError?: string;
  sentAt?: string;
  doneAt?: string;
  results?: { orgTraceId: string; traceId?: string; state?: string }[];
}

type Event =
  | { t: 'enqueue'; entry: OutboxEntry }
  | { t: 'attempt'; id: string; error: string }
  | { t: 'sent'; id: string; at: string }
  | { t: 'failed'; id: string; error: string }
  | { t: 'result'; id: string; at: string; results: NonNullable<OutboxEntry['results']> };

export class Outbox {
  private readonly entries = new Map<string, OutboxEntry>();
  private readonly log: JsonLinesLog;
  private wake: (() => void) | undefined;

  private constructor(dataDir: string) {
    this.log = new JsonLinesLog(join(dataDir, 'outbox.jsonl'));
  }

  static async open(dataDir: string): Promise<Outbox> {
    const box = new Outbox(dataDir);
    const events = (await box.log.readAll()) as Event[];
    for (const e of events) box.apply(e);
    // Retries during a long outage add a line each: fold the log back to one line per entry.
    if (events.length > 2 * box.entries.size + 100) await box.log.rewrite(box.list().map((entry) => ({ t: 'enqueue', entry })));
    return box;
  }

  private apply(e: Event): void {
    if (e.t === 'enqueue') {
      this.entries.set(e.entry.id, { ...e.entry });
      return;
    }
    const entry = this.entries.get(e.id);
    if (!entry) return;
    if (e.t === 'attempt') {
      entry.attempts++;
      entry.lastError = e.error;
    } else if (e.t === 'sent') {
      entry.attempts++;
      if (entry.status === 'pending') entry.status = 'sent';
      entry.sentAt = e.at;
      delete entry.lastError;
    } else if (e.t === 'failed') {
      entry.attempts++;
      entry.status = 'failed';
      entry.lastError = e.error;
    } else {
      entry.status = 'done';
      entry.doneAt = e.at;
      entry.results = e.results;
    }
  }

  private async record(e: Event): Promise<void> {
    await this.log.append(e);
    this.apply(e);
  }

  /** Durable once this resolves. An id already known is not queued again (the HIS may post twice). */
  async enqueue(kind: OutboxKind, payload: OutboxEntry['payload']): Promise<{ entry: OutboxEntry; created: boolean }> {
    const known = this.entries.get(payload.orgRequestId);
    if (known) return { entry: known, created: false };
    const entry: OutboxEntry = {
      id: payload.orgRequestId,
      kind,
      payload,
      status: 'pending',
      enqueuedAt: new Date().toISOString(),
      attempts: 0,
    };
    await this.record({ t: 'enqueue', entry });
    this.wake?.();
    return { entry: this.entries.get(entry.id)!, created: true };
  }

  /** The platform trace id of a reported item, once its result has come back. */
  traceIdOf(orgTraceId: string): string | undefined {
    for (const e of this.entries.values()) {
      if (e.kind !== 'report') continue;
      const hit = e.results?.find((r) => r.orgTraceId === orgTraceId && r.traceId);
      if (hit) return hit.traceId;
    }
    return undefined;
  }

  list(): OutboxEntry[] {
    return [...this.entries.values()];
  }

  get(id: string): OutboxEntry | undefined {
    return this.entries.get(id);
  }

  /** Records a platform result (ORG_002 or ORG_MDL_005) for the batch it belongs to. */
  async recordResult(orgRequestId: string | undefined, list: ResultPerson[]): Promise<OutboxEntry | undefined> {
    const items = list.flatMap((p) => p.itemList);
    const traces = new Set(items.map((i) => i.orgTraceId));
    const entry = orgRequestId
      ? this.entries.get(orgRequestId)
      : this.list().find((e) => e.status !== 'done' && traceIdsOf(e.payload).some((t) => traces.has(t)));
    if (!entry) return undefined;
    const results = items.map((i) => ({ orgTraceId: i.orgTraceId, traceId: i.traceId, state: i.state }));
    await this.record({ t: 'result', id: entry.id, at: new Date().toISOString(), results });
    return entry;
  }

  /**
   * Sends pending entries in order until `signal` aborts. A retryable failure (platform down,
   * 5xx, -3, -6, 000003) keeps the entry pending and backs off; any other failure marks it failed
   * for an operator to look at.
   */
  async deliver(
    client: PlatformClient,
    opts: { signal: AbortSignal; retryBaseMs?: number; retryMaxMs?: number; onEvent?: (msg: string) => void },
  ): Promise<void> {
    const base = opts.retryBaseMs ?? 1000;
    const cap = opts.retryMaxMs ?? 60_000;
    let failures = 0;
    while (!opts.signal.aborted) {
      const next = this.list().find((e) => e.status === 'pending');
      if (!next) {
        await this.sleep(60_000, opts.signal, true);
        continue;
      }
      try {
        const call =
          next.kind === 'report'
            ? client.reportOverdueData(next.payload as ReportOverdueDataRequest, { maxRetries: 0, signal: opts.signal })
            : client.updateOverdueData(next.payload as UpdateOverdueDataRequest, { maxRetries: 0, signal: opts.signal });
        const r = await call;
        if (r.state !== 'success') throw new PlatformError('-1', r.msg || '平台未接收该批次');
        await this.record({ t: 'sent', id: next.id, at: new Date().toISOString() });
        opts.onEvent?.(`已发送 ${next.kind === 'report' ? '上报' : '更新'}批次 ${next.id}`);
        failures = 0;
      } catch (e) {
        if (opts.signal.aborted) return;
        const msg = e instanceof PlatformError ? `${e.respCode} ${e.message}` : String(e);
        if (e instanceof PlatformError && !e.retryable) {
          await this.record({ t: 'failed', id: next.id, error: msg });
          opts.onEvent?.(`批次 ${next.id} 被平台拒绝, 需人工处理: ${msg}`);
          continue;
        }
        await this.record({ t: 'attempt', id: next.id, error: msg });
        const delay = backoffDelay(failures++, base, cap);
        opts.onEvent?.(`批次 ${next.id} 发送失败, ${delay} ms 后重试: ${msg}`);
        await this.sleep(delay, opts.signal);
      }
    }
  }

  /** Waits `ms` or until the signal aborts; when idle, also until new work arrives (not during a backoff). */
  private sleep(ms: number, signal: AbortSignal, wakeOnWork = false): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      signal.addEventListener('abort', done);
      if (wakeOnWork) this.wake = done;
    });
  }
}
