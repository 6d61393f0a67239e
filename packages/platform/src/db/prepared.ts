import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import type pg from 'pg';

/**
 * Named (server-side prepared) statements for the hot paths on PostgreSQL. A statement opts in by starting
 * with the comment `prepared(name)` makes; each pooled connection then parses and plans it once and only
 * binds and executes it afterwards. The text of a named statement must never vary (node-postgres keys the
 * prepared statement by name), so only statements whose text is fixed may carry one. PGlite ignores the
 * comment.
 */
const MARK = /^\/\*prepared:([a-z0-9_]+)\*\//;
const mark = (name: string) => `/*prepared:${name}*/`;

export function prepared(name: string): RawBuilder<unknown> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad prepared statement name ${name}`);
  return sql.raw(mark(name));
}

/** How many distinct texts `nameOfText` names; past that, a new text runs unnamed (one-off statements). */
const MAX_NAMED_TEXTS = 200;
const namesByText = new Map<string, string>();

/**
 * A name for a parameterised statement from a small fixed set that other code writes (pg-boss's fetch, complete
 * and insert run for every job): the same text gets the same name, so a connection parses it once, and plans it
 * once where PostgreSQL keeps a generic plan. Undefined past the first MAX_NAMED_TEXTS texts, so that texts that
 * vary cannot fill each connection with prepared statements.
 */
function nameOfText(text: string): string | undefined {
  let name = namesByText.get(text);
  if (name === undefined && namesByText.size < MAX_NAMED_TEXTS) {
    name = `t_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    namesByText.set(text, name);
  }
  return name;
}

/**
 * The text of a statement with parameters, with the mark of `nameOfText` (when it has a name): a pool that honours
 * marks runs it named. A text without parameters is left as it is: it may hold several statements (a script), which
 * a named statement cannot.
 */
export function markedByText(text: string, values: readonly unknown[] | undefined): string {
  const name = values?.length ? nameOfText(text) : undefined;
  return name === undefined ? text : mark(name) + text;
}

type Query = (...args: unknown[]) => unknown;

/** Makes every client of the pool honour the mark (installed once per new connection). */
export function usePreparedStatements(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    const plain = client.query.bind(client) as Query;
    (client as unknown as { query: Query }).query = (text: unknown, values?: unknown, cb?: unknown) => {
      const m = typeof text === 'string' ? MARK.exec(text) : null;
      // Kysely passes no callback; pg.Pool's own query() does.
      if (!m) return cb === undefined ? plain(text, values) : plain(text, values, cb);
      return cb === undefined ? plain({ name: m[1], text, values }) : plain({ name: m[1], text, values }, cb);
    };
  });
}
