import type { Kysely } from 'kysely';
import type { DB, Person } from '../../db/schema.js';
import type { Platform } from '../../platform.js';
import { HealthCodes } from './codes.js';
import { cardRegistry, type CardRegistry } from './registry.js';
import type { CityCardSystem } from './upstream.js';
import type { SessionDeps } from './sessions.js';

/** What the e-health-card interfaces and pages share, built once per platform from its settings. */
export interface EhcServices {
  registry: CardRegistry;
  codes: HealthCodes;
  sessions: SessionDeps;
}

const built = new WeakMap<Platform, EhcServices>();
const cities = new WeakMap<Platform, CityCardSystem>();

/**
 * Plugs a city's e-health-card system in (MDL_EHC_REGISTRY=upstream). Call it before buildApp(): the
 * pages build their services at registration.
 */
export function installCityCardSystem(platform: Platform, city: CityCardSystem): void {
  if (built.has(platform)) throw new Error('installCityCardSystem must be called before the app is built');
  cities.set(platform, city);
}

export function ehcServices(platform: Platform): EhcServices {
  let s = built.get(platform);
  if (!s) {
    const c = platform.config;
    s = {
      registry: cardRegistry(platform.db, platform.vault, c.ehcRegistry, cities.get(platform)),
      codes: new HealthCodes(platform.vault, c.ehcEnv, c.ehcCodeTtlSeconds),
      sessions: { db: platform.db, vault: platform.vault, config: c },
    };
    built.set(platform, s);
  }
  return s;
}

export async function personById(db: Kysely<DB>, id: number): Promise<Person | undefined> {
  return db.selectFrom('person').selectAll().where('id', '=', id).executeTakeFirst();
}
