import type { Kysely } from 'kysely';
import { MdlError, RespCode, documentProblem, type QueryEcAuthResultRequest } from '@mdl/protocol';
import type { DB, Person } from '../../db/schema.js';
import type { Vault } from '../../vault.js';
import { findPersonByIdentity, type Identity } from '../persons.js';
import { refreshSubjects } from '../subjects.js';
import { identityProblem, type CardRegistry, type CitizenIdentity, type RegistryResult } from './registry.js';

/** A card as a city's e-health-card system issued it. */
export interface CityCard {
  ehealthCardId: string;
  cardNo: string;
  cardType: string;
}

/** ORG_EHC_004's question, as the city's system is asked it (guide §4.5.4.2, minus orgId). */
export type InsuredQuery = Pick<QueryEcAuthResultRequest, 'type' | 'psnNo' | 'cardNo' | 'insuplcAdmdvs' | 'idNo' | 'idType' | 'userName'>;

/** Who a call to the city's system is made for: the audit event of each attempt names them. */
export interface CityCallContext {
  orgId?: string | null | undefined;
  requestId?: string | null | undefined;
}

/**
 * The city's system did not answer usefully (down, timing out, 5xx after the retries, a reply that does not
 * verify or does not fit the guide's fields). Nothing has been written; the caller may try again later.
 */
export class CityCardUnavailable extends Error {
  override name = 'CityCardUnavailable';
}

/** What a citizen or a hospital is told while the city's system is away (docs/error-codes.md, `-3`). */
export const CITY_BUSY_MESSAGE = '电子健康卡系统繁忙，请稍后再试';

/**
 * A city's existing e-health-card system (guide §2.2). The HTTP adapter (outbound/city-card.ts) implements it
 * against the API described in docs/ehc-flows.md; answering `{ problem }` passes the city's Chinese reason on.
 * Every method throws CityCardUnavailable when the city gives no usable answer.
 */
export interface CityCardSystem {
  /** 登录: the card the city issued to this identity (the city checks the name), if any. */
  findCard(who: CitizenIdentity, ctx?: CityCallContext): Promise<CityCard | { problem: string } | undefined>;
  /** 领卡: issue a card, or return the one this identity already has. */
  issueCard(who: CitizenIdentity, ctx?: CityCallContext): Promise<CityCard | { problem: string }>;
  /**
   * ORG_EHC_004: the card of an insured person, after the city checked `type`, `psnNo`, `cardNo` and
   * `insuplcAdmdvs` against its insured-person records.
   */
  insuredCard(q: InsuredQuery, ctx?: CityCallContext): Promise<CityCard | { problem: string }>;
}

const fits = (c: CityCard) => /^[\w-]{1,64}$/.test(c.ehealthCardId) && /^\w{1,12}$/.test(c.cardNo) && /^\w{1,2}$/.test(c.cardType);

/**
 * `MDL_EHC_REGISTRY=upstream`: cards come from the city's system and are mirrored into the master index,
 * because the arrears ledger's real-name checks (强校验) only know the master index.
 */
export class UpstreamRegistry implements CardRegistry {
  readonly kind = 'upstream' as const;
  constructor(
    private readonly db: Kysely<DB>,
    private readonly vault: Vault,
    private readonly city: CityCardSystem,
  ) {}

  async signIn(who: CitizenIdentity): Promise<RegistryResult> {
    const problem = identityProblem(who);
    if (problem) return { problem };
    const card = await this.#ask(() => this.city.findCard(who));
    if (!card) return { problem: '未找到该证件的电子健康卡，请先领卡' };
    return 'problem' in card ? card : this.#mirror(who, card);
  }

  async register(who: CitizenIdentity): Promise<RegistryResult> {
    const problem = identityProblem(who);
    if (problem) return { problem };
    const card = await this.#ask(() => this.city.issueCard(who));
    return 'problem' in card ? card : this.#mirror(who, card);
  }

  /**
   * ORG_EHC_004 through the city: the platform issues nothing itself. A malformed identity is refused before
   * the city is asked (000105), the city's refusal is the hospital's `-2`, and the city away is `-3`; in each
   * of these nothing is written.
   */
  async insured(q: InsuredQuery, ctx: CityCallContext): Promise<{ person: Person; created: boolean }> {
    const doc = documentProblem(q.idType, q.idNo);
    if (doc) throw new MdlError(RespCode.INVALID_PARAM, doc);
    let card: CityCard | { problem: string };
    try {
      card = await this.city.insuredCard(q, ctx);
    } catch (e) {
      if (e instanceof CityCardUnavailable) throw new MdlError(RespCode.APP_TIMEOUT, CITY_BUSY_MESSAGE, e.message);
      throw e;
    }
    if ('problem' in card) throw new MdlError(RespCode.APP_BAD_REQUEST, card.problem);
    const r = await this.#mirror(q, card);
    if ('problem' in r) throw new MdlError(RespCode.APP_BAD_REQUEST, r.problem);
    return r;
  }

  /** The pages tell the citizen in words; the hospital interfaces map the same error to `-3` (insured). */
  async #ask<T>(call: () => Promise<T>): Promise<T | { problem: string }> {
    try {
      return await call();
    } catch (e) {
      if (e instanceof CityCardUnavailable) return { problem: CITY_BUSY_MESSAGE };
      throw e;
    }
  }

  /** The master-index row for the city's card: created on first sight, and never silently re-pointed. */
  async #mirror(who: Identity & { mobilePhone?: string | undefined }, card: CityCard): Promise<RegistryResult> {
    if (!fits(card)) throw new CityCardUnavailable('the city card system answered a card that does not fit the guide’s fields');
    const existing = await findPersonByIdentity(this.db, this.vault, who.idType, who.idNo);
    if (existing) return this.#same(existing, who, card);
    const idNoBidx = this.vault.personKey(who.idType, who.idNo);
    const inserted = await this.db
      .insertInto('person')
      .values({
        id_type: who.idType,
        id_no_bidx: idNoBidx,
        id_no_enc: this.vault.encrypt(who.idNo.toUpperCase()),
        name_bidx: this.vault.nameKey(idNoBidx, who.userName),
        name_enc: this.vault.encrypt(who.userName.trim()),
        phone_enc: this.vault.encryptOpt(who.mobilePhone),
        ehealth_card_id: card.ehealthCardId,
        card_no: card.cardNo,
        card_type: card.cardType,
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) {
      // The read model carries the card for the 强校验 (as getOrRegisterPerson does for the built-in registry).
      await refreshSubjects(this.db, [inserted.id_no_bidx]);
      return { person: inserted, created: true };
    }
    const raced = await findPersonByIdentity(this.db, this.vault, who.idType, who.idNo);
    if (raced) return this.#same(raced, who, card);
    return { problem: '电子健康卡号已被其他人员占用，请联系平台管理员' };
  }

  #same(p: Person, who: { userName: string }, card: CityCard): RegistryResult {
    if (p.name_bidx !== this.vault.nameKey(p.id_no_bidx, who.userName)) return { problem: '姓名与证件号不一致' };
    if (p.ehealth_card_id !== card.ehealthCardId) return { problem: '主索引中该证件已绑定其他电子健康卡，请联系平台管理员' };
    return { person: p, created: false };
  }
}
