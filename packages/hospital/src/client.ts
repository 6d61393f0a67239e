import {
  INTERFACES,
  MAX_ITEMS_PER_CALL,
  MdlError,
  RespCode,
  SIGN_VERSION,
  SIGN_VERSION_HEADER,
  identityProblem,
  openReply,
  sealRequest,
  validate,
} from '@mdl/protocol';
import type { AcceptResponse, ReportOverdueDataRequest, RequestOf, ResponseOf, UnsettledPerson } from '@mdl/protocol';
import { type OrgInfo, type PersonUpdate, itemCount, planReport, planUpdates } from './batching.js';
import { ConnectionError, InvalidRequestError, PlatformError, errorForCode } from './errors.js';

export type PlatformInterface = Exclude<keyof typeof INTERFACES, 'ORG_001' | 'ORG_002'>;
// The payload types of an interface live in protocol (the gateway's handlers use them too); exported here as before.
export type { RequestOf, ResponseOf };

export interface PlatformClientOptions {
  /** Platform address including any path prefix, e.g. `https://mdl.example.gov.cn/api`. */
  baseUrl: string;
  appId: string;
  secret: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** Extra attempts after the first for retryable failures (default 3). */
  maxRetries?: number;
  /** Per attempt (default 30 s). */
  timeoutMs?: number;
  /** First backoff step (default 500 ms) and its cap (default 30 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** PLAIN is for test credentials only (guide §4.1.2.1). */
  encryptType?: 'SM4' | 'PLAIN';
  signType?: 'SM3' | 'PLAIN';
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface CallOptions {
  timeoutMs?: number;
  maxRetries?: number;
  signal?: AbortSignal;
  /** Told before each retry, e.g. to log it. */
  onRetry?: (info: { attempt: number; delayMs: number; error: PlatformError }) => void;
}

export interface BatchOutcome {
  orgRequestId: string;
  itemCount: number;
  response: AcceptResponse;
}

export interface ReportAllOptions extends CallOptions, OrgInfo {
  /** Prefix of the derived orgRequestIds (default `R`). */
  requestIdPrefix?: string;
  onBatch?: (done: BatchOutcome, index: number, total: number) => void;
}

export type UpdateAllOptions = ReportAllOptions;

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Typed client for every interface the platform serves (guide §4.3, §4.5), in the style of stripe-node. */
export class PlatformClient {
  readonly appId: string;
  private readonly baseUrl: string;
  private readonly secret: string;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly maxRetries: number;
  private readonly timeoutMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly encryptType: string;
  private readonly signType: string;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(opts: PlatformClientOptions) {
    if (!opts.baseUrl) throw new Error('PlatformClient: baseUrl is required');
    if (!opts.appId || !opts.secret) throw new Error('PlatformClient: appId and secret are required');
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.appId = opts.appId;
    this.secret = opts.secret;
    this.fetchImpl = opts.fetch ?? globalThis.fetch;
    this.now = opts.now ?? Date.now;
    this.maxRetries = opts.maxRetries ?? 3;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.retryBaseMs = opts.retryBaseMs ?? 500;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
    this.encryptType = opts.encryptType ?? 'SM4';
    this.signType = opts.signType ?? 'SM3';
    this.sleep = opts.sleep ?? defaultSleep;
    this.random = opts.random ?? Math.random;
  }

  // One method per interface; parameter and result types come from the protocol package's schemas.
  readonly reportOverdueData = this.method('ORG_MDL_001');
  readonly queryOverdueData = this.method('ORG_MDL_002');
  readonly updateOverdueData = this.method('ORG_MDL_003');
  readonly getIntoMdlUrl = this.method('ORG_MDL_004');
  readonly queryReportResult = this.method('ORG_MDL_005');
  readonly genAuthUrl = this.method('ORG_EHC_001');
  readonly queryAuthResult = this.method('ORG_EHC_002');
  readonly verifyQrCode = this.method('ORG_EHC_003');
  readonly queryEcAuthResult = this.method('ORG_EHC_004');

