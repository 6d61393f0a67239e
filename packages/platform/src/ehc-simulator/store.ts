import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { sm3Hex } from '@mdl/protocol';
import { DEMO_INSURED, DEMO_REMOTE_INSURED } from '../demo-people.js';

/** A card as the simulated city issued it. */
export interface SimCard {
  ehealthCardId: string;
  cardNo: string;
  cardType: string;
}

/** One person the simulated city knows: a card holder, an insured person (psnNo), or both. */
export interface SimPerson {
  idType: string;
  idNo: string;
  userName: string;
  mobilePhone?: string | undefined;
  /** 医保人员编号, present for insured persons. */
  psnNo?: string | undefined;
  /** 参保区划 (6 digits); outside 35xxxx the guide asks hospitals to send it. */
  insuplcAdmdvs?: string | undefined;
  /** 社保卡号 (ORG_EHC_004 type 02). */
  insuranceCardNo?: string | undefined;
  card?: SimCard | undefined;
}

/**
 * The simulator's own store: people by ID, in memory, written whole to a JSON file after every change when a
 * file is given (so a sandbox keeps the cards it issued across restarts). Nothing here is the platform's.
 */
export class SimStore {
  readonly #people = new Map<string, SimPerson>();
  constructor(private readonly file?: string) {
    if (file && existsSync(file)) {
      for (const p of JSON.parse(readFileSync(file, 'utf8')) as SimPerson[]) this.#people.set(key(p.idType, p.idNo), p);
    }
  }

  get(idType: string, idNo: string): SimPerson | undefined {
    return this.#people.get(key(idType, idNo));
  }

  put(p: SimPerson): void {
    this.#people.set(key(p.idType, p.idNo), p);
    if (this.file) {
      writeFileSync(`${this.file}.tmp`, JSON.stringify([...this.#people.values()], null, 1));
      renameSync(`${this.file}.tmp`, this.file);
    }
  }

  /** A new card: ids the city's own form (a region prefix and random hex), never the platform's. */
  newCard(): SimCard {
    return { ehealthCardId: `C35${randomBytes(15).toString('hex').toUpperCase()}`, cardNo: newCardNo(), cardType: '01' };
  }

  /** The demo people as insured card holders (cards derived from the ID, so a restart gives the same). */
  seedDemo(): void {
    for (const d of DEMO_INSURED) {
      if (this.get('01', d.idNo)) continue;
      const card = {
        ehealthCardId: `C35${sm3Hex(`demo:${d.idNo}`).slice(0, 30).toUpperCase()}`,
        cardNo: `35${d.idNo.slice(8)}`,
        cardType: '01',
      };
      this.put({ idType: '01', ...d, card });
    }
    if (!this.get('01', DEMO_REMOTE_INSURED.idNo)) this.put({ idType: '01', ...DEMO_REMOTE_INSURED });
  }
}

function key(idType: string, idNo: string): string {
  return `${idType}:${idNo.toUpperCase()}`;
}

function newCardNo(): string {
  return String(randomInt(1, 10)) + String(randomInt(0, 1e11)).padStart(11, '0');
}
