import { FEE_TYPES, MED_TYPES, epochMsToChinaTime, fenToYuan } from '@mdl/protocol';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { coveragePolicyProblem, coverageProblem, type CoveragePolicy } from '../coverage.js';
import type { Services } from '../deps.js';
import { auditAction, type Actor } from './auth.js';

/**
 * Coverage editing (§1.2.3, docs/decisions.md "Coverage"). The preview replays the items stored over
 * the last 30 days through the proposed policy, each at the time it was stored: how many of the
 * reports of a recent month it would have refused. Items already stored are not touched by a change.
 */
export interface CoveragePreview {
  items: number;
  refused: number;
  byReason: { reason: string; count: number }[];
}

const PREVIEW_DAYS = 30;
const PREVIEW_LIMIT = 100_000;

export async function previewCoverage(db: Kysely<DB>, proposed: CoveragePolicy, now: number): Promise<CoveragePreview> {
  const rows = await db
    .selectFrom('arrears_item')
    .select(['med_type', 'fee_type', 'amount_fen', 'actual_time', 'created_at'])
    .where('created_at', '>=', new Date(now - PREVIEW_DAYS * 86_400_000))
    .limit(PREVIEW_LIMIT)
    .execute();
  const reasons = new Map<string, number>();
  let refused = 0;
  for (const r of rows) {
    const problem = coverageProblem(
      proposed,
      {
        medType: r.med_type,
        feeType: r.fee_type,
        amount: fenToYuan(r.amount_fen),
        actualTime: epochMsToChinaTime(new Date(r.actual_time).getTime()),
      },
      new Date(r.created_at).getTime(),
    );
    if (!problem) continue;
    refused++;
    // Group by the kind of reason, not the exact text (which names the item's time or amount).
    const kind = problem.replace(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}|\d+\.\d{2}(?!.*\d+\.\d{2})/g, '…');
    reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
  }
  return { items: rows.length, refused, byReason: [...reasons].map(([reason, count]) => ({ reason, count })) };
}

export interface CoverageForm {
  medTypes: string[];
  feeTypes: string[];
  maxAgeDays: string;
  maxFutureMinutes: string;
  minAmountYuan: string;
}

export function coverageToForm(p: CoveragePolicy): CoverageForm {
  return {
    medTypes: p.medTypes,
    feeTypes: p.feeTypes,
    maxAgeDays: String(p.maxAgeDays),
    maxFutureMinutes: String(p.maxFutureMinutes),
    minAmountYuan: fenToYuan(p.minAmountFen),
  };
}

export function parseCoverageForm(f: CoverageForm): { policy?: CoveragePolicy; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  if (f.medTypes.some((c) => !Object.hasOwn(MED_TYPES, c))) errors.medTypes = '含未知的医疗类别';
  if (f.feeTypes.length === 0 || f.feeTypes.some((c) => !Object.hasOwn(FEE_TYPES, c))) errors.feeTypes = '至少选择一个费用类别';
  if (!/^\d{1,4}$/.test(f.maxAgeDays.trim()) || Number(f.maxAgeDays) < 1 || Number(f.maxAgeDays) > 3650) {
    errors.maxAgeDays = '请输入 1 到 3650 的整数（天）';
  }
  if (!/^\d{1,4}$/.test(f.maxFutureMinutes.trim()) || Number(f.maxFutureMinutes) > 1440) {
    errors.maxFutureMinutes = '请输入 0 到 1440 的整数（分钟）';
  }
  const amount = f.minAmountYuan.trim();
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(amount) || Number(amount) <= 0) errors.minAmountYuan = '请输入大于 0 的金额（元，最多两位小数）';
  if (Object.keys(errors).length) return { errors };
  const [yuan, cents = ''] = amount.split('.');
  const policy: CoveragePolicy = {
    medTypes: [...new Set(f.medTypes)].sort(),
    feeTypes: [...new Set(f.feeTypes)].sort(),
    maxAgeDays: Number(f.maxAgeDays),
    maxFutureMinutes: Number(f.maxFutureMinutes),
    minAmountFen: Number(yuan) * 100 + Number(cents.padEnd(2, '0')),
  };
  const problem = coveragePolicyProblem(policy);
  return problem ? { errors: { form: problem } } : { policy, errors };
}

export async function saveCoverage(platform: Pick<Services, 'coverage' | 'db'>, actor: Actor, policy: CoveragePolicy): Promise<void> {
  const previous = await platform.coverage.get();
  await platform.db.transaction().execute(async (trx) => {
    await platform.coverage.set(trx, policy);
    await auditAction(trx, actor, 'coverage.update', 'setting:coverage_policy', { previous, policy }, { orgId: null });
  });
}
