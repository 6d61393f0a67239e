import { hostname } from 'node:os';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../db/schema.js';
import { Vault } from '../../vault.js';
import { rebuildSubjects } from '../subjects.js';
import { walkStep, type WalkStep } from './walk.js';

/**
 * Master-key rotation (`mdl keys rotate`, issue #12 item 4): every sealed value is re-sealed and every blind
 * index re-keyed under the new key, table by table, a batch per transaction with its cursor (walk.ts), so
 * that a crash or a kill loses at most one batch and running the command again continues where it stopped.
 * Until the last step commits, the database's key (its recorded fingerprint) is the old one; the rotating
 * vault opens values under either key (the v2 tag tells which). The last step records the new fingerprint,
 * keeps the old key sealed under the new one (for the audit trail, which is never rewritten: see
 * Vault.ring) and closes the rotation, in one transaction.
 *
 * The platform is stopped meanwhile (a started platform refuses while a rotation is unfinished): an index
 * looked up under one key while half the rows are under the other would miss people.
 */
export class RotationError extends Error {
  override name = 'RotationError';
}

export interface RotationProgress {
  step: string;
  rowsDone: number;
  rowsTotal: number;
  done: boolean;
}

const LEASE_MS = 60_000;
const RETIRED_SETTING = 'retired_master_keys';

/** Re-seals the named columns of a row; null stays null. */
function reseal(vault: Vault, row: Record<string, unknown>, cols: string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const c of cols) out[c] = row[c] == null ? null : vault.encrypt(vault.decrypt(String(row[c])));
  return out;
}

function resealStep(vault: Vault, table: keyof DB & string, key: string, numeric: boolean, cols: string[]): WalkStep {
  return {
    name: table,
    table,
    key,
    numeric,
    async apply(trx, rows) {
      for (const r of rows) {
        await sql`UPDATE ${sql.table(table)} SET ${sql.join(
          Object.entries(reseal(vault, r, cols)).map(([c, v]) => sql`${sql.ref(c)} = ${v}`),
        )} WHERE ${sql.ref(key)} = ${r[key]}`.execute(trx);
      }
    },
  };
}

async function mapKey(trx: Transaction<DB>, rotationId: number, oldBidx: string, newBidx: string): Promise<void> {
  await trx
    .insertInto('key_map')
    .values({ rotation_id: rotationId, old_bidx: oldBidx, new_bidx: newBidx })
    .onConflict((oc) => oc.columns(['rotation_id', 'old_bidx']).doNothing())
    .execute();
}

function personStep(newV: Vault, rotationId: number): WalkStep {
  return {
    name: 'person',
    table: 'person',
    key: 'id',
    numeric: true,
    async apply(trx, rows) {
      for (const r of rows) {
        const idNo = newV.decrypt(String(r.id_no_enc));
        const name = newV.decrypt(String(r.name_enc));
        const idNoBidx = newV.personKey(String(r.id_type), idNo);
        await trx
          .updateTable('person')
          .set({
            ...(reseal(newV, r, ['id_no_enc', 'name_enc', 'phone_enc']) as {
              id_no_enc: string;
              name_enc: string;
              phone_enc: string | null;
            }),
            id_no_bidx: idNoBidx,
            name_bidx: newV.nameKey(idNoBidx, name),
            // Deprecated (db/schema.ts): an index of the 医保 number nothing reads; not in clear, so it cannot be re-keyed.
            psn_no_bidx: null,
          })
          .where('id', '=', Number(r.id))
          .execute();
        await mapKey(trx, rotationId, String(r.id_no_bidx), idNoBidx);
      }
    },
  };
}