  private method<C extends PlatformInterface>(code: C) {
    return (params: RequestOf<C>, options?: CallOptions): Promise<ResponseOf<C>> =>
      this.call(code, params, options) as Promise<ResponseOf<C>>;
  }

  /**
   * Reports any number of unsettled items: grouped by person, ≤100 items per call, each call with
   * an orgRequestId derived from its content. Every batch is validated before the first is sent.
   * Running it again with the same items is safe: the ids repeat and the platform does not
   * process a known orgRequestId twice.
   */
  async reportAll(persons: readonly UnsettledPerson[], opts: ReportAllOptions): Promise<BatchOutcome[]> {
    const plan = planReport(persons, opts, opts.requestIdPrefix ?? 'R');
    plan.forEach((req) => checkRequest('ORG_MDL_001', req));
    return this.sendPlan(plan, (req) => this.reportOverdueData(req, opts), itemCount, opts);
  }

  /** Updates any number of items (paid: state 1, revoked: state 2), split as ORG_MDL_003 requires. */
  async updateAll(updates: readonly PersonUpdate[], opts: UpdateAllOptions): Promise<BatchOutcome[]> {
    const plan = planUpdates(updates, opts, opts.requestIdPrefix ?? 'U');
    plan.forEach((req) => checkRequest('ORG_MDL_003', req));
    return this.sendPlan(
      plan,
      (req) => this.updateOverdueData(req, opts),
      (r) => r.itemList.length,
      opts,
    );
  }

  private async sendPlan<R extends { orgRequestId: string }>(
    plan: R[],
    send: (req: R) => Promise<AcceptResponse>,
    count: (req: R) => number,
    opts: ReportAllOptions,
  ): Promise<BatchOutcome[]> {
    const out: BatchOutcome[] = [];
    for (const [i, req] of plan.entries()) {
      const response = await send(req);
      if (response.state !== 'success') {
        throw new PlatformError(RespCode.APP_UNKNOWN_ERROR, `批次 ${req.orgRequestId} 未被平台接收: ${response.msg ?? response.state}`);
      }
      const done = { orgRequestId: req.orgRequestId, itemCount: count(req), response };
      out.push(done);
      opts.onBatch?.(done, i, plan.length);
    }
    return out;
  }

