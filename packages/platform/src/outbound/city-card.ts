import type { Kysely } from 'kysely';
import { RespCode } from '@mdl/protocol';
import type { EhcUpstreamSettings } from '../config.js';
import type { DB } from '../db/schema.js';
import { auditSystem } from '../domain/audit.js';
import type { CitizenIdentity } from '../domain/ehc/registry.js';
import {
  CityCardUnavailable,
  type CityCallContext,
  type CityCard,
  type CityCardSystem,
  type InsuredQuery,
} from '../domain/ehc/upstream.js';
import type { Logger } from '../log.js';
import type { Vault } from '../vault.js';
import { postEnvelope, type EnvelopeResult, type HttpPost } from './envelope-call.js';

export interface CityCardDeps {
  post: HttpPost;
  db: Kysely<DB>;
  vault: Vault;
  log: Logger;
  settings: EhcUpstreamSettings;
  deployment: 'sandbox' | 'production';
  /** Waits between attempts (tests may shorten it). */
  sleep?: (ms: number) => Promise<void>;
}

type Operation = 'find' | 'issue' | 'insured';

/** The city's answer in its business payload (docs/ehc-flows.md, "对接地市电子健康卡系统"). */
type Answer = CityCard | { problem: string } | undefined;

const BACKOFF_MS = [200, 600, 1500, 3000, 5000];

/**
 * The HTTP adapter of a city's e-health-card system (MDL_EHC_REGISTRY=upstream). Its API is the guide's own
 * envelope (§4.1: SM4 encryption, SM3 signature, with the appId and secret the city issued the platform)
 * posted to `<MDL_EHC_UPSTREAM_URL>/card/find|issue|insured`; the fields are in docs/ehc-flows.md.
 *
 * Every call goes through the platform's outbound machinery: the address policy (the URL is an operator
 * setting, so its own port is the one allowed), one audit event per attempt, and a new attempt only after a
 * connection error or a 5xx: never after a timeout (the city may have acted), a refusal by the policy, a
 * reply that does not verify, or an answer, which are final.
 */
export class CityCardClient implements CityCardSystem {
  readonly #ports: number[];
  readonly #sleep: (ms: number) => Promise<void>;
  constructor(private readonly deps: CityCardDeps) {
    const u = new URL(deps.settings.url);
    this.#ports = [u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80];
    this.#sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async findCard(who: CitizenIdentity, ctx: CityCallContext = {}): Promise<Answer> {
    // The phone given at 领卡 is the citizen's second secret at sign-in: the city checks it as the built-in registry does.
    const payload = { idType: who.idType, idNo: who.idNo, userName: who.userName.trim(), mobilePhone: who.mobilePhone };
    return this.#call('find', who, payload, ctx);
  }

  async issueCard(who: CitizenIdentity, ctx: CityCallContext = {}): Promise<CityCard | { problem: string }> {
    const payload = { idType: who.idType, idNo: who.idNo, userName: who.userName.trim(), mobilePhone: who.mobilePhone };
    const a = await this.#call('issue', who, payload, ctx);
    if (!a) throw new CityCardUnavailable('the city answered "none" to an issue call');
    return a;
  }

  async insuredCard(q: InsuredQuery, ctx: CityCallContext = {}): Promise<CityCard | { problem: string }> {
    const payload = {
      type: q.type,
      psnNo: q.psnNo,
      ...(q.cardNo ? { cardNo: q.cardNo } : {}),
      ...(q.insuplcAdmdvs ? { insuplcAdmdvs: q.insuplcAdmdvs } : {}),
      idType: q.idType,
      idNo: q.idNo,
      userName: q.userName.trim(),
    };
    const a = await this.#call('insured', q, payload, ctx);
    if (!a) throw new CityCardUnavailable('the city answered "none" to an insured-person call');
    return a;
  }

  async #call(
    op: Operation,
    who: { idType: string; idNo: string },
    payload: Record<string, string>,
    ctx: CityCallContext,
  ): Promise<Answer> {
    const { settings, deployment } = this.deps;
    const url = `${settings.url}/card/${op}`;
    const attempts = settings.retries + 1;
    let last: EnvelopeResult | undefined;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await this.#sleep(BACKOFF_MS[attempt - 2] ?? 5000);
      const r = await postEnvelope(this.deps.post, {
        url,
        ports: this.#ports,
        strict: deployment === 'production',
        appId: settings.appId,
        secret: settings.secret,
        env: deployment === 'production' ? 'prod' : 'test',
        payload,
        timeoutMs: settings.timeoutMs,
        requestId: ctx.requestId,
      });
      last = r;
      const answer = r.ok ? readAnswer(op, r.payload!) : undefined;
      await this.#audit(op, who, ctx, url, r, `${attempt}/${attempts}`, r.ok && answer !== 'bad');
      if (r.ok) {
        if (answer === 'bad') throw new CityCardUnavailable(`city card system: ${op} answered a payload that does not fit`);
        return answer;
      }
      if (!retryable(r)) break;
    }
    this.deps.log.warn({ op, url, detail: last?.detail }, 'city card system gave no usable answer');
    throw new CityCardUnavailable(`city card system: ${op} ${last?.detail ?? ''}`);
  }

  async #audit(
    op: Operation,
    who: { idType: string; idNo: string },
    ctx: CityCallContext,
    url: string,
    r: EnvelopeResult,
    attempt: string,
    ok: boolean,
  ): Promise<void> {
    await auditSystem(this.deps.db, `ehc.upstream.${op}`, {
      orgId: ctx.orgId ?? null,
      subject: this.deps.vault.personKey(who.idType, who.idNo),
      target: url,
      outcome: ok ? 'ok' : 'error',
      respCode: r.respCode ?? (r.failure === 'refused' ? null : RespCode.EXTERNAL),
      requestId: ctx.requestId ?? null,
      detail: `attempt ${attempt}: ${r.detail} (${r.durationMs} ms)`,
    });
  }
}

/** Only a connection that failed before any answer, or a 5xx, is tried again (never a timeout). */
function retryable(r: EnvelopeResult): boolean {
  if (r.failure !== 'no-answer') return false;
  if (r.httpStatus === null) return r.detail !== 'timeout';
  return r.httpStatus >= 500;
}

/** A `000000` payload: `state` success (with the card), none (find only), or fail (with the city's reason). */
function readAnswer(op: Operation, p: Record<string, unknown>): Answer | 'bad' {
  if (p.state === 'fail') {
    const msg = typeof p.msg === 'string' && p.msg.trim() ? p.msg.trim().slice(0, 100) : '电子健康卡系统拒绝了该请求';
    return { problem: msg };
  }
  if (p.state === 'none') return op === 'find' ? undefined : 'bad';
  if (p.state !== 'success') return 'bad';
  const { ehealthCardId, cardNo, cardType } = p;
  if (typeof ehealthCardId !== 'string' || typeof cardNo !== 'string' || typeof cardType !== 'string') return 'bad';
  if (!/^[\w-]{1,64}$/.test(ehealthCardId) || !/^\w{1,12}$/.test(cardNo) || !/^\w{1,2}$/.test(cardType)) return 'bad';
  return { ehealthCardId, cardNo, cardType };
}
