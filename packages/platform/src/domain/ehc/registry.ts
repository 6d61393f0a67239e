import type { Kysely } from 'kysely';
import { MdlError, RespCode, documentProblem } from '@mdl/protocol';
import type { DB, Person } from '../../db/schema.js';
import type { Vault } from '../../vault.js';
import { findPersonByIdentity, getOrRegisterPerson, type Identity } from '../persons.js';

/**
 * Who issues e-health cards (guide §2.2). A region without its own e-health-card system uses the
 * platform's built-in registry (the default); a city with one plugs its system in behind this interface,
 * and the platform keeps mirroring every card it sees into the master index (`person`), because hospitals
 * and the arrears ledger only ever talk to the master index.
 *
 * Both methods answer a person of the master index or a Chinese reason for the citizen; neither writes
 * anything when it answers a reason (nothing half-registered).
 */
export interface CardRegistry {
  readonly kind: 'builtin' | 'upstream';
  /** 登录: the card already issued to this identity. */
  signIn(who: CitizenIdentity): Promise<RegistryResult>;
  /** 领卡: issue a card to this identity, or return the one it already has. */
  register(who: CitizenIdentity): Promise<RegistryResult>;
}

export interface CitizenIdentity extends Identity {
  mobilePhone: string;
}

export type RegistryResult = { person: Person; created: boolean } | { problem: string };

/** Mainland mobile numbers: 11 digits starting 1[3-9]. */
export function phoneProblem(phone: string): string | undefined {
  return /^1[3-9]\d{9}$/.test(phone) ? undefined : '手机号应为 11 位数字';
}

/** Checks a citizen can fix before anything is stored, every field at once (the form shows each beside its field). */
export function identityProblems(who: CitizenIdentity): Partial<Record<keyof CitizenIdentity, string>> {
  const out: Partial<Record<keyof CitizenIdentity, string>> = {};
  if (!who.userName.trim() || [...who.userName.trim()].length > 20) out.userName = '请填写姓名（不超过 20 个字）';
  if (!who.idNo || who.idNo.length > 18) out.idNo = '请填写证件号（不超过 18 位）';
  else {
    const doc = documentProblem(who.idType, who.idNo);
    if (doc) out.idNo = doc;
  }
  const phone = phoneProblem(who.mobilePhone);
  if (phone) out.mobilePhone = phone;
  return out;
}

/** The first of identityProblems, for callers that answer with one message. */
export function identityProblem(who: CitizenIdentity): string | undefined {
  const p = identityProblems(who);
  return p.userName ?? p.idNo ?? p.mobilePhone;
}

/** The platform's own registry: the master index is the card registry. */
export class BuiltinRegistry implements CardRegistry {
  readonly kind = 'builtin' as const;
  constructor(
    private readonly db: Kysely<DB>,
    private readonly vault: Vault,
  ) {}

  async signIn(who: CitizenIdentity): Promise<RegistryResult> {
    const problem = identityProblem(who);
    if (problem) return { problem };
    const person = await findPersonByIdentity(this.db, this.vault, who.idType, who.idNo);
    if (!person) return { problem: '未找到该证件的电子健康卡，请先领卡' };
    if (person.name_bidx !== this.vault.nameKey(person.id_no_bidx, who.userName)) return { problem: '姓名与证件号不一致' };
    return this.#checkPhone(person, who.mobilePhone);
  }

  async register(who: CitizenIdentity): Promise<RegistryResult> {
    const problem = identityProblem(who);
    if (problem) return { problem };
    try {
      const r = await getOrRegisterPerson(this.db, this.vault, { ...who, userName: who.userName.trim() }, { self: true });
      return r.created ? r : this.#checkPhone(r.person, who.mobilePhone);
    } catch (e) {
      if (e instanceof MdlError && (e.code === RespCode.INVALID_PARAM || e.code === RespCode.APP_BAD_REQUEST))
        return { problem: e.message };
      throw e;
    }
  }

  /**
   * The phone of record is where the sign-in code goes. A card without one (issued through ORG_EHC_004,
   * or whose self-registered phone a verified source dropped) is never claimed by whoever signs in first:
   * only the 闽政通 channel's signed entry gives it a phone (/mdr/card-phone).
   */
  #checkPhone(person: Person, phone: string): RegistryResult {
    if (!person.phone_enc) return { problem: '该电子健康卡未登记手机号，请从闽政通进入绑定' };
    if (this.vault.decrypt(person.phone_enc) !== phone) return { problem: '手机号与领卡时登记的不一致' };
    return { person, created: false };
  }
}
