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

export function prepared(name: string): RawBuilder<unknown> {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad prepared statement name ${name}`);
  return sql.raw(`/*prepared:${name}*/`);
}

type Query = (...args: unknown[]) => unknown;

/** Makes every client of the pool honour the mark (installed once per new connection). */
export function usePreparedStatements(pool: pg.Pool): void {
  pool.on('connect', (client) => {
    const plain = client.query.bind(client) as Query;
    (client as unknown as { query: Query }).query = (text: unknown, values?: unknown, cb?: unknown) => {
      const m = typeof text === 'string' ? MARK.exec(text) : null;
      if (!m) return cb === undefined ? plain(text, values) : plain(text, values, cb);
      return plain({ name: m[1], text, values });
    };
  });
}
