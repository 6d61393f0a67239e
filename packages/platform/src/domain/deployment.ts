import { sql, type Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { DB } from '../db/schema.js';

/**
 * Sandbox and production are different deployments (issue #11 item 1). A database remembers which one it was
 * created for, so the two never share data: a production database cannot be opened as a sandbox (which would
 * let PLAIN, test credentials and demo data into it), nor a sandbox's test data promoted to production.
 */
export class DeploymentError extends Error {
  override name = 'DeploymentError';
}

const KEY = 'deployment';

/** Records the deployment on first use and refuses a database made for the other kind. */
export async function checkDeploymentMarker(db: Kysely<DB>, deployment: Config['deployment']): Promise<void> {
  await db
    .insertInto('setting')
    .values({ key: KEY, value: deployment })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const recorded = await deploymentOf(db);
  if (recorded !== deployment) {
    throw new DeploymentError(
      `this database belongs to a ${recorded} deployment and cannot be opened as a ${deployment} one ` +
        `(MDL_DEPLOYMENT=${deployment}); sandbox and production data never mix. Use the database made for ${deployment}.`,
    );
  }
}

export async function deploymentOf(db: Kysely<DB>): Promise<Config['deployment'] | undefined> {
  const row = await db.selectFrom('setting').select('value').where('key', '=', KEY).executeTakeFirst();
  return row?.value === 'production' || row?.value === 'sandbox' ? row.value : undefined;
}

/** Test credentials exist only in a sandbox: the one check every way of making a credential goes through. */
export async function assertCredentialEnvAllowed(db: Kysely<DB>, env: 'test' | 'prod'): Promise<void> {
  if (env === 'test' && (await deploymentOf(db)) === 'production') {
    throw new DeploymentError('正式环境（生产部署）不能创建测试凭证：测试凭证只存在于测试环境（sandbox）');
  }
}

/**
 * Start-up of a production deployment refuses a database that holds active test credentials (made before this
 * rule, or written by hand), naming them so the operator can disable them (`mdl apps disable APP_ID`).
 */
export async function refuseTestCredentials(db: Kysely<DB>, deployment: Config['deployment']): Promise<void> {
  if (deployment !== 'production') return;
  const rows = await db
    .selectFrom('app_credential')
    .select(['app_id', 'label', 'org_id'])
    .where('env', '=', 'test')
    .where('status', '=', 'active')
    .orderBy('app_id')
    .execute();
  if (rows.length === 0) return;
  const names = rows.map((r) => `${r.app_id}${r.org_id ? ` (${r.org_id})` : r.label ? ` (${r.label})` : ''}`).join(', ');
  throw new DeploymentError(
    `refusing to start a production deployment: the database holds ${rows.length} active test credential(s): ${names}. ` +
      `Test credentials accept PLAIN requests and belong to a sandbox; disable each with \`mdl apps disable APP_ID\`.`,
  );
}

/** Demo data (fixed, published credentials and made-up patients) belongs to a sandbox. */
export function assertSandbox(config: Pick<Config, 'deployment'>, what: string): void {
  if (config.deployment !== 'sandbox') {
    throw new DeploymentError(`${what} belongs to a sandbox; this is a production deployment (MDL_DEPLOYMENT=production)`);
  }
}

/** Health check: does the database answer a trivial query now? */
export async function databaseAnswers(db: Kysely<DB>): Promise<boolean> {
  try {
    await sql`SELECT 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
