import type { Kysely } from 'kysely';
import type { Config } from '../../config.js';
import type { DB, Person } from '../../db/schema.js';
import type { Vault } from '../../vault.js';
import { HealthCodes } from './codes.js';
import { BuiltinRegistry } from './registry.js';
import type { SessionDeps } from './sessions.js';
import { UpstreamRegistry, type CityCardSystem } from './upstream.js';

/** What the e-health-card interfaces and pages share, built once by createPlatform from its settings. */
export interface EhcServices {
  /** Narrowed by `kind`: only the upstream registry answers ORG_EHC_004 through the city's system. */
  registry: BuiltinRegistry | UpstreamRegistry;
  codes: HealthCodes;
  sessions: SessionDeps;
}

/**
 * The registry the settings name (docs/ehc-flows.md, "对接地市电子健康卡系统"). `upstream` needs the city's
 * system; without one it refuses to start rather than fall back to issuing cards itself.
 */
export function buildEhcServices(deps: {
  db: Kysely<DB>;
  vault: Vault;
  config: Pick<Config, 'ehcRegistry' | 'ehcEnv' | 'ehcCodeTtlSeconds'> & SessionDeps['config'];
  city: CityCardSystem | undefined;
}): EhcServices {
  const { db, vault, config, city } = deps;
  let registry: EhcServices['registry'];
  if (config.ehcRegistry === 'builtin') registry = new BuiltinRegistry(db, vault);
  else if (city) registry = new UpstreamRegistry(db, vault, city);
  else throw new Error('MDL_EHC_REGISTRY=upstream but no city card system is configured (MDL_EHC_UPSTREAM_URL)');
  return {
    registry,
    codes: new HealthCodes(vault, config.ehcEnv, config.ehcCodeTtlSeconds),
    sessions: { db, vault, config },
  };
}

export async function personById(db: Kysely<DB>, id: number): Promise<Person | undefined> {
  return db.selectFrom('person').selectAll().where('id', '=', id).executeTakeFirst();
}
