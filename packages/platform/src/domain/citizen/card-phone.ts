import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Vault } from '../../vault.js';
import { audit, auditEvent } from '../audit.js';

/** The card fields the 闽政通 phone binding needs (web/citizen/card-phone.ts), or undefined. */
export function cardOfPerson(db: Kysely<DB>, personId: number) {
  return db.selectFrom('person').select(['id', 'id_no_bidx', 'card_no', 'phone_enc']).where('id', '=', personId).executeTakeFirst();
}

/**
 * Record a proved phone on a card that has none, with its audit event, in one transaction. Conditional: a phone
 * recorded meanwhile (another tab, an operator) is never overwritten; returns false then.
 */
export async function setPhoneOfRecord(
  deps: { db: Kysely<DB>; vault: Vault },
  card: { id: number; id_no_bidx: string; card_no: string },
  phone: string,
  requestId: string,
): Promise<boolean> {
  return deps.db.transaction().execute(async (trx) => {
    const set = await trx
      .updateTable('person')
      .set({ phone_enc: deps.vault.encrypt(phone), updated_at: new Date() })
      .where('id', '=', card.id)
      .where('phone_enc', 'is', null)
      .executeTakeFirst();
    if (Number(set.numUpdatedRows) !== 1) return false;
    await audit(
      trx,
      auditEvent('citizen', 'mdr', 'ehc.card.phone', {
        subject: card.id_no_bidx,
        target: `card:${card.card_no}`,
        requestId,
        detail: 'phone of record set through the 闽政通 entry',
      }),
    );
    return true;
  });
}
