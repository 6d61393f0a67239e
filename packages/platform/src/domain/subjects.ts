import type { Kysely } from 'kysely';
import { readSubjects, rederiveAllSubjects, rederiveSubjects, type SubjectRow } from '../db/read-model.js';
import type { DB } from '../db/schema.js';
import { Grouped } from './grouped.js';

/**
 * The ORG_MDL_002 read model (`arrears_subject`): one row per subject with the unpaid items' display
 * fields, count, total, oldest date and the card and name index for the 强校验.
 *
 * The rule every write path follows: whoever changes an `arrears_item` row (its state, amount, time, name,
 * institution or subject) or a person's card or name calls `refreshSubjects` in the same transaction with
 * every subject key the change touched — the old key and the new one when an item changes subject. The
 * rows are re-derived from the ledger under a row lock, so the call is idempotent and order does not
 * matter; one call at the end of a transaction with all keys costs two statements however many items.
 */
export async function refreshSubjects(trx: Kysely<DB>, keys: Iterable<string | null | undefined>): Promise<void> {
  await rederiveSubjects(
    trx,
    [...keys].filter((k): k is string => Boolean(k)),
  );
}

/** Rebuilds every row from the ledger: after a bulk load that bypassed the domain, or as a repair. */
export async function rebuildSubjects(db: Kysely<DB>): Promise<void> {
  await rederiveAllSubjects(db);
}

/**
 * Institution names for ORG_MDL_002 answers, held in the process: a query must not join `institution`.
 * Names change rarely (console); a name is at most `ttlMs` stale, an unknown orgId reloads at once.
 */
export class InstitutionNames {
  #names = new Map<string, string>();
  #until = 0;
  #loadedAt = 0;
  #loading: Promise<void> | undefined;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly ttlMs = 60_000,
  ) {}

  /** The names of `orgIds`; reads the table only when the cache is old or misses one of them. */
  async names(orgIds: Iterable<string>): Promise<Map<string, string>> {
    const now = Date.now();
    let fresh = now < this.#until;
    // A miss reloads, but at most once a second: an orgId that is not there at all must not storm the table.
    if (fresh && now - this.#loadedAt > 1000) for (const id of orgIds) if (!this.#names.has(id)) fresh = false;
    if (!fresh) await this.#reload();
    return this.#names;
  }

  #reload(): Promise<void> {
    this.#loading ??= (async () => {
      try {
        const rows = await this.db.selectFrom('institution').select(['org_id', 'org_name']).execute();
        this.#names = new Map(rows.map((r) => [r.org_id, r.org_name]));
        this.#loadedAt = Date.now();
        this.#until = this.#loadedAt + this.ttlMs;
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }
}

/**
 * Group reads of the read model: the look-ups of the queries that arrive while reads are in flight go out
 * together as one statement (`subject_bidx = ANY(all their keys)`), and each query gets its own rows. At load
 * this turns N statements (N round trips, N executor starts in PostgreSQL, N socket writes here) into one per
 * group; a lone query waits for nothing but the current tick.
 */
export class SubjectReader {
  readonly #groups: Grouped<string[], SubjectRow[]>;

  constructor(db: Kysely<DB>, maxInFlight = 2, maxKeys = 512) {
    this.#groups = new Grouped(
      async (queries) => {
        const rows = await readSubjects(db, [...new Set(queries.flat())]);
        const byKey = new Map(rows.map((r) => [r.subject_bidx, r]));
        return queries.map((keys) => keys.map((k) => byKey.get(k)).filter((r): r is SubjectRow => r !== undefined));
      },
      { maxInFlight, maxSize: maxKeys, sizeOf: (keys) => keys.length },
    );
  }

  read(keys: string[]): Promise<SubjectRow[]> {
    return this.#groups.submit(keys);
  }
}
