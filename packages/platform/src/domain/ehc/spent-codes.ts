import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';

/**
 * A health code is a bearer token for a minute: the first institution to verify it spends it, with one
 * INSERT that only one of any number of parallel verifications can make. Rows are kept until the code
 * would have expired anyway, then swept.
 */
export async function spendCode(db: Kysely<DB>, codeId: string, orgId: string, expiresAt: number, now: number): Promise<boolean> {
  const r = await db
    .insertInto('ehc_code_spent')
    .values({ code_id: codeId, org_id: orgId, spent_at: new Date(now), expires_at: new Date(expiresAt) })
    .onConflict((oc) => oc.column('code_id').doNothing())
    .returning('code_id')
    .executeTakeFirst();
  // A sweep now and then keeps the table as small as one code lifetime of verifications.
  if (Math.random() < 0.01) await db.deleteFrom('ehc_code_spent').where('expires_at', '<', new Date(now)).execute();
  return r !== undefined;
}