  /** One interface call with the envelope, reply verification and the retry policy. */
  async call(code: PlatformInterface, params: object, options: CallOptions = {}): Promise<Record<string, unknown>> {
    checkRequest(code, params);
    const maxRetries = options.maxRetries ?? this.maxRetries;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(code, params, options);
      } catch (e) {
        const err = asPlatformError(e);
        err.interfaceCode = code;
        if (!err.retryable || attempt >= maxRetries || options.signal?.aborted) throw err;
        const delayMs = this.backoff(attempt);
        options.onRetry?.({ attempt: attempt + 1, delayMs, error: err });
        await this.sleep(delayMs);
      }
    }
  }

  private backoff(attempt: number): number {
    return backoffDelay(attempt, this.retryBaseMs, this.retryMaxMs, this.random);
  }

  /**
   * The guide's envelope has no nonce and SM4-ECB is deterministic: two calls with the same payload sealed in the
   * same millisecond (two booking desks asking about one patient, or their retries after a failover) would be the
   * same envelope, and the second a replay (010010). Each call of this client gets a timestamp of its own.
   */
  #lastStamp = 0;
  private stamp(): string {
    this.#lastStamp = Math.max(this.now(), this.#lastStamp + 1);
    return String(this.#lastStamp);
  }

  private async attempt(code: PlatformInterface, params: object, options: CallOptions): Promise<Record<string, unknown>> {
    // Sealed afresh per attempt: a new timestamp keeps a retry from being taken for a replay (010010).
    const env = sealRequest(params, {
      appId: this.appId,
      secret: this.secret,
      encryptType: this.encryptType,
      signType: this.signType,
      timestamp: this.stamp(),
    });
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchImpl(this.baseUrl + INTERFACES[code].path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8', [SIGN_VERSION_HEADER]: SIGN_VERSION },
        body: JSON.stringify(env),
        signal,
      });
      text = await res.text();
    } catch (e) {
      const why = timeout.aborted ? `请求超时 (${options.timeoutMs ?? this.timeoutMs} ms)` : `无法连接平台: ${errorText(e)}`;
      throw new ConnectionError(why, { cause: e });
    }
    if (res.status >= 500) throw new ConnectionError(`平台返回 HTTP ${res.status}`, { httpStatus: res.status });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ConnectionError(`平台应答不是 JSON (HTTP ${res.status})`, { httpStatus: res.status });
    }
    return this.open(code, body);
  }

  private open(code: PlatformInterface, body: unknown): Record<string, unknown> {
    const env = body as Record<string, unknown> | null;
    // Errors raised before the platform knows the caller (unknown appId, malformed JSON) come unsigned
    // (PROTOCOL.md). They carry no data, so failing on their code trusts nothing.
    if (
      env &&
      typeof env === 'object' &&
      !env.sign &&
      !env.encryptData &&
      typeof env.respCode === 'string' &&
      env.respCode !== RespCode.SUCCESS
    ) {
      throw errorForCode(env.respCode, typeof env.respMsg === 'string' && env.respMsg ? env.respMsg : undefined);
    }
    let reply;
    try {
      reply = openReply(body, this.secret, { allowPlain: this.encryptType === 'PLAIN' || this.signType === 'PLAIN' });
    } catch (e) {
      if (e instanceof MdlError && e.code === RespCode.BAD_SIGNATURE) throw errorForCode(e.code, `平台应答签名无效: ${e.message}`);
      if (e instanceof MdlError) throw errorForCode(e.code, `平台应答无法解析: ${e.message}`);
      throw e;
    }
    if (env && env.respCode === undefined) throw new PlatformError(RespCode.EXTERNAL, '平台应答缺少 respCode');
    if (reply.respCode !== RespCode.SUCCESS) throw errorForCode(reply.respCode, reply.respMsg || undefined);
    const payload = reply.payload ?? {};
    const issue = validate(INTERFACES[code].response, payload);
    if (issue) throw new PlatformError(RespCode.EXTERNAL, `平台应答格式不符: ${issue.path} ${issue.message}`);
    return payload;
  }
}

/** Exponential with "equal jitter": never below half the step, so retries cannot bunch at zero. */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const step = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(step / 2 + (random() * step) / 2);
}

/**
 * Whether an ORG_MDL_005 answer carries the final result. The platform answers `-3` (retryable) while a
 * batch is processing, so an answer is final; older platforms said `extData.status: processing`.
 */
export function resultReady(r: { reportResultList?: unknown[]; extData?: Record<string, unknown> }): boolean {
  return r.extData?.status !== 'processing';
}

/** Validates a request locally so a bad amount or date is caught before anything is sent. */
export function checkRequest(code: PlatformInterface, params: object): void {
  const issue = validate(INTERFACES[code].request, params);
  if (issue) throw new InvalidRequestError(`${issue.path}: ${issue.message}`, issue.path);
  const persons: { idNo?: string; idType?: string; userName?: string; ehealthCardId?: string }[] =
    code === 'ORG_MDL_001' ? ((params as ReportOverdueDataRequest).unsettleList ?? []) : code === 'ORG_MDL_003' ? [params] : [];
  for (const [i, p] of persons.entries()) {
    const problem = identityProblem(p);
    if (problem) throw new InvalidRequestError(code === 'ORG_MDL_001' ? `unsettleList[${i}]: ${problem}` : problem);
  }
  if (code === 'ORG_MDL_001') {
    const n = itemCount(params as ReportOverdueDataRequest);
    if (n > MAX_ITEMS_PER_CALL) throw new InvalidRequestError(`单次上报 ${n} 条, 超过 ${MAX_ITEMS_PER_CALL} 条上限, 请用 reportAll 分批`);
  }
}

function asPlatformError(e: unknown): PlatformError {
  if (e instanceof PlatformError) return e;
  if (e instanceof MdlError) return errorForCode(e.code, e.message);
  return new PlatformError(RespCode.UNKNOWN, errorText(e), { cause: e });
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
  }
  return String(e);
}
