import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkSignature, extractPayload, sealResponse, type CallbackRequest, type Envelope } from '@mdl/protocol';

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
        let env: Envelope;
        let payload: Record<string, unknown>;
        try {
          env = JSON.parse(body) as Envelope;
          const opened = extractPayload(env, this.secret, { allowPlain: false, payloadRequired: true });
          checkSignature(env, opened, this.secret, false);
          payload = opened.payload!;
        } catch (e) {
          this.refusedCalls.push(String(e));
          return send(sealResponse(undefined, { appId: this.appId, secret: this.secret, respCode: '000102' }));
        }
        if (req.url === '/umdl/callback') {
          if (this.failNext > 0) {
            this.failNext--;
            return send({ error: 'down' }, 500);
          }
          this.callbacks.push(payload as unknown as CallbackRequest);
          for (const w of this.#waiters.splice(0)) w();
          return send(sealResponse({ state: 'success', msg: '' }, { appId: this.appId, secret: this.secret, respCode: '000000' }));
        }
        if (req.url === '/qmdl/getOverdueResult') {
          const state = this.states.get(String(payload.orgTraceId)) ?? '0';
          return send(sealResponse({ state }, { appId: this.appId, secret: this.secret, respCode: '000000' }));
        }
        send({ respCode: '-5' }, 404);
      });
    });
    await new Promise<void>((r) => this.#server!.listen(port, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.url;
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
