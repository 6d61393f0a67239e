import type { Kysely } from 'kysely';
import type { DB, NewAuditEvent } from '../db/schema.js';

export type AuditInput = Omit<NewAuditEvent, 'id' | 'at'>;

/** Append one event to the audit trail. Callers pass their transaction when the event belongs to a write. */
export async function audit(db: Kysely<DB>, event: AuditInput): Promise<void> {
  await db.insertInto('audit_event').values(clip(event)).execute();
}

export async function auditMany(db: Kysely<DB>, events: AuditInput[]): Promise<void> {
  if (events.length === 0) return;
  await db.insertInto('audit_event').values(events.map(clip)).execute();
}

function clip(e: AuditInput): AuditInput {
  return {
    ...e,
    target: e.target ? e.target.slice(0, 120) : null,
    detail: e.detail ? e.detail.slice(0, 2000) : null,
  };
}

/**
 * Group commit for the audit events of hot read paths (ORG_MDL_002): each caller still waits until its
 * event is committed before answering, but events that arrive while a write is in flight go together in
 * the next multi-row INSERT, so at load the audit trail costs one commit per group, not per query.
 */
export class AuditWriter {
  #queue: { event: AuditInput; done: (e?: unknown) => void }[] = [];
  #flushing = false;
  #scheduled = false;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly maxBatch = 500,
  ) {}

  write(event: AuditInput): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ event, done: (e) => (e ? reject(e) : resolve()) });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#flushing || this.#scheduled || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    const group = this.#queue.splice(0, this.maxBatch);
    try {
      await auditMany(
        this.db,
        group.map((g) => g.event),
      );
      for (const g of group) g.done();
    } catch (e) {
      for (const g of group) g.done(e);
    } finally {
      this.#flushing = false;
      this.#schedule();
    }
  }
}
