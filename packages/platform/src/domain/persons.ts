import { randomBytes, randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import { MdlError, RespCode, documentProblem, residentIdFacts } from '@mdl/protocol';
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

export async function findPersonByIdentity(db: Kysely<DB>, vault: Vault, idType: string, idNo: string): Promise<Person | undefined> {
  return db
    .selectFrom('person')
    .selectAll()
    .where('id_type', '=', idType)
    .where('id_no_bidx', '=', vault.personKey(idType, idNo))
    .executeTakeFirst();
}

export async function findPersonByCard(db: Kysely<DB>, ehealthCardId: string): Promise<Person | undefined> {
  return db.selectFrom('person').selectAll().where('ehealth_card_id', '=', ehealthCardId).executeTakeFirst();
}

/**
 * 强校验 (DESIGN.md): the card must exist and belong to exactly this identity and name. Returns the
 * person, or a Chinese reason.
 */
export async function checkRealName(
  db: Kysely<DB>,
  vault: Vault,
  who: Identity & { ehealthCardId: string },
): Promise<{ person: Person } | { problem: string }> {
  return matchRealName(vault, await findPersonByCard(db, who.ehealthCardId), who);
}

/** The 强校验 itself, on a card already read (batch processing reads all cards of a batch at once). */
export function matchRealName(vault: Vault, person: Person | undefined, who: Identity): { person: Person } | { problem: string } {
  if (!person) return { problem: '电子健康卡主索引不存在' };
  if (person.id_type !== who.idType || person.id_no_bidx !== vault.personKey(who.idType, who.idNo)) {
    return { problem: '电子健康卡主索引与证件信息不一致' };
  }
  if (person.name_bidx !== vault.nameKey(who.userName)) return { problem: '电子健康卡主索引与姓名不一致' };
  return { person };
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
  who: Identity & { mobilePhone?: string | undefined; psnNo?: string | undefined },
  source: { self: true } | { verifiedBy: string } = { verifiedBy: 'platform' },
): Promise<{ person: Person; created: boolean }> {
  const problem = documentProblem(who.idType, who.idNo);
  if (problem) throw new MdlError(RespCode.INVALID_PARAM, problem);
  const existing = await findPersonByIdentity(db, vault, who.idType, who.idNo);
  if (existing) {
    if (existing.name_bidx !== vault.nameKey(who.userName)) {
      const resolved =
        'verifiedBy' in source && existing.name_source === 'self'
          ? await resolveNameSquat(db, vault, existing, { userName: who.userName, by: source.verifiedBy })
          : undefined;
      if (!resolved) throw new MdlError(RespCode.APP_BAD_REQUEST, '证件号与姓名不一致');
      return { person: resolved, created: false };
    }
    return { person: existing, created: false };
  }
  const facts = who.idType === '01' ? residentIdFacts(who.idNo.toUpperCase()) : undefined;
  for (let attempt = 0; ; attempt++) {
    const inserted = await db
      .insertInto('person')
      .values({
        id_type: who.idType,
        id_no_bidx: vault.personKey(who.idType, who.idNo),
        id_no_enc: vault.encrypt(who.idNo.toUpperCase()),
        name_bidx: vault.nameKey(who.userName),
        name_enc: vault.encrypt(who.userName),
        phone_enc: vault.encryptOpt(who.mobilePhone),
        ehealth_card_id: newCardId(),
        card_no: newCardNo(),
        card_type: CARD_TYPE_EHC,
        sex: facts?.sex ?? '0',
        birthday: facts?.birthday ?? null,
        psn_no_bidx: who.psnNo ? vault.index('psn', who.psnNo) : null,
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

export function cardView(vault: Vault, p: Person): CardView {
  const phone = vault.decryptOpt(p.phone_enc);
  return {
    ehealthCardId: p.ehealth_card_id,
    cardNo: p.card_no,
    cardType: p.card_type,
    idNo: vault.decrypt(p.id_no_enc),
    idType: p.id_type,
    userName: vault.decrypt(p.name_enc),
    ...(p.sex ? { userSex: p.sex } : {}),
    ...(p.birthday ? { birthday: p.birthday } : {}),
    ...(phone ? { mobilePhone: phone } : {}),
  };
}

/** A person's sealed name, or null for no person or an unknown one (the citizen app's greeting). */
export async function personNameEnc(db: Kysely<DB>, personId: number | null): Promise<string | null> {
  if (personId === null) return null;
  const p = await db.selectFrom('person').select('name_enc').where('id', '=', personId).executeTakeFirst();
  return p?.name_enc ?? null;
}
