import { timingSafeEqual } from 'node:crypto';
import { sm3Hex } from '@mdl/protocol';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditEventTable, DB } from '../db/schema.js';
import type { Vault } from '../vault.js';

/**
 * The audit trail's seal: events are not chained one by one as they are written (that would put every
 * writer behind one lock and undo the group commit), but sealed in blocks every few seconds. A seal holds
 * each event's SM3 digest (truncated to 8 bytes) with its id, the previous seal's hash, and an HMAC-SM3
 * over all of it under a key derived from the master key, so that whoever can write the database but
 * does not hold the master key cannot alter, remove or insert an event, or re-seal, without `verify`
 * telling which event.
 */
const PURPOSE = 'audit-chain';
const GENESIS = '0'.repeat(64);
/**
 * Events per seal. A seal holds its events in memory while it hashes them: 5,000 keep a worker that catches up on
 * a backlog (API processes write events, only workers seal) inside its memory budget, where 20,000 at a time lifted
 * the bench's ingest server to 278 MB (225 MB with 5,000; bench/analysis.md).
 */
export const MAX_PER_SEAL = 5_000;

type Event = Selectable<AuditEventTable>;

function eventDigest(e: Event): string {
  const at = e.at instanceof Date ? e.at.toISOString() : String(e.at);
  const canonical = JSON.stringify([
    Number(e.id),
    at,
    e.actor_type,
    e.actor_id,
    e.org_id,
    e.subject_bidx,
    e.action,
    e.target,
    e.outcome,
    e.resp_code,
    e.request_id,
    e.detail,
  ]);
  return sm3Hex(canonical).slice(0, 16);
}

function sealHash(vault: Vault, prev: string, firstId: number, lastId: number, count: number, digests: string): string {
  return vault.mac(PURPOSE, `${prev}|${firstId}|${lastId}|${count}|${digests}`).toString('hex');
}

/**
 * Seals every committed event not yet sealed (up to MAX_PER_SEAL; call again while it returns a full
 * block). Waits at most `lockTimeoutMs` for in-flight inserts, and seals nothing (returns 0) if they do
 * not finish by then: the next round tries again.
 */
export async function sealAudit(db: Kysely<DB>, vault: Vault, lockTimeoutMs = 500): Promise<number> {
  try {
    return await db.transaction().execute(async (trx) => {
      await sql.raw(`SET LOCAL lock_timeout = '${Math.max(1, Math.floor(lockTimeoutMs))}ms'`).execute(trx);
      await sql`SELECT audit_seal_fence()`.execute(trx);
      const last = await trx.selectFrom('audit_seal').select(['last_id', 'hash']).orderBy('id', 'desc').limit(1).executeTakeFirst();
      const after = last ? Number(last.last_id) : 0;
      const events = await trx.selectFrom('audit_event').selectAll().where('id', '>', after).orderBy('id').limit(MAX_PER_SEAL).execute();
      if (events.length === 0) return 0;
      const digests = events.map((e) => `${e.id}:${eventDigest(e)}`).join(',');
      const lastId = Number(events[events.length - 1]!.id);
      const prev = last?.hash ?? GENESIS;
      await trx
        .insertInto('audit_seal')
        .values({
          first_id: after,
          last_id: lastId,
          event_count: events.length,
          digests,
          prev_hash: prev,
          hash: sealHash(vault, prev, after, lastId, events.length, digests),
        })
        .execute();
      return events.length;
    });
  } catch (e) {
    if ((e as { code?: string }).code === '55P03') return 0; // lock_timeout: busy, next round
    throw e;
  }
}

export interface AuditProblem {
  kind: 'altered' | 'removed' | 'inserted' | 'seal' | 'unsealed';
  eventId: number;
  sealId?: number;
  message: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  seals: number;
  sealedEvents: number;
  /** Events written after the last seal (sealed within seconds by a running platform). */
  pendingEvents: number;
  problem?: AuditProblem;
}

