import type { Kysely } from 'kysely';
import { maskIdNo } from '@mdl/protocol';
import type { DB } from '../../db/schema.js';
import type { Vault } from '../../vault.js';
import { audit, auditEvent } from '../audit.js';

/**
 * The operators' review queue of self-registrations a verified source contradicted
 * (self-registration.ts opens entries). Deciding is an operator's act, audited:
 * - 'rejected': the self-registration was not this person's (a squat); nothing else changes.
 * - 'restored': the operator checked that the phone typed at 领卡 is the card holder's (for instance a
 *   typo in the name); it becomes the phone of record again, if the card has none by then.
 */
export type ReviewDecision = 'rejected' | 'restored';

export interface ReviewRow {
  id: number;
  status: 'open' | 'rejected' | 'restored';
  createdAt: Date;
  cardNo: string;
  idNoMasked: string;
  verifiedName: string;
  selfName: string;
  selfPhoneMasked: string;
  verifiedBy: string;
  decidedBy: string | null;
  decidedAt: Date | null;
}

function maskPhone(p: string): string {
  return p.length === 11 ? `${p.slice(0, 3)}****${p.slice(7)}` : '****';
}

export async function listReviews(db: Kysely<DB>, vault: Vault, which: 'open' | 'all'): Promise<ReviewRow[]> {
  let q = db
    .selectFrom('card_review as r')
    .innerJoin('person as p', 'p.id', 'r.person_id')
    .select([
      'r.id',
      'r.status',
      'r.created_at',
      'r.self_name_enc',
      'r.self_phone_enc',
      'r.verified_by',
      'r.decided_by',
      'r.decided_at',
      'p.card_no',
      'p.id_no_enc',
      'p.name_enc',
    ])
    .orderBy('r.id', 'desc')
    .limit(200);
  if (which === 'open') q = q.where('r.status', '=', 'open');
  const rows = await q.execute();
  return rows.map((r) => ({
    id: Number(r.id),
    status: r.status,
    createdAt: new Date(r.created_at),
    cardNo: r.card_no,
    idNoMasked: maskIdNo(vault.decrypt(r.id_no_enc)),
    verifiedName: vault.decrypt(r.name_enc),
    selfName: vault.decrypt(r.self_name_enc),
    selfPhoneMasked: r.self_phone_enc ? maskPhone(vault.decrypt(r.self_phone_enc)) : '',
    verifiedBy: r.verified_by,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at ? new Date(r.decided_at) : null,
  }));
}

/** One decision per entry (a conditional UPDATE): a second operator, or a second click, changes nothing. */
export async function decideReview(
  db: Kysely<DB>,
  o: { id: number; decision: ReviewDecision; operator: string; note: string; requestId: string | null },
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('card_review')
      .set({ status: o.decision, decided_by: o.operator.slice(0, 64), decided_at: new Date(), note: o.note.slice(0, 200) || null })
      .where('id', '=', o.id)
      .where('status', '=', 'open')
      .returning(['person_id', 'self_phone_enc'])
      .executeTakeFirst();
    if (!row) return false;
    const person = await trx.selectFrom('person').select('id_no_bidx').where('id', '=', row.person_id).executeTakeFirstOrThrow();
    if (o.decision === 'restored' && row.self_phone_enc) {
      await trx
        .updateTable('person')
        .set({ phone_enc: row.self_phone_enc, updated_at: new Date() })
        .where('id', '=', row.person_id)
        .where('phone_enc', 'is', null)
        .execute();
    }
    await audit(
      trx,
      auditEvent('operator', o.operator, 'console.card_review.decide', {
        subject: person.id_no_bidx,
        target: `review=${o.id}`,
        requestId: o.requestId,
        detail: JSON.stringify({ decision: o.decision, note: o.note.slice(0, 200) }),
      }),
    );
    return true;
  });
}
