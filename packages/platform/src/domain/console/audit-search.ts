import { DAY_MS, chinaDateToEpochMs, documentProblem, ID_TYPES } from '@mdl/protocol';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Vault } from '../../vault.js';

/**
 * Audit search. A person is found through the blind index of the ID number typed in: the number itself
 * is neither stored nor logged, and the read is audited with the same blind index.
 */
export interface AuditQuery {
  idType: string;
  idNo: string;
  orgId: string;
  actor: string;
  action: string;
  from: string;
  to: string;
}

export interface AuditFilter {
  /** The person's index under the current key and under each retired one (events are never re-keyed). */
  subject?: string[];
  orgId?: string;
  actor?: string;
  action?: string;
  from?: Date;
  to?: Date;
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

export function parseAuditQuery(vault: Vault, q: AuditQuery): { filter: AuditFilter; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const filter: AuditFilter = {};
  const idNo = q.idNo.trim();
  if (idNo) {
    const idType = q.idType || '01';
    if (!Object.hasOwn(ID_TYPES, idType)) errors.idType = '证件类型不正确';
    else {
      const problem = documentProblem(idType, idNo);
      if (problem) errors.idNo = problem;
      else filter.subject = vault.ring.map((v) => v.personKey(idType, idNo));
    }
  }
  if (q.orgId.trim()) {
    if (!/^[A-Za-z0-9]{1,12}$/.test(q.orgId.trim())) errors.orgId = '机构编码为 1 到 12 位字母或数字';
    else filter.orgId = q.orgId.trim();
  }
  if (q.actor.trim()) filter.actor = q.actor.trim().slice(0, 64);
  if (q.action.trim()) {
    if (!/^[a-z0-9._]{1,40}$/.test(q.action.trim())) errors.action = '操作类型为小写字母、数字和点';
    else filter.action = q.action.trim();
  }
  for (const k of ['from', 'to'] as const) {
    const v = q[k].trim();
    if (!v) continue;
    const ms = DATE_RE.test(v) ? chinaDateToEpochMs(v) : undefined;
    if (ms === undefined) errors[k] = '日期格式为 yyyy-MM-dd';
    else filter[k] = new Date(k === 'from' ? ms : ms + DAY_MS);
  }
  if (filter.from && filter.to && filter.from >= filter.to) errors.to = '结束日期应不早于开始日期';
  return { filter, errors };
}

/** For the audit trail of the read itself: what was searched, without the ID number. */
export function describeFilter(f: AuditFilter): Record<string, unknown> {
  return {
    person: f.subject ? 'by blind index' : undefined,
    orgId: f.orgId,
    actor: f.actor,
    action: f.action,
    from: f.from?.toISOString(),
    to: f.to?.toISOString(),
  };
}

export async function searchAudit(db: Kysely<DB>, f: AuditFilter, limit: number, beforeId?: number) {
  return db
    .selectFrom('audit_event')
    .selectAll()
    .$if(!!f.subject, (qb) => qb.where('subject_bidx', 'in', f.subject!))
    .$if(!!f.orgId, (qb) => qb.where('org_id', '=', f.orgId!))
    .$if(!!f.actor, (qb) => qb.where('actor_id', '=', f.actor!))
    .$if(!!f.action, (qb) => qb.where('action', 'like', `${f.action!}%`))
    .$if(!!f.from, (qb) => qb.where('at', '>=', f.from!))
    .$if(!!f.to, (qb) => qb.where('at', '<', f.to!))
    .$if(beforeId !== undefined, (qb) => qb.where('id', '<', beforeId!))
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

/** RFC 4180 field; a leading = + - @ is neutralised so a spreadsheet does not run it as a formula. */
export function csvField(v: unknown): string {
  let s = v === null || v === undefined ? '' : v instanceof Date ? v.toISOString() : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
