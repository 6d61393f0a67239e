import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { decide, policyProblem, type EligibilityPolicy } from '../eligibility.js';
import type { Services } from '../deps.js';
import { auditAction, type Actor } from './auth.js';

/**
 * Policy editing: a preview of who would change eligibility, and a history of every change.
 *
 * The preview groups unpaid items by subject (a real-name person province-wide, or a non-real-name
 * patient of one institution) and runs the very `decide` that ORG_MDL_002 runs, under both policies.
 * `decide` reads only the count, the total and the oldest time of the unpaid items, so each subject is
 * handed a list with those three exactly (one item carrying the total, the rest zero): the same rule,
 * without loading every item.
 */
export interface PolicyPreview {
  subjects: number;
  eligibleBefore: number;
  eligibleAfter: number;
  becomeIneligible: number;
  becomeEligible: number;
}

export async function previewPolicy(
  db: Kysely<DB>,
  current: EligibilityPolicy,
  proposed: EligibilityPolicy,
  now: number,
): Promise<PolicyPreview> {
  const groups = await db
    .selectFrom('arrears_item')
    .select([
      'subject_bidx',
      sql<number>`count(*)`.as('n'),
      sql<string>`sum(amount_fen)`.as('total'),
      sql<Date>`min(actual_time)`.as('oldest'),
    ])
    .where('state', '=', '0')
    .groupBy('subject_bidx')
    .execute();
  const p: PolicyPreview = { subjects: groups.length, eligibleBefore: 0, eligibleAfter: 0, becomeIneligible: 0, becomeEligible: 0 };
  for (const g of groups) {
    const oldest = new Date(g.oldest);
    const n = Number(g.n);
    const items = Array.from({ length: n }, (_, i) => ({ amountFen: i === 0 ? Number(g.total) : 0, actualTime: oldest }));
    const before = decide(current, items, now).next;
    const after = decide(proposed, items, now).next;
    if (before === '1') p.eligibleBefore++;
    if (after === '1') p.eligibleAfter++;
    if (before === '1' && after === '0') p.becomeIneligible++;
    if (before === '0' && after === '1') p.becomeEligible++;
  }
  return p;
}

export interface PolicyForm {
  maxAgeDays: string;
  maxTotalYuan: string;
  maxCount: string;
  note: string;
}

export function parsePolicyForm(f: PolicyForm): { policy?: EligibilityPolicy; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const age = f.maxAgeDays.trim();
  if (!/^\d{1,4}$/.test(age) || Number(age) > 3650) errors.maxAgeDays = '请输入 0 到 3650 的整数（天）';
  const total = f.maxTotalYuan.trim();
  if (!/^\d{1,9}(\.\d{1,2})?$/.test(total) || Number(total) <= 0) errors.maxTotalYuan = '请输入大于 0 的金额（元，最多两位小数）';
  const count = f.maxCount.trim();
  if (!/^\d{1,4}$/.test(count) || Number(count) < 1 || Number(count) > 1000) errors.maxCount = '请输入 1 到 1000 的整数（笔）';
  if ([...f.note].length > 200) errors.note = '说明不超过 200 字';
  if (Object.keys(errors).length) return { errors };
  const [yuan, cents = ''] = total.split('.');
  const policy = { maxAgeDays: Number(age), maxTotalFen: Number(yuan) * 100 + Number(cents.padEnd(2, '0')), maxCount: Number(count) };
  const problem = policyProblem(policy);
  if (problem) return { errors: { form: problem } };
  return { policy, errors };
}

export async function savePolicy(
  platform: Pick<Services, 'db' | 'policy'>,
  actor: Actor,
  policy: EligibilityPolicy,
  note: string,
): Promise<void> {
  const previous = await platform.policy.get();
  // The policy, its history row and its audit event are one transaction: none without the others.
  await platform.db.transaction().execute(async (trx) => {
    await platform.policy.set(policy, trx);
    await trx
      .insertInto('policy_history')
      .values({ policy: JSON.stringify(policy), previous: JSON.stringify(previous), note: note.trim() || null, changed_by: actor.username })
      .execute();
    await auditAction(
      trx,
      actor,
      'policy.update',
      'setting:eligibility_policy',
      { previous, policy, note: note.trim() || undefined },
      { orgId: null },
    );
  });
  platform.policy.forget();
}

export async function policyHistory(db: Kysely<DB>) {
  return db.selectFrom('policy_history').selectAll().orderBy('id', 'desc').limit(100).execute();
}
