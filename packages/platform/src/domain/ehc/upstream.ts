import type { Kysely } from 'kysely';
import type { DB, Person } from '../../db/schema.js';
import type { Vault } from '../../vault.js';
import { findPersonByIdentity } from '../persons.js';
import { identityProblem, type CardRegistry, type CitizenIdentity, type RegistryResult } from './registry.js';

/** A card as a city's e-health-card system issued it. */
export interface CityCard {
  ehealthCardId: string;
  cardNo: string;
  cardType: string;
}

/**
 * A city's existing e-health-card system (guide §2.2), reached however that city allows (its own API,
 * a message bus, …). An adapter implements these two calls and nothing else; answering `{ problem }`
 * passes a Chinese reason to the citizen.
 */
export interface CityCardSystem {
  /** 登录: the card the city issued to this identity (the city checks the name), if any. */
  findCard(who: CitizenIdentity): Promise<CityCard | { problem: string } | undefined>;
  /** 领卡: issue a card, or return the one this identity already has. */
  issueCard(who: CitizenIdentity): Promise<CityCard | { problem: string }>;
}

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
    const card = await this.city.findCard(who);
    if (!card) return { problem: '未找到该证件的电子健康卡，请先领卡' };
    return 'problem' in card ? card : this.#mirror(who, card);
  }

  async register(who: CitizenIdentity): Promise<RegistryResult> {
    const problem = identityProblem(who);
    if (problem) return { problem };
    const card = await this.city.issueCard(who);
    return 'problem' in card ? card : this.#mirror(who, card);
  }

  /** The master-index row for the city's card: created on first sight, and never silently re-pointed. */
  async #mirror(who: CitizenIdentity, card: CityCard): Promise<RegistryResult> {
    if (!/^[\w-]{1,64}$/.test(card.ehealthCardId) || !/^\w{1,12}$/.test(card.cardNo) || !/^\w{1,2}$/.test(card.cardType)) {
      throw new Error('the city card system answered a card that does not fit the guide’s fields');
    }
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
        phone_enc: this.vault.encrypt(who.mobilePhone),
        ehealth_card_id: card.ehealthCardId,
        card_no: card.cardNo,
        card_type: card.cardType,
        psn_no_bidx: null,
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { person: inserted, created: true };
    const raced = await findPersonByIdentity(this.db, this.vault, who.idType, who.idNo);
    if (raced) return this.#same(raced, who, card);
    return { problem: '电子健康卡号已被其他人员占用，请联系平台管理员' };
  }

  #same(p: Person, who: CitizenIdentity, card: CityCard): RegistryResult {
    if (p.name_bidx !== this.vault.nameKey(p.id_no_bidx, who.userName)) return { problem: '姓名与证件号不一致' };
    if (p.ehealth_card_id !== card.ehealthCardId) return { problem: '主索引中该证件已绑定其他电子健康卡，请联系平台管理员' };
    return { person: p, created: false };
  }
}
