import { randomBytes, randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import { MdlError, RespCode, documentProblem, residentIdFacts } from '@mdl/protocol';
import type { CardHolder } from '../db/person-rows.js';
import type { DB, Person } from '../db/schema.js';

export type { Person };
import type { Vault } from '../vault.js';
import { resolveNameSquat } from './ehc/self-registration.js';
import { refreshSubjects } from './subjects.js';

/**
 * The e-health-card master index: one row per real-name person, keyed by (idType, idNo) through the
 * blind index, with the card id that hospitals carry as `ehealthCardId`.
 */
export interface Identity {
  idType: string;
  idNo: string;
  userName: string;
}

export interface CardView {
  ehealthCardId: string;
  cardNo: string;
  cardType: string;
  idNo: string;
  idType: string;
  userName: string;
  userSex?: string;
  birthday?: string;
  mobilePhone?: string;
}

/** The card type this registry issues: 01, the e-health card itself. */
export const CARD_TYPE_EHC = '01';

/** `key` is the identity's personKey when the caller has already made it (a blind index costs an HMAC). */
export async function findPersonByIdentity(
  db: Kysely<DB>,
  vault: Vault,
  idType: string,
  idNo: string,
  key = vault.personKey(idType, idNo),
): Promise<Person | undefined> {
  return db.selectFrom('person').selectAll().where('id_type', '=', idType).where('id_no_bidx', '=', key).executeTakeFirst();
}

export async function findPersonByCard(db: Kysely<DB>, ehealthCardId: string): Promise<Person | undefined> {
  return db.selectFrom('person').selectAll().where('ehealth_card_id', '=', ehealthCardId).executeTakeFirst();
}

/** A master-index entry as the 强校验 sees it: the blind keys of its identity and name, and its card. */
export interface IndexEntry {
  idKey: string;
  cardId: string | null;
  nameKey: string | null;
}

export function indexEntry(p: CardHolder): IndexEntry {
  return { idKey: p.id_no_bidx, cardId: p.ehealth_card_id, nameKey: p.name_bidx };
}

/**
 * The 强校验 (DESIGN.md, docs/decisions.md "One 强校验"), the one rule for report items (ORG_MDL_001/003),
 * queries (ORG_MDL_002), entry links (ORG_MDL_004) and card registration (ORG_EHC_004):
 * - a card given must be on the master index and belong to exactly this identity (idType and idNo);
 * - a person on the master index must be named as registered.
 * An identity that is not on the index, with no card given, has nothing to be checked against and passes.
 * `entry` is the index entry found for the card or for the identity; `whoKey` is the identity's personKey when
 * the caller has already made it (a blind index costs an HMAC). Returns the reason, or undefined.
 */
export function strongCheck(
  vault: Vault,
  entry: IndexEntry | undefined,
  who: Identity & { ehealthCardId?: string | null | undefined },
  whoKey?: string,
): string | undefined {
  if (who.ehealthCardId) {
    if (!entry) return '电子健康卡主索引不存在';
    if (entry.cardId !== who.ehealthCardId || entry.idKey !== (whoKey ?? vault.personKey(who.idType, who.idNo))) {
      return '电子健康卡主索引与证件信息不一致';
    }
  }
  if (entry && entry.nameKey !== vault.nameKey(entry.idKey, who.userName)) return '姓名与证件信息不一致';
  return undefined;
}

/** The 强校验 of a real-name report item, on its card (read here, or all cards of a batch read at once). */
export async function checkRealName(
  db: Kysely<DB>,
  vault: Vault,
  who: Identity & { ehealthCardId: string },
  cards?: Map<string, CardHolder>,
): Promise<{ person: CardHolder } | { problem: string }> {
  const person = cards ? cards.get(who.ehealthCardId) : await findPersonByCard(db, who.ehealthCardId);
  const problem = strongCheck(vault, person && indexEntry(person), who);
  return problem || !person ? { problem: problem ?? '电子健康卡主索引不存在' } : { person };
}

/**
 * The 强校验 of a query or entry link (ORG_MDL_002/004), on the identity: throws -2 with the reason.
 * `known` is the entry when the caller has already read it (ORG_MDL_002 from its read model), and `whoKey` the
 * identity's personKey when it has made it.
 */
export async function assertRealName(
  db: Kysely<DB>,
  vault: Vault,
  who: Identity & { ehealthCardId?: string | null | undefined },
  known?: IndexEntry,
  whoKey?: string,
): Promise<Person | undefined> {
  // One blind index for both the look-up and the card check.
  const key = whoKey ?? vault.personKey(who.idType, who.idNo);
  const person = known ? undefined : await findPersonByIdentity(db, vault, who.idType, who.idNo, key);
  const problem = strongCheck(vault, known ?? (person && indexEntry(person)), who, key);
  if (problem) throw new MdlError(RespCode.APP_BAD_REQUEST, problem);
  return person;
}

function newCardId(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

function newCardNo(): string {
  return String(randomInt(1, 10)) + String(randomInt(0, 1e11)).padStart(11, '0');
}

/**
 * Returns the person's card, registering one when the identity is new and well-formed (ORG_EHC_004 and
 * the card pages). A known identity under another name is refused rather than overwritten — except that a
 * verified source (`verifiedBy`, an institution's ORG_EHC_004) outranks a name someone typed at /card
 * 领卡: that name goes to the review queue (domain/ehc/self-registration.ts).
 */
export async function getOrRegisterPerson(
  db: Kysely<DB>,
  vault: Vault,
  who: Identity & { mobilePhone?: string | undefined },
  source: { self: true } | { verifiedBy: string } = { verifiedBy: 'platform' },
): Promise<{ person: Person; created: boolean }> {
  const problem = documentProblem(who.idType, who.idNo);
  if (problem) throw new MdlError(RespCode.INVALID_PARAM, problem);
  const existing = await findPersonByIdentity(db, vault, who.idType, who.idNo);
  if (existing) {
    const problem = strongCheck(vault, indexEntry(existing), who);
    if (problem) {
      // A self-registered name never blocks a verified source: the squat goes to the review queue.
      const resolved =
        'verifiedBy' in source && existing.name_source === 'self'
          ? await resolveNameSquat(db, vault, existing, { userName: who.userName, by: source.verifiedBy })
          : undefined;
      if (!resolved) throw new MdlError(RespCode.APP_BAD_REQUEST, problem);
      return { person: resolved, created: false };
    }
    return { person: existing, created: false };
  }
  const idNoBidx = vault.personKey(who.idType, who.idNo);
  for (let attempt = 0; ; attempt++) {
    const inserted = await db
      .insertInto('person')
      .values({
        id_type: who.idType,
        id_no_bidx: idNoBidx,
        id_no_enc: vault.encrypt(who.idNo.toUpperCase()),
        name_bidx: vault.nameKey(idNoBidx, who.userName),
        name_enc: vault.encrypt(who.userName),
        phone_enc: vault.encryptOpt(who.mobilePhone),
        ehealth_card_id: newCardId(),
        card_no: newCardNo(),
        card_type: CARD_TYPE_EHC,
        name_source: 'self' in source ? 'self' : 'verified',
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) {
      // The read model carries the card for the 强校验: a new person gets a row at once.
      await refreshSubjects(db, [inserted.id_no_bidx]);
      return { person: inserted, created: true };
    }
    // Lost a race with another registration of the same identity, or (rarely) a card number collision.
    const again = await findPersonByIdentity(db, vault, who.idType, who.idNo);
    if (again) return { person: again, created: false };
    if (attempt > 3) throw new Error('could not allocate a card number');
  }
}

/**
 * Sex and birthday are not stored (issue #12): a resident ID number carries both, so they are derived from
 * the sealed ID number when a card is read, and other documents have neither (sex 0, 未知, as before).
 * Nothing about a person is left in clear in the row.
 */
export function cardView(vault: Vault, p: Person): CardView {
  const phone = vault.decryptOpt(p.phone_enc);
  const idNo = vault.decrypt(p.id_no_enc);
  const facts = p.id_type === '01' ? residentIdFacts(idNo) : undefined;
  return {
    ehealthCardId: p.ehealth_card_id,
    cardNo: p.card_no,
    cardType: p.card_type,
    idNo,
    idType: p.id_type,
    userName: vault.decrypt(p.name_enc),
    userSex: facts?.sex ?? '0',
    ...(facts ? { birthday: facts.birthday } : {}),
    ...(phone ? { mobilePhone: phone } : {}),
  };
}

/** A person's sealed name, or null for no person or an unknown one (the citizen app's greeting). */
export async function personNameEnc(db: Kysely<DB>, personId: number | null): Promise<string | null> {
  if (personId === null) return null;
  const p = await db.selectFrom('person').select('name_enc').where('id', '=', personId).executeTakeFirst();
  return p?.name_enc ?? null;
}
