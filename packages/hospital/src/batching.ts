import { MAX_ITEMS_PER_CALL, sm3Hex } from '@mdl/protocol';
import type { ReportItem, ReportOverdueDataRequest, UnsettledPerson, UpdateItem, UpdateOverdueDataRequest } from '@mdl/protocol';
import { InvalidRequestError } from './errors.js';

/** ORG_MDL_003 payload before the kit adds orgId, notifyUrl and orgRequestId. */
export type PersonUpdate = Omit<UpdateOverdueDataRequest, 'orgId' | 'notifyUrl' | 'orgRequestId'>;

/**
 * Real-name patients are keyed by their identity; a non-real-name patient has nothing to key on, so
 * each such entry stays on its own rather than being merged with other anonymous patients.
 */
function personKey(p: { idType?: string; idNo?: string; ehealthCardId?: string }): string | undefined {
  if (!p.idNo && !p.ehealthCardId) return undefined;
  return `${p.idType ?? ''}|${p.idNo ?? ''}|${p.ehealthCardId ?? ''}`;
}

/** Fixed key order and no empty optionals, so the same data always serialises to the same bytes. */
function canonicalItem(i: ReportItem): ReportItem {
  return {
    orgTraceId: i.orgTraceId,
    medType: i.medType,
    feeType: i.feeType,
    itemName: i.itemName,
    amount: i.amount,
    actualTime: i.actualTime,
  };
}

function canonicalPerson(p: UnsettledPerson, itemList: ReportItem[]): UnsettledPerson {
  const out: UnsettledPerson = { userType: p.userType, itemList: itemList.map(canonicalItem) };
  const ordered: UnsettledPerson = {
    ...(p.idNo ? { idNo: p.idNo } : {}),
    ...(p.idType ? { idType: p.idType } : {}),
    ...(p.userName ? { userName: p.userName } : {}),
    ...(p.ehealthCardId ? { ehealthCardId: p.ehealthCardId } : {}),
    ...(p.mobilePhone ? { mobilePhone: p.mobilePhone } : {}),
    ...out,
  };
  if (p.extData && Object.keys(p.extData).length > 0) ordered.extData = p.extData;
  return ordered;
}

/** Merges entries of the same patient and refuses an orgTraceId given twice (it identifies one bill). */
export function groupByPerson(persons: readonly UnsettledPerson[]): UnsettledPerson[] {
  const byKey = new Map<string, { person: UnsettledPerson; items: ReportItem[] }>();
  const groups: { person: UnsettledPerson; items: ReportItem[] }[] = [];
  const seen = new Set<string>();
  for (const p of persons) {
    for (const item of p.itemList) {
      if (seen.has(item.orgTraceId)) throw new InvalidRequestError(`机构跟踪号 ${item.orgTraceId} 重复出现`, 'orgTraceId');
      seen.add(item.orgTraceId);
    }
    const key = personKey(p);
    const existing = key === undefined ? undefined : byKey.get(key);
    if (existing) {
      existing.items.push(...p.itemList);
      continue;
    }
    const group = { person: p, items: [...p.itemList] };
    groups.push(group);
    if (key !== undefined) byKey.set(key, group);
  }
  return groups.map((g) => canonicalPerson(g.person, g.items));
}

/**
 * Packs persons into batches of at most `max` items. A patient stays within one batch whenever
 * their items fit in one; only a patient with more than `max` items is split.
 */
export function packPersons(persons: readonly UnsettledPerson[], max = MAX_ITEMS_PER_CALL): UnsettledPerson[][] {
  const batches: UnsettledPerson[][] = [];
  let current: UnsettledPerson[] = [];
  let room = max;
  const flush = () => {
    if (current.length > 0) batches.push(current);
    current = [];
    room = max;
  };
  for (const p of persons) {
    let items = p.itemList;
    if (items.length > room) flush();
    while (items.length > max) {
      batches.push([{ ...p, itemList: items.slice(0, max) }]);
      items = items.slice(max);
    }
    current.push({ ...p, itemList: items });
    room -= items.length;
  }
  flush();
  return batches;
}

/** Splits per-person updates into calls of at most `max` items (ORG_MDL_003 carries one person per call). */
export function splitUpdates(updates: readonly PersonUpdate[], max = MAX_ITEMS_PER_CALL): PersonUpdate[] {
  const out: PersonUpdate[] = [];
  const byKey = new Map<string, PersonUpdate>();
  for (const u of updates) {
    const key = `${u.idType ?? ''}|${u.idNo ?? ''}|${u.userName ?? ''}|${u.ehealthCardId ?? ''}`;
    const existing = byKey.get(key);
    if (existing) existing.itemList.push(...u.itemList);
    else {
      const copy: PersonUpdate = { ...u, itemList: [...u.itemList] };
      byKey.set(key, copy);
      out.push(copy);
    }
  }
  return out.flatMap((u) => {
    const chunks: PersonUpdate[] = [];
    for (let i = 0; i < u.itemList.length; i += max) {
      const itemList: UpdateItem[] = u.itemList
        .slice(i, i + max)
        .map((x) => ({ orgTraceId: x.orgTraceId, traceId: x.traceId, state: x.state }));
      chunks.push({ ...u, itemList });
    }
    return chunks;
  });
}

const MAX_REQUEST_ID = 40;

/**
 * orgRequestId derived from the batch content: sending the same items again (after a crash, a
 * timeout, a restart of the 前置机) reuses the id, and the platform answers the same id with the
 * same payload without processing it twice (DESIGN.md "Batch identity").
 */
export function deriveRequestId(prefix: string, orgId: string, content: unknown): string {
  const p = prefix.slice(0, 16);
  return (p + sm3Hex(`${orgId}\n${JSON.stringify(content)}`)).slice(0, MAX_REQUEST_ID);
}

export interface OrgInfo {
  orgId: string;
  orgName: string;
  /** Where the platform sends ORG_002 results: this hospital's `/umdl/callback`. */
  notifyUrl: string;
}

/** The ORG_MDL_001 calls for a report of any size: grouped by person, ≤100 items each, content-derived ids. */
export function planReport(persons: readonly UnsettledPerson[], org: OrgInfo, prefix = 'R'): ReportOverdueDataRequest[] {
  return packPersons(groupByPerson(persons)).map((unsettleList) => {
    const body = { orgId: org.orgId, orgName: org.orgName, notifyUrl: org.notifyUrl, unsettleList };
    return { ...body, orgRequestId: deriveRequestId(prefix, org.orgId, body) };
  });
}

/** The ORG_MDL_003 calls for a set of updates: one person per call, ≤100 items each. */
export function planUpdates(updates: readonly PersonUpdate[], org: Omit<OrgInfo, 'orgName'>, prefix = 'U'): UpdateOverdueDataRequest[] {
  return splitUpdates(updates).map((u) => {
    const body = { ...u, orgId: org.orgId, notifyUrl: org.notifyUrl };
    return { ...body, orgRequestId: deriveRequestId(prefix, org.orgId, body) };
  });
}

export function itemCount(req: ReportOverdueDataRequest): number {
  return (req.unsettleList ?? []).reduce((n, p) => n + p.itemList.length, 0);
}

export function traceIdsOf(req: ReportOverdueDataRequest | UpdateOverdueDataRequest): string[] {
  if ('itemList' in req) return req.itemList.map((i) => i.orgTraceId);
  return req.unsettleList?.flatMap((p) => p.itemList.map((i) => i.orgTraceId)) ?? [];
}
