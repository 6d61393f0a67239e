import type { Kysely } from 'kysely';
import type { DB, Person } from '../../db/schema.js';
import type { Platform } from '../../platform.js';
import { HealthCodes } from './codes.js';
import { cardRegistry, type CardRegistry } from './registry.js';
import type { SessionDeps } from './sessions.js';

/** What the e-health-card interfaces and pages share, built once per platform from its settings. */
export interface EhcServices {
  registry: CardRegistry;
  codes: HealthCodes;
  sessions: SessionDeps;
}

const built = new WeakMap<Platform, EhcServices>();

export function ehcServices(platform: Platform): EhcServices {
  let s = built.get(platform);
  if (!s) {
    const c = platform.config;
    s = {
      registry: cardRegistry(platform.db, platform.vault, c.ehcRegistry),
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