/** An item's subject is one of three kinds of key; which one is told by recomputing each under the old key. */
function itemStep(oldV: Vault, newV: Vault, rotationId: number, onKept: (itemId: number) => void): WalkStep {
  return {
    name: 'arrears_item',
    table: 'arrears_item',
    key: 'id',
    numeric: true,
    async apply(trx, rows) {
      for (const r of rows) {
        const old = String(r.subject_bidx);
        const orgId = String(r.org_id);
        const idNo = r.id_no_enc == null ? null : newV.decrypt(String(r.id_no_enc));
        const name = r.name_enc == null ? '' : newV.decrypt(String(r.name_enc));
        const idType = r.id_type == null ? '' : String(r.id_type);
        let next: string;
        if (idNo !== null && old === oldV.personKey(idType, idNo)) next = newV.personKey(idType, idNo);
        else if (idNo !== null && old === oldV.localKey(orgId, idType, idNo, name)) next = newV.localKey(orgId, idType, idNo, name);
        else if (old === oldV.recordKey(orgId, String(r.org_trace_id))) next = newV.recordKey(orgId, String(r.org_trace_id));
        else if (old === newV.personKey(idType, idNo ?? '') || old === newV.recordKey(orgId, String(r.org_trace_id))) next = old;
        else {
          // Not a key the platform makes (a bulk load or a hand repair): no look-up can reach it under either
          // key, so it is kept and reported rather than stopping the rotation half-way with the platform down.
          next = old;
          onKept(Number(r.id));
        }
        await trx
          .updateTable('arrears_item')
          .set({
            ...(reseal(newV, r, ['id_no_enc', 'name_enc', 'phone_enc']) as {
              id_no_enc: string | null;
              name_enc: string | null;
              phone_enc: string | null;
            }),
            subject_bidx: next,
          })
          .where('id', '=', Number(r.id))
          .execute();
        if (next !== old) await mapKey(trx, rotationId, old, next);
      }
    },
  };
}

/** Tables that only refer to a subject follow the map; the read model is re-derived from the re-keyed ledger. */
async function followMap(trx: Transaction<DB>, rotationId: number): Promise<void> {
  for (const [table, col] of [
    ['appeal', 'subject_bidx'],
    ['reminder', 'subject_bidx'],
    ['reminder_claim', 'subject_bidx'],
    ['citizen_token', 'subject_bidx'],
    ['citizen_token', 'local_bidx'],
    ['citizen_session', 'subject_bidx'],
    ['citizen_session', 'local_bidx'],
  ] as const) {
    await sql`UPDATE ${sql.table(table)} t SET ${sql.ref(col)} = m.new_bidx FROM key_map m
      WHERE m.rotation_id = ${rotationId} AND t.${sql.ref(col)} = m.old_bidx`.execute(trx);
  }
  await trx.deleteFrom('arrears_subject').execute();
  await rebuildSubjects(trx);
}

function steps(oldV: Vault, newV: Vault, rotationId: number, onKept: (itemId: number) => void): WalkStep[] {
  return [
    resealStep(newV, 'app_credential', 'app_id', false, ['secret_enc']),
    resealStep(newV, 'console_user', 'id', true, ['totp_secret_enc']),
    resealStep(newV, 'batch', 'id', true, ['payload_enc', 'result_enc']),
    resealStep(newV, 'ehc_auth_session', 'id', true, ['auth_url_enc']),
    resealStep(newV, 'citizen_session', 'sid_hash', false, ['name_enc']),
    resealStep(newV, 'card_otp', 'id', true, ['phone_enc']),
    resealStep(newV, 'sms_outbox', 'id', true, ['phone_enc', 'text_enc']),
    resealStep(newV, 'card_review', 'id', true, ['self_name_enc', 'self_phone_enc']),
    resealStep(newV, 'appeal_receipt', 'appeal_id', true, ['data_enc']),
    personStep(newV, rotationId),
    itemStep(oldV, newV, rotationId, onKept),
  ];
}

/** The retired keys recorded by earlier rotations, opened with the current vault. */
export async function retiredKeys(db: Kysely<DB>, vault: Vault): Promise<string[]> {
  const row = await db.selectFrom('setting').select('value').where('key', '=', RETIRED_SETTING).executeTakeFirst();
  return row ? (JSON.parse(vault.decrypt(row.value)) as string[]) : [];
}

export async function openRotation(db: Kysely<DB>): Promise<{ id: number; new_fingerprint: string } | undefined> {
  const r = await db.selectFrom('key_rotation').select(['id', 'new_fingerprint']).where('finished_at', 'is', null).executeTakeFirst();
  return r ? { id: Number(r.id), new_fingerprint: r.new_fingerprint } : undefined;
}

export interface RotateOptions {
  batchSize?: number;
  /** An arrears item whose subject key is none the platform makes (told, and left as it is). */
  onKept?: (itemId: number) => void;
  onProgress?: (p: RotationProgress) => void;
  /** Tests: stop (as a crash would) after this many batches of this run. */
  stopAfterBatches?: number;
  holder?: string;
}

