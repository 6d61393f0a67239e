import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openRequest, sealResponse, type CallbackRequest } from '@mdl/protocol';

/**
 * A hospital on loopback for end-to-end tests: serves ORG_002 (/umdl/callback) and ORG_001
 * (/qmdl/getOverdueResult) with real envelopes, and records what it received.
 */
export class TestHospital {
  readonly callbacks: CallbackRequest[] = [];
  readonly refusedCalls: string[] = [];
  /** The X-Request-Id of each call received (ORG_001 and ORG_002 alike), in order. */
  readonly requestIds: (string | undefined)[] = [];
  /** The next N callbacks are answered with HTTP 500. */
  failNext = 0;
  /** Item states ORG_001 answers, by orgTraceId. */
  readonly states = new Map<string, string>();
  #server: Server | undefined;
  #waiters: (() => void)[] = [];
  url = '';

  constructor(
    readonly appId: string,
    readonly secret: string,
  ) {}

  async start(port = 0): Promise<string> {
    this.#server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        const given = req.headers['x-request-id'];
        this.requestIds.push(typeof given === 'string' ? given : undefined);
        const send = (obj: unknown, status = 200) => {
          res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
          res.end(JSON.stringify(obj));
        };
        void this.#answer(req.url, body).then(([obj, status]) => send(obj, status));
      });
    });
    await new Promise<void>((r) => this.#server!.listen(port, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.url;
  }

  /**
   * Opens the call as the hospital kit does (protocol's `openRequest`, no PLAIN). No timestamp window: tests
   * drive the platform with clocks of their own.
   */
  async #answer(url: string | undefined, body: string): Promise<[unknown, number?]> {
    const opened = await openRequest(body, {
      credential: (appId) => (appId === this.appId ? { appId, secret: this.secret, allowPlain: false } : undefined),
      now: Date.now(),
      toleranceMs: 0,
    });
    if (!opened.ok) {
      this.refusedCalls.push(String(opened.error));
      return [sealResponse(undefined, { appId: this.appId, secret: this.secret, respCode: '000102' })];
    }
    const payload = opened.payload;
    if (url === '/umdl/callback') {
      if (this.failNext > 0) {
        this.failNext--;
        return [{ error: 'down' }, 500];
      }
      this.callbacks.push(payload as unknown as CallbackRequest);
      for (const w of this.#waiters.splice(0)) w();
      return [sealResponse({ state: 'success', msg: '' }, { appId: this.appId, secret: this.secret, respCode: '000000' })];
    }
    if (url === '/qmdl/getOverdueResult') {
      const state = this.states.get(String(payload.orgTraceId)) ?? '0';
      return [sealResponse({ state }, { appId: this.appId, secret: this.secret, respCode: '000000' })];
    }
    return [{ respCode: '-5' }, 404];
  }

  /** Resolves once `n` callbacks have arrived in total. */
  async waitForCallbacks(n: number, timeoutMs = 20_000): Promise<CallbackRequest[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.callbacks.length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${n} callbacks, got ${this.callbacks.length}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 500));
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.callbacks;
  }

  async stop(): Promise<void> {
    await new Promise<void>((r) => this.#server?.close(() => r()) ?? r());
  }
}