/**
 * Walks the seals in order and reports the first event that was altered, removed or inserted, or the first
 * seal that was forged or taken out of the chain. `unsealedGraceMs`: events older than this still outside
 * any seal mean seals were removed from the end.
 */
export async function verifyAudit(db: Kysely<DB>, vault: Vault, now: number, unsealedGraceMs = 10 * 60_000): Promise<AuditVerifyResult> {
  let prev = GENESIS;
  let expectedFirst = 0;
  let seals = 0;
  let sealedEvents = 0;
  let lastSealId = 0;
  const fail = (problem: AuditProblem): AuditVerifyResult => ({ ok: false, seals, sealedEvents, pendingEvents: 0, problem });
  for (;;) {
    const seal = await db.selectFrom('audit_seal').selectAll().where('id', '>', lastSealId).orderBy('id').limit(1).executeTakeFirst();
    if (!seal) break;
    lastSealId = Number(seal.id);
    const firstId = Number(seal.first_id);
    const lastId = Number(seal.last_id);
    const stored = Buffer.from(seal.hash);
    // A seal made before a master-key rotation is checked under the key of its time (Vault.ring).
    const sealedBy = vault.ring.some((v) => {
      const expected = Buffer.from(sealHash(v, prev, firstId, lastId, seal.event_count, seal.digests));
      return stored.length === expected.length && timingSafeEqual(stored, expected);
    });
    if (seal.prev_hash !== prev || firstId !== expectedFirst || !sealedBy) {
      return fail({
        kind: 'seal',
        eventId: firstId + 1,
        sealId: lastSealId,
        message: `seal ${lastSealId} is not the chain's next seal or was altered`,
      });
    }
    const sealed = new Map<number, string>();
    for (const part of seal.digests.split(',')) {
      const [id, digest] = part.split(':');
      sealed.set(Number(id), digest!);
    }
    const events = await db
      .selectFrom('audit_event')
      .selectAll()
      .where('id', '>', firstId)
      .where('id', '<=', lastId)
      .orderBy('id')
      .execute();
    const present = new Map(events.map((e) => [Number(e.id), e]));
    const ids = [...new Set([...sealed.keys(), ...present.keys()])].sort((a, b) => a - b);
    for (const id of ids) {
      const digest = sealed.get(id);
      const event = present.get(id);
      if (!event) return fail({ kind: 'removed', eventId: id, sealId: lastSealId, message: `event ${id} was removed` });
      if (!digest) return fail({ kind: 'inserted', eventId: id, sealId: lastSealId, message: `event ${id} was inserted after sealing` });
      if (eventDigest(event) !== digest)
        return fail({ kind: 'altered', eventId: id, sealId: lastSealId, message: `event ${id} was altered` });
    }
    seals++;
    sealedEvents += seal.event_count;
    prev = seal.hash;
    expectedFirst = lastId;
  }
  const pending = await db
    .selectFrom('audit_event')
    .select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('at').as('oldest'), (eb) => eb.fn.min('id').as('first')])
    .where('id', '>', expectedFirst)
    .executeTakeFirstOrThrow();
  const pendingEvents = Number(pending.n);
  if (pendingEvents > 0 && pending.oldest && now - new Date(pending.oldest).getTime() > unsealedGraceMs) {
    const id = Number(pending.first);
    return {
      ok: false,
      seals,
      sealedEvents,
      pendingEvents,
      problem: {
        kind: 'unsealed',
        eventId: id,
        message: `event ${id} and later are older than the sealing interval but not sealed: seals were removed`,
      },
    };
  }
  return { ok: true, seals, sealedEvents, pendingEvents };
}

/** Seals every few seconds while the platform runs; `stop` seals what is left. */
export function startAuditSealer(
  db: Kysely<DB>,
  vault: Vault,
  everyMs: number,
  onError: (err: unknown) => void,
): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const round = async () => {
    while ((await sealAudit(db, vault)) === MAX_PER_SEAL);
  };
  const timer = setInterval(() => {
    running = running.then(round).catch(onError);
  }, everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
      await round().catch(onError);
    },
  };
}
