import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { SettingStore } from './setting-store.js';

/** The configurable rule for `next` (DESIGN.md "Eligibility"). */
export interface EligibilityPolicy {
  /** An unpaid item older than this many days makes the person ineligible. */
  maxAgeDays: number;
  /** An unpaid total reaching this many fen makes the person ineligible. */
  maxTotalFen: number;
  /** This many unpaid items or more make the person ineligible. */
  maxCount: number;
}

export const DEFAULT_POLICY: EligibilityPolicy = { maxAgeDays: 15, maxTotalFen: 50_000, maxCount: 3 };

export type EligibilityReason = 'NO_ARREARS' | 'WITHIN_POLICY' | 'OVERDUE_TOO_LONG' | 'TOTAL_TOO_HIGH' | 'TOO_MANY_ITEMS';

export const REASON_TEXT: Record<EligibilityReason, string> = {
  NO_ARREARS: '无欠费记录',
  WITHIN_POLICY: '存在欠费，但未超过限制，可继续享受先诊后付',
  OVERDUE_TOO_LONG: '存在超过规定天数未结清的欠费',
  TOTAL_TOO_HIGH: '欠费总额达到上限',
  TOO_MANY_ITEMS: '欠费笔数达到上限',
};

export interface Decision {
  next: '0' | '1';
  reasons: EligibilityReason[];
  unpaidCount: number;
  unpaidTotalFen: number;
}

export function decide(policy: EligibilityPolicy, unpaid: { amountFen: number; actualTime: Date }[], now: number): Decision {
  const unpaidTotalFen = unpaid.reduce((s, i) => s + i.amountFen, 0);
  if (unpaid.length === 0) return { next: '1', reasons: ['NO_ARREARS'], unpaidCount: 0, unpaidTotalFen };
  const reasons: EligibilityReason[] = [];
  const oldest = Math.min(...unpaid.map((i) => i.actualTime.getTime()));
  if (now - oldest > policy.maxAgeDays * 86_400_000) reasons.push('OVERDUE_TOO_LONG');
  if (unpaidTotalFen >= policy.maxTotalFen) reasons.push('TOTAL_TOO_HIGH');
  if (unpaid.length >= policy.maxCount) reasons.push('TOO_MANY_ITEMS');
  if (reasons.length === 0) return { next: '1', reasons: ['WITHIN_POLICY'], unpaidCount: unpaid.length, unpaidTotalFen };
  return { next: '0', reasons, unpaidCount: unpaid.length, unpaidTotalFen };
}

const KEY = 'eligibility_policy';

export function policyProblem(p: EligibilityPolicy): string | undefined {
  if (!Number.isInteger(p.maxAgeDays) || p.maxAgeDays < 0 || p.maxAgeDays > 3650) return 'maxAgeDays 应为 0 到 3650 的整数';
  if (!Number.isInteger(p.maxTotalFen) || p.maxTotalFen < 1) return 'maxTotalFen 应为正整数（分）';
  if (!Number.isInteger(p.maxCount) || p.maxCount < 1 || p.maxCount > 1000) return 'maxCount 应为 1 到 1000 的整数';
  return undefined;
}

/** Reads the policy with a short cache: it is consulted on every ORG_MDL_002. */
export class PolicyStore extends SettingStore<EligibilityPolicy> {
  constructor(db: Kysely<DB>, ttlMs?: number) {
    super(db, KEY, DEFAULT_POLICY, policyProblem, ttlMs);
    this.#db = db;
  }

  readonly #db: Kysely<DB>;

  /** Write the policy, in the caller's transaction when given one (with its history and audit: savePolicy). */
  async set(policy: EligibilityPolicy, db: Kysely<DB> = this.#db): Promise<void> {
    await this.save(db, policy);
  }
}
