import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/database.js';
import type { DB } from '../../db/schema.js';
import type { Vault } from '../../vault.js';
import { walkStep, type WalkStep } from './walk.js';

/**
 * Data upgrades that need the vault, run at start-up after the migrations (migration 013 queues them in
 * `key_task`). Today: the name index, which was HMAC(name) and is now keyed per person
 * (`Vault.nameKey`); the read model's copy of it follows in the same transaction.
 */
const TASK = 'upgrade-013';

export function personNameIndexStep(vault: Vault): WalkStep {
  return {
    name: 'person-name-index',
    table: 'person',
    key: 'id',
    numeric: true,
    async apply(trx, rows) {
      // Two statements per batch rather than two per person: this runs at start-up, under the set-up lock.
      const values = sql.join(
        rows.map((r) => sql`(${String(r.id)}::bigint, ${vault.nameKey(String(r.id_no_bidx), vault.decrypt(String(r.name_enc)))})`),
      );
      await sql`UPDATE person p SET name_bidx = v.nb FROM (VALUES ${values}) AS v(id, nb) WHERE p.id = v.id`.execute(trx);
      await sql`UPDATE arrears_subject s SET name_bidx = v.nb FROM (VALUES ${values}) AS v(id, nb) WHERE s.person_id = v.id`.execute(trx);
    },
  };
}

async function pending(db: Kysely<DB>): Promise<boolean> {
  const rows = await db.selectFrom('key_task').select('step').where('task', '=', TASK).where('done', '=', false).execute();
  return rows.length > 0;
}

/** Nothing to do is one query (every start); work is done under the set-up lock, so processes starting together take turns. */
export async function runDataUpgrades(database: Database, vault: Vault): Promise<void> {
  if (!(await pending(database.db))) return;
  await database.exclusive(async () => {
    if (await pending(database.db)) await walkStep(database.db, TASK, personNameIndexStep(vault));
  });
}
