import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../db/schema.js';

/**
 * Walks a table in primary-key order, a batch per transaction, with the cursor of the walk (`key_task`)
 * committed in the same transaction as the batch's writes. A crash loses only the batch in flight, a run
 * that starts again continues after the last committed batch, and no row is rewritten twice (which matters
 * when the rewrite is not idempotent, as re-sealing under a new key is not for a value already re-sealed).
 */
export interface WalkStep {
  /** key_task.step */
  name: string;
  table: keyof DB & string;
  /** Primary-key column; `numeric` for BIGSERIAL ids, else compared as text. */
  key: string;
  numeric: boolean;
  /** Rewrites one batch of rows (read with `SELECT *`) inside the batch's transaction. */
  apply(trx: Transaction<DB>, rows: Record<string, unknown>[]): Promise<void>;
}

export interface WalkProgress {
  task: string;
  step: string;
  rowsDone: number;
  done: boolean;
}

export async function walkStep(
  db: Kysely<DB>,
  task: string,
  step: WalkStep,
  opts: {
    batchSize?: number | undefined;
    onProgress?: (p: WalkProgress) => void;
    /** Called before each batch; throwing stops the walk (a lost lease). */
    beforeBatch?: () => Promise<void>;
    /** Checked before each batch: true stops the walk where it is, as a crash would (tests). */
    shouldStop?: () => boolean;
  } = {},
): Promise<WalkProgress> {
  const batchSize = opts.batchSize ?? 500;
  await db
    .insertInto('key_task')
    .values({ task, step: step.name })
    .onConflict((oc) => oc.columns(['task', 'step']).doNothing())
    .execute();
  for (;;) {
    await opts.beforeBatch?.();
    if (opts.shouldStop?.()) {
      const row = await db
        .selectFrom('key_task')
        .selectAll()
        .where('task', '=', task)
        .where('step', '=', step.name)
        .executeTakeFirstOrThrow();
      return { task, step: step.name, rowsDone: Number(row.rows_done), done: row.done };
    }
    const progress = await db.transaction().execute(async (trx) => {
      const state = await trx
        .selectFrom('key_task')
        .selectAll()
        .where('task', '=', task)
        .where('step', '=', step.name)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (state.done) return { task, step: step.name, rowsDone: Number(state.rows_done), done: true };
      const after = step.numeric
        ? sql`${sql.ref(step.key)} > ${state.cursor_key === '' ? '0' : state.cursor_key}::bigint`
        : sql`${sql.ref(step.key)} > ${state.cursor_key}`;
      const rows = (
        await sql<
          Record<string, unknown>
        >`SELECT * FROM ${sql.table(step.table)} WHERE ${after} ORDER BY ${sql.ref(step.key)} LIMIT ${batchSize} FOR UPDATE`.execute(trx)
      ).rows;
      if (rows.length > 0) await step.apply(trx, rows);
      const done = rows.length < batchSize;
      const rowsDone = Number(state.rows_done) + rows.length;
      await trx
        .updateTable('key_task')
        .set({
          cursor_key: rows.length > 0 ? String(rows[rows.length - 1]![step.key]) : state.cursor_key,
          rows_done: rowsDone,
          done,
          updated_at: new Date(),
        })
        .where('task', '=', task)
        .where('step', '=', step.name)
        .execute();
      return { task, step: step.name, rowsDone, done };
    });
    opts.onProgress?.(progress);
    if (progress.done) return progress;
  }
}
