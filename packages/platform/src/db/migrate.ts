import { sql } from 'kysely';
import type { Database } from './database.js';
import * as m001 from './migrations/001_init.js';
import * as m002 from './migrations/002_appeals.js';
import * as m003 from './migrations/003_ehc.js';
import * as m004 from './migrations/004_citizen.js';
import * as m005 from './migrations/005_console.js';
import * as m007 from './migrations/007_outbound_ports.js';
import * as m008 from './migrations/008_people_data.js';
import * as m011 from './migrations/011_subject_read_model.js';
import * as m012 from './migrations/012_citizen_sign_in.js';
import * as m013 from './migrations/013_keys_and_factors.js';
import * as m015 from './migrations/015_appeal_receipt.js';
import * as m016 from './migrations/016_drop_item_person_index.js';
import * as m017 from './migrations/017_item_person_check.js';

/** One ordered migration set for PGlite and PostgreSQL. Append only; never edit an applied one. */
const MIGRATIONS: { id: string; up: string }[] = [
  { id: '001_init', up: m001.up },
  { id: '002_appeals', up: m002.up },
  { id: '003_ehc', up: m003.up },
  { id: '004_citizen', up: m004.up },
  { id: '005_console', up: m005.up },
  { id: '007_outbound_ports', up: m007.up },
  { id: '008_people_data', up: m008.up },
  { id: '011_subject_read_model', up: m011.up },
  { id: '012_citizen_sign_in', up: m012.up },
  { id: '013_keys_and_factors', up: m013.up },
  { id: '015_appeal_receipt', up: m015.up },
  { id: '016_drop_item_person_index', up: m016.up },
  { id: '017_item_person_check', up: m017.up },
];

export interface MigrateResult {
  applied: string[];
}

/**
 * Applies what is missing inside one transaction, under the schema's set-up lock, so that several
 * processes starting at once apply each migration exactly once.
 */
export async function migrate(database: Database): Promise<MigrateResult> {
  const applied: string[] = [];
  await database.exclusive(() =>
    database.ownerDb.transaction().execute(async (trx) => {
      await sql`CREATE TABLE IF NOT EXISTS mdl_migration (id VARCHAR(64) PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`.execute(
        trx,
      );
      const done = new Set((await trx.selectFrom('mdl_migration').select('id').execute()).map((r) => r.id));
      for (const m of MIGRATIONS) {
        if (done.has(m.id)) continue;
        await sql.raw(m.up).execute(trx);
        await trx.insertInto('mdl_migration').values({ id: m.id }).execute();
        applied.push(m.id);
      }
    }),
  );
  return { applied };
}
