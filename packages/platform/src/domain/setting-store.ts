import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';

/**
 * A policy kept as JSON in the `setting` table (eligibility, coverage), read on every interface call and so
 * cached for a few seconds in each process. Stored fields are laid over the defaults, so a field added later
 * has its default until someone saves the policy. One implementation for every such policy.
 */
export class SettingStore<T extends object> {
  #cached: { value: T; until: number } | undefined;
  constructor(
    private readonly db: Kysely<DB>,
    private readonly key: string,
    private readonly defaults: T,
    /** The reason a value may not be saved, or undefined. */
    private readonly problem: (value: T) => string | undefined,
    private readonly ttlMs = 10_000,
  ) {}

  async get(): Promise<T> {
    if (this.#cached && this.#cached.until > Date.now()) return this.#cached.value;
    const row = await this.db.selectFrom('setting').select('value').where('key', '=', this.key).executeTakeFirst();
    const value = row ? { ...this.defaults, ...(JSON.parse(row.value) as Partial<T>) } : this.defaults;
    this.#cached = { value, until: Date.now() + this.ttlMs };
    return value;
  }

  /** Saves through `db`, which may be the caller's transaction (the policy's history and audit go in it too). */
  async save(db: Kysely<DB>, value: T): Promise<void> {
    const problem = this.problem(value);
    if (problem) throw new Error(problem);
    const text = JSON.stringify(value);
    await db
      .insertInto('setting')
      .values({ key: this.key, value: text })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: text, updated_at: new Date() }))
      .execute();
    this.#cached = undefined;
  }

  /** Drop the cached value: after a transaction that saved it commits, no reader keeps the old one for its TTL. */
  forget(): void {
    this.#cached = undefined;
  }
}
