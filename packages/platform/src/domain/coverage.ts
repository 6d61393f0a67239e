import { FEE_TYPES, MED_TYPES, chinaTimeToEpochMs, yuanToFen } from '@mdl/protocol';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import { SettingStore } from './setting-store.js';

/**
 * Which reported items the registry takes at all (guide §1.2.3 覆盖费用范围; docs/decisions.md
 * "Coverage"). Applied when a batch is processed: an item outside coverage is refused for that item
 * and never stored, so every stored item counts toward `next` and ORG_MDL_002 stays a plain read. A
 * change applies to reports processed from then on.
 */
export interface CoveragePolicy {
  /** medType codes taken (guide dictionary 医疗类别). */
  medTypes: string[];
  /** feeType codes taken: 01 门诊 (诊查费), 02 住院 (住院费). */
  feeTypes: string[];
  /** The oldest actualTime accepted, in days before processing. */
  maxAgeDays: number;
  /** How far actualTime may lie after processing (clock skew between HIS and platform), in minutes. */
  maxFutureMinutes: number;
  /** The smallest amount taken, in fen. */
  minAmountFen: number;
}

/** §1.2.3: 诊查费 and 住院费; 急诊 (13, 24) and pharmacy (41, 93) are not covered. */
export const DEFAULT_COVERAGE: CoveragePolicy = {
  medTypes: Object.keys(MED_TYPES).filter((c) => !['13', '24', '41', '93'].includes(c)),
  feeTypes: Object.keys(FEE_TYPES),
  maxAgeDays: 365,
  maxFutureMinutes: 10,
  minAmountFen: 1,
};

export interface CoveredItem {
  medType: string;
  feeType: string;
  amount: string;
  actualTime: string;
}

/** Why an item is outside coverage, in Chinese, or undefined when it is covered. */
export function coverageProblem(policy: CoveragePolicy, it: CoveredItem, now: number): string | undefined {
  if (!policy.medTypes.includes(it.medType)) {
    return `医疗类别 ${it.medType}（${MED_TYPES[it.medType as keyof typeof MED_TYPES] ?? '未知'}）不在先诊后付覆盖范围内`;
  }
  if (!policy.feeTypes.includes(it.feeType)) return `费用类别 ${it.feeType} 不在先诊后付覆盖范围内`;
  if (yuanToFen(it.amount) < policy.minAmountFen)
    return `金额 ${it.amount} 低于覆盖范围的最低金额 ${(policy.minAmountFen / 100).toFixed(2)}`;
  const t = chinaTimeToEpochMs(it.actualTime)!;
  if (t < now - policy.maxAgeDays * 86_400_000) return `产生时间 ${it.actualTime} 早于可上报的最早时间（${policy.maxAgeDays} 天内）`;
  if (t > now + policy.maxFutureMinutes * 60_000) return `产生时间 ${it.actualTime} 晚于当前时间`;
  return undefined;
}

export function coveragePolicyProblem(p: CoveragePolicy): string | undefined {
  if (!Array.isArray(p.medTypes) || p.medTypes.some((c) => !Object.hasOwn(MED_TYPES, c))) return 'medTypes 含未知的医疗类别';
  if (!Array.isArray(p.feeTypes) || p.feeTypes.length === 0 || p.feeTypes.some((c) => !Object.hasOwn(FEE_TYPES, c))) {
    return 'feeTypes 应为非空的费用类别列表';
  }
  if (!Number.isInteger(p.maxAgeDays) || p.maxAgeDays < 1 || p.maxAgeDays > 3650) return 'maxAgeDays 应为 1 到 3650 的整数';
  if (!Number.isInteger(p.maxFutureMinutes) || p.maxFutureMinutes < 0 || p.maxFutureMinutes > 1440) {
    return 'maxFutureMinutes 应为 0 到 1440 的整数';
  }
  if (!Number.isInteger(p.minAmountFen) || p.minAmountFen < 1) return 'minAmountFen 应为正整数（分）';
  return undefined;
}

const KEY = 'coverage_policy';

/** The coverage policy in the `setting` table, beside the eligibility policy, with a short cache. */
export class CoverageStore extends SettingStore<CoveragePolicy> {
  constructor(db: Kysely<DB>, ttlMs?: number) {
    super(db, KEY, DEFAULT_COVERAGE, coveragePolicyProblem, ttlMs);
  }

  async set(trx: Kysely<DB>, policy: CoveragePolicy): Promise<void> {
    await this.save(trx, policy);
  }
}
