import type { Services } from '../deps.js';
import { appealDetail, listAppeals } from './appeals.js';
import { searchAudit, type AuditFilter } from './audit-search.js';
import { orgScope, type Actor } from './auth.js';
import { batchDetail, listAttempts, listBatches, listItems, type BatchFilter, type ItemFilter } from './batches.js';
import { listRefreshResults, listReminders, reminderCounts } from './citizen-data.js';
import { dashboardData } from './dashboard.js';
import { getInstitution, institutionNames, listInstitutions } from './institutions.js';
import { itemDetail } from './item-detail.js';
import { batchTotals, itemTotals } from './list-totals.js';
import { hasReceipt, openReceipt } from '../appeal-receipts.js';
import { policyHistory } from './policy.js';
import { listUsers } from './users.js';

/** A platform-wide read asked for by institution staff: the page shows it as 403. */
export class OutOfScopeError extends Error {
  override name = 'OutOfScopeError';
}

/**
 * Every console read, bound to the caller (medplum's repository bound to the request): institution staff see
 * their own institution's rows only, and that scope is applied here, once, not remembered per query by each
 * page. Platform-wide reads (audit trail, reminders, accounts, policy history) refuse staff here as well as at
 * the page's role check. Pages build one reader per request from the signed-in actor and never pass a scope.
 */
export function consoleReader(deps: Pick<Services, 'db' | 'vault' | 'now'>, actor: Actor) {
  const { db, vault } = deps;
  const org = orgScope(actor);
  const wide = <T>(read: () => Promise<T>): Promise<T> =>
    actor.role === 'staff' ? Promise.reject(new OutOfScopeError('platform-wide read refused to institution staff')) : read();
  return {
    actor,
    dashboard: () => dashboardData(db, org, deps.now()),
    institutions: () => listInstitutions(db, org),
    institution: (orgId: string) => getInstitution(db, org, orgId),
    institutionNames: () => institutionNames(db),
    batches: (f: BatchFilter & { limit?: number }) => listBatches(db, org, f),
    batchTotals: (f: BatchFilter) => batchTotals(db, org, f),
    batch: (id: number) => batchDetail(db, vault, org, id),
    items: (f: Parameters<typeof listItems>[3]) => listItems(db, vault, org, f),
    itemTotals: (f: ItemFilter) => itemTotals(db, org, f),
    item: (id: number) => itemDetail(db, vault, org, id),
    callbackAttempts: (limit?: number) => listAttempts(db, org, limit),
    appeals: (status: string | undefined) => listAppeals(db, org, status),
    appeal: (id: number) => appealDetail(db, vault, org, id),
    /** Only after `appeal(id)` found the appeal in scope. */
    appealHasReceipt: (id: number) => hasReceipt(db, id),
    receipt: (appealId: number) => openReceipt(db, vault, org, appealId),
    refreshResults: (status: string | undefined) => listRefreshResults(db, org, status),
    auditTrail: (f: AuditFilter, limit: number, beforeId?: number) => wide(() => searchAudit(db, f, limit, beforeId)),
    reminders: (status: string | undefined) => wide(() => listReminders(db, vault, status)),
    reminderCounts: () => wide(() => reminderCounts(db)),
    users: () => wide(() => listUsers(db)),
    policyHistory: () => wide(() => policyHistory(db)),
  };
}

export type ConsoleReader = ReturnType<typeof consoleReader>;
