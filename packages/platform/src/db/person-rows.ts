import { sql, type Kysely } from 'kysely';
import { prepared } from './prepared.js';
import type { DB, Person } from './schema.js';

/** What the 强校验 of a reported person reads of their card's holder on the master index. */
export type CardHolder = Pick<Person, 'id' | 'id_no_bidx' | 'name_bidx' | 'ehealth_card_id'>;

/**
 * The holders of a report batch's cards, in one prepared statement however many cards the batch names (it runs for
 * every batch; an `IN` list would be a new text, parsed and planned, for each number of cards). The columns are
 * named, not `*`: a prepared statement's result must not change shape when a migration adds a column.
 */
export async function findCardHolders(db: Kysely<DB>, cardIds: string[]): Promise<CardHolder[]> {
  const r = await sql<CardHolder>`${prepared('mdl_card_holders')}SELECT id, id_no_bidx, name_bidx, ehealth_card_id
    FROM person WHERE ehealth_card_id = ANY(${cardIds}::text[])`.execute(db);
  return r.rows;
}
