import type { Kysely } from 'kysely';
import type { DB, Person } from '../../db/schema.js';
import type { Vault } from '../../vault.js';
import { audit, auditEvent } from '../audit.js';
import { refreshSubjects } from '../subjects.js';

/**
 * Sources rank by how well they verified the person (issue #12). A name typed at /card 领卡 is the
 * weakest: when an institution's ORG_EHC_004 (the patient's 医保 identity) names the same ID number
 * differently, the verified name wins at once — the card keeps its number, takes the real name, drops the
 * self-registered phone (hospitals no longer receive it), and its sign-in sessions end — and the
 * self-registration goes to the operators' review queue (`card_review`) instead of locking the ID number.
 */
export async function resolveNameSquat(
  db: Kysely<DB>,
  vault: Vault,
  existing: Person,
  verified: { userName: string; by: string },
): Promise<Person | undefined> {
  return db.transaction().execute(async (trx) => {
    // Conditional on what was read: a parallel resolution of the same card moves it once.
    const updated = await trx
      .updateTable('person')
      .set({
        name_bidx: vault.nameKey(existing.id_no_bidx, verified.userName),
        name_enc: vault.encrypt(verified.userName),
        phone_enc: null,
        name_source: 'verified',
        updated_at: new Date(),
      })
      .where('id', '=', existing.id)
      .where('name_source', '=', 'self')
      .where('name_bidx', '=', existing.name_bidx)
      .returningAll()
      .executeTakeFirst();
    if (!updated) return undefined;
    const review = await trx
      .insertInto('card_review')
      .values({
        person_id: existing.id,
        self_name_enc: existing.name_enc,
        self_phone_enc: existing.phone_enc,
        verified_by: verified.by.slice(0, 64),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('card_session')
      .set({ ended_at: new Date() })
      .where('person_id', '=', existing.id)
      .where('ended_at', 'is', null)
      .execute();
    await refreshSubjects(trx, [existing.id_no_bidx]);
    await audit(
      trx,
      auditEvent('app', verified.by, 'ehc.card.review.open', {
        subject: existing.id_no_bidx,
        target: `review=${review.id}`,
        detail: 'self-registered name replaced by a verified source; its phone dropped',
      }),
    );
    return updated;
  });
}
