import type { Kysely } from 'kysely';
import { insertAuditRows } from '../db/audit-rows.js';
import type { DB, NewAuditEvent } from '../db/schema.js';
import { Grouped } from './grouped.js';

/**
 * Every action the audit trail knows. A new action is added here (and its words in web/console/audit-text.ts),
 * so a typo in an action code is a compile error, not an event no search finds.
 */
export const AUDIT_ACTIONS = [
  'appeal.answer',
  'appeal.file',
  'appeal.reject',
  'appeal.uphold',
  'arrears.query',
  'audit.export',
  'audit.read',
  'batch.report.accept',
  'batch.update.accept',
  'callback.deliver',
  'callback.failed',
  'callback.resend',
  'citizen.refresh',
  'console.app.create',
  'console.app.disable',
  'console.app.enable',
  'console.app.rotate',
  'console.appeal.receipt',
  'console.appeal.view',
  'console.appeals.export',
  'console.batch.view',
  'console.batches.export',
  'console.callback.resend.bulk',
  'console.card_review.decide',
  'console.card_review.list',
  'console.csrf',
  'console.institution.create',
  'console.institution.update',
  'console.item.view',
  'console.items.export',
  'console.items.view',
  'console.login',
  'console.logout',
  'console.password.change',
  'console.session.expire',
  'console.totp.enrol',
  'console.user.create',
  'console.user.disable',
  'console.user.enable',
  'coverage.update',
  'credential.create',
  'credential.disable',
  'credential.enable',
  'credential.rotate',
  'ehc.auth.allow',
  'ehc.auth.cancel',
  'ehc.auth.open',
  'ehc.auth.reveal',
  'ehc.card.csrf',
  'ehc.card.phone',
  'ehc.card.register',
  'ehc.card.review.open',
  'ehc.card.signin',
  'ehc.code.verify',
  'ehc.lookup',
  'ehc.register',
  'ehc.upstream.find',
  'ehc.upstream.insured',
  'ehc.upstream.issue',
  'institution.create',
  'institution.require_totp',
  'institution.update',
  'interface.refused',
  'item.refresh',
  'item.report',
  'item.revoke.staff',
  'item.settle.staff',
  'item.update',
  'mdr.link',
  'mdr.open',
  'notice.update',
  'org001.call',
  'org001.invalid',
  'policy.update',
  'reminder.create',
  'reminder.push',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditInput = Omit<NewAuditEvent, 'id' | 'at' | 'action'> & { action: AuditAction };

/** What an event may say beyond who did what: every field optional, `outcome` 'ok' unless told. */
export interface AuditFacts {
  orgId?: string | null;
  /** Blind index of the person the action concerns. */
  subject?: string | null;
  target?: string | null;
  outcome?: 'ok' | 'refused' | 'error';
  respCode?: string | null;
  requestId?: string | null;
  /** A string as it is, anything else as JSON. */
  detail?: unknown;
}

type ActorType = NewAuditEvent['actor_type'];

/** One event from its actor and facts: the one place the ten columns are filled in. */
export function auditEvent(actorType: ActorType, actorId: string, action: AuditAction, f: AuditFacts = {}): AuditInput {
  return {
    actor_type: actorType,
    actor_id: actorId.slice(0, 64),
    org_id: f.orgId ?? null,
    subject_bidx: f.subject ?? null,
    action,
    target: f.target ?? null,
    outcome: f.outcome ?? 'ok',
    resp_code: f.respCode ?? null,
    request_id: f.requestId ?? null,
    detail: f.detail === undefined || f.detail === null ? null : typeof f.detail === 'string' ? f.detail : JSON.stringify(f.detail),
  };
}

/**
 * A person acting on the platform by name: a console user (operator, auditor or institution staff; the console's
 * `Actor` is one) or the CLI under the operating-system user who ran it (`cli/actor.ts`).
 */
export interface Operator {
  username: string;
  orgId?: string | null;
}

/** A console user or the CLI: the event carries their institution unless told. */
export function auditOperator(db: Kysely<DB>, who: Operator, action: AuditAction, f: AuditFacts = {}): Promise<void> {
  return audit(db, auditEvent('operator', who.username, action, { ...f, orgId: f.orgId !== undefined ? f.orgId : (who.orgId ?? null) }));
}

/** A hospital or channel application calling an interface with its credential. */
export function auditApp(
  db: Kysely<DB>,
  who: { appId: string; orgId: string | null },
  action: AuditAction,
  f: AuditFacts = {},
): Promise<void> {
  return audit(db, auditEvent('app', who.appId, action, { ...f, orgId: f.orgId !== undefined ? f.orgId : who.orgId }));
}

/** A citizen: `citizenId` says through which door ('mdr' for the citizen app, `card:<no>` for the e-health card). */
export function auditCitizen(db: Kysely<DB>, citizenId: string, action: AuditAction, f: AuditFacts = {}): Promise<void> {
  return audit(db, auditEvent('citizen', citizenId, action, f));
}

/** The platform itself (jobs, outbound calls, scans). */
export function auditSystem(db: Kysely<DB>, action: AuditAction, f: AuditFacts = {}): Promise<void> {
  return audit(db, auditEvent('system', 'platform', action, f));
}

/** Append one event to the audit trail. Callers pass their transaction when the event belongs to a write. */
export async function audit(db: Kysely<DB>, event: AuditInput): Promise<void> {
  await insertAuditRows(db, [clip(event)]);
}

export async function auditMany(db: Kysely<DB>, events: AuditInput[]): Promise<void> {
  await insertAuditRows(db, events.map(clip));
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
 * event is committed before answering, but events that arrive while groups are being written go together in
 * the next multi-row INSERT, so at load the audit trail costs one commit per group, not per query.
 */
export class AuditWriter {
  readonly #groups: Grouped<AuditInput, undefined>;

  constructor(
    db: Kysely<DB>,
    maxBatch = 500,
    /**
     * Groups committing at once. With one, every caller waits for the group ahead of it to commit and then for
     * its own; with two, a group starts while the previous one commits (bench/analysis.md), for one more
     * connection.
     */
    maxInFlight = 2,
  ) {
    this.#groups = new Grouped(
      async (events) => {
        await auditMany(db, events);
        return events.map(() => undefined);
      },
      { maxInFlight, maxSize: maxBatch },
    );
  }

  async write(event: AuditInput): Promise<void> {
    await this.#groups.submit(event);
  }
}
