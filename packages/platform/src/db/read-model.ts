import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.js';
import { prepared } from './prepared.js';

/**
 * SQL of the ORG_MDL_002 read model (`arrears_subject`, migration 011). The domain decides when a subject
 * changes (domain/subjects.ts); this module knows how a row is derived from the ledger.
 */

/** One unpaid item as the read model keeps it: [orgId, itemName, amountFen, actualTimeMs]. */
export type SubjectItem = [string, string, number, number];

export interface SubjectRow {
  subject_bidx: string;
  ehealth_card_id: string | null;
  name_bidx: string | null;
  unpaid_count: number;
  unpaid_total_fen: number;
  items: string;
}

/**
 * Makes the transactions that change the same subjects queue up, so that none writes a total that misses another's
 * items: an advisory lock per subject key (and schema), held to the end of the transaction and taken in the order
 * of the lock ids, so that two transactions changing several subjects cannot deadlock (two keys that share an id
 * only queue up). It writes nothing: the row lock it replaces (an upsert of each row) wrote a new version of every
 * subject's row, its items included, and that version's WAL, for every batch, before the derivation wrote the row
 * again (bench/analysis.md, 2026-12-08).
 */
async function lockSubjects(db: Kysely<DB>, keys: string[]): Promise<void> {
  await sql`${prepared('mdl_subject_lock')}SELECT pg_advisory_xact_lock(hashtext(current_schema()), h)
    FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest(${keys}::text[]) AS k ORDER BY 1) AS ids`.execute(db);
}

/** The derivation of a subject's row from the ledger and the master index; `keys` null means all. */
function derive(keys: string[] | null) {
  const which = keys
    ? sql`SELECT unnest(${keys}::text[]) AS key`
    : sql`SELECT id_no_bidx AS key FROM person UNION SELECT subject_bidx FROM arrears_item`;
  const itemFilter = keys ? sql`subject_bidx = ANY(${keys}::text[]) AND` : sql``;
  // Run for every batch (of keys), the statement is prepared: its text is fixed, only the keys vary.
  return sql`${keys ? prepared('mdl_subject_derive') : sql``}INSERT INTO arrears_subject AS s
      (subject_bidx, person_id, ehealth_card_id, name_bidx, unpaid_count, unpaid_total_fen, oldest_unpaid_at, items, updated_at)
    SELECT k.key, p.id, p.ehealth_card_id, p.name_bidx, coalesce(a.n, 0), coalesce(a.total, 0), a.oldest, coalesce(a.items, '[]'), now()
    FROM (${which}) k
    LEFT JOIN person p ON p.id_no_bidx = k.key
    LEFT JOIN (
      SELECT subject_bidx, count(*)::int AS n, sum(amount_fen)::bigint AS total, min(actual_time) AS oldest,
        json_agg(json_build_array(org_id, item_name, amount_fen, floor(extract(epoch FROM actual_time) * 1000)::bigint)
          ORDER BY actual_time, id)::text AS items
      FROM arrears_item WHERE ${itemFilter} state = '0' GROUP BY subject_bidx
    ) a ON a.subject_bidx = k.key
    ON CONFLICT (subject_bidx) DO UPDATE SET
      person_id = excluded.person_id, ehealth_card_id = excluded.ehealth_card_id, name_bidx = excluded.name_bidx,
      unpaid_count = excluded.unpaid_count, unpaid_total_fen = excluded.unpaid_total_fen,
      oldest_unpaid_at = excluded.oldest_unpaid_at, items = excluded.items, updated_at = excluded.updated_at`;
}

/** Re-derives the rows of `keys` (distinct) from the ledger; call inside the writing transaction. */
export async function rederiveSubjects(db: Kysely<DB>, keys: string[]): Promise<void> {
  if (keys.length === 0) return;
  const sorted = [...new Set(keys)].sort();
  await lockSubjects(db, sorted);
  await derive(sorted).execute(db);
}

/** Re-derives every row (after a bulk load, or to repair); the ledger is the truth. */
export async function rederiveAllSubjects(db: Kysely<DB>): Promise<void> {
  await derive(null).execute(db);
}

/** The hot read of ORG_MDL_002: the rows of one to a few subject keys, by primary key, prepared. */
export async function readSubjects(db: Kysely<DB>, keys: string[]): Promise<SubjectRow[]> {
  const r = await sql<SubjectRow>`${prepared('mdl_read_subjects')}SELECT subject_bidx, ehealth_card_id, name_bidx, unpaid_count,
    unpaid_total_fen, items FROM arrears_subject WHERE subject_bidx = ANY(${keys}::text[])`.execute(db);
  return r.rows;
}
