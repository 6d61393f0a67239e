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