/**
 * Runs (or resumes) the rotation from `oldKeyHex` (the database's key) to `newKeyHex`. Returns true when it
 * finished, false when it stopped early (`stopAfterBatches`). Refuses while another process holds the
 * rotation, and refuses a new key other than the one an unfinished rotation was started with.
 */
export async function rotateMasterKey(db: Kysely<DB>, oldKeyHex: string, newKeyHex: string, opts: RotateOptions = {}): Promise<boolean> {
  const oldV = new Vault(oldKeyHex);
  const newV = new Vault(newKeyHex);
  if (oldV.fingerprint === newV.fingerprint) throw new RotationError('the new key is the current key');
  const retired = await retiredKeys(db, oldV);
  oldV.retire(retired.map((k) => new Vault(k)));
  newV.retire([oldV, ...oldV.ring.slice(1)]);
  const fp = await db.selectFrom('setting').select('value').where('key', '=', 'master_key_fingerprint').executeTakeFirst();
  if (fp && fp.value !== oldV.fingerprint)
    throw new RotationError('the current key is not the key this database was created with (or last rotated to)');

  let open = await openRotation(db);
  if (open && open.new_fingerprint !== newV.fingerprint) {
    throw new RotationError('an unfinished rotation to another new key exists: run it again with that key');
  }
  if (!open) {
    await db
      .insertInto('key_rotation')
      .values({ old_fingerprint: oldV.fingerprint, new_fingerprint: newV.fingerprint, holder: null, lease_until: null, finished_at: null })
      .onConflict((oc) => oc.doNothing())
      .execute();
    open = await openRotation(db);
    if (!open || open.new_fingerprint !== newV.fingerprint) throw new RotationError('another rotation started at the same moment');
  }
  const rotationId = open.id;
  const holder = opts.holder ?? `${hostname()}:${process.pid}:${Date.now()}`;
  const takeLease = async () => {
    const r = await sql<{
      id: string;
    }>`UPDATE key_rotation SET holder = ${holder}, lease_until = now() + ${`${LEASE_MS} milliseconds`}::interval
      WHERE id = ${rotationId} AND finished_at IS NULL AND (holder IS NULL OR holder = ${holder} OR lease_until < now()) RETURNING id`.execute(
      db,
    );
    if (r.rows.length === 0) throw new RotationError('a key rotation is already running (another `mdl keys rotate` holds it)');
  };
  await takeLease();
  const task = `rotate-${rotationId}`;
  let batches = 0;
  const shouldStop = () => opts.stopAfterBatches !== undefined && batches >= opts.stopAfterBatches;
  try {
    for (const step of steps(oldV, newV, rotationId, opts.onKept ?? (() => {}))) {
      const total = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM ${sql.table(step.table)}`.execute(db)).rows[0]!.n);
      const p = await walkStep(db, task, step, {
        batchSize: opts.batchSize,
        beforeBatch: takeLease,
        shouldStop,
        onProgress: (x) => {
          batches++;
          opts.onProgress?.({ step: step.name, rowsDone: x.rowsDone, rowsTotal: total, done: x.done });
        },
      });
      if (!p.done) return false;
    }
    if (shouldStop()) return false;
    await db.transaction().execute(async (trx) => {
      await followMap(trx, rotationId);
      const keep = JSON.stringify([oldKeyHex, ...retired]);
      await trx
        .insertInto('setting')
        .values({ key: RETIRED_SETTING, value: newV.encrypt(keep) })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: newV.encrypt(keep), updated_at: new Date() }))
        .execute();
      await trx
        .insertInto('setting')
        .values({ key: 'master_key_fingerprint', value: newV.fingerprint })
        .onConflict((oc) => oc.column('key').doUpdateSet({ value: newV.fingerprint, updated_at: new Date() }))
        .execute();
      await trx.deleteFrom('key_map').where('rotation_id', '=', rotationId).execute();
      await trx
        .updateTable('key_rotation')
        .set({ finished_at: new Date(), holder: null, lease_until: null })
        .where('id', '=', rotationId)
        .execute();
    });
    opts.onProgress?.({ step: 'finish', rowsDone: 1, rowsTotal: 1, done: true });
    return true;
  } finally {
    await db
      .updateTable('key_rotation')
      .set({ holder: null, lease_until: null })
      .where('id', '=', rotationId)
      .where('holder', '=', holder)
      .execute();
  }
}
