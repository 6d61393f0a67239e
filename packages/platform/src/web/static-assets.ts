/**
 * Static files served under a content hash (`echarts.min.3f2a….js`): a URL names one content, so a
 * browser may keep it for a year without asking again, and a new release changes the URL. Each file
 * is compressed once per process (brotli and gzip, in the thread pool) and sent as the browser asks.
 */
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FileParams, pageRoutes } from './route-schemas.js';

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);

export interface AssetSource {
  /** The name pages refer to, e.g. `echarts.min.js`. */
  name: string;
  type: string;
  load: () => Buffer | string;
}

interface Asset {
  source: AssetSource;
  body: Buffer;
  hash: string;
  file: string;
  encoded?: Promise<{ br: Buffer; gzip: Buffer }>;
}

export const IMMUTABLE = 'public, max-age=31536000, immutable';

/** Which of br/gzip the request accepts (a `;q=0` refuses one), best first. */
export function acceptedEncoding(header: string | undefined): 'br' | 'gzip' | undefined {
  const accepted = new Set(
    (header ?? '')
      .split(',')
      .map((part) => part.trim().toLowerCase().split(';'))
      .filter(([, q]) => !q || Number(q.trim().replace(/^q=/, '')) > 0)
      .map(([name]) => name),
  );
  return accepted.has('br') ? 'br' : accepted.has('gzip') || accepted.has('*') ? 'gzip' : undefined;
}

export class StaticAssets {
  readonly #sources = new Map<string, AssetSource>();
  readonly #assets = new Map<string, Asset>();

  /** `urlPrefix` is where the files appear to browsers, e.g. `/console/assets`. */
  constructor(
    readonly urlPrefix: string,
    sources: AssetSource[],
  ) {
    for (const s of sources) this.#sources.set(s.name, s);
  }

  #asset(name: string): Asset {
    let a = this.#assets.get(name);
    if (!a) {
      const source = this.#sources.get(name);
      if (!source) throw new Error(`no static asset named ${name}`);
      const raw = source.load();
      const body = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
      const hash = createHash('sha256').update(body).digest('hex').slice(0, 16);
      const dot = name.lastIndexOf('.');
      a = { source, body, hash, file: `${name.slice(0, dot)}.${hash}${name.slice(dot)}` };
      this.#assets.set(name, a);
    }
    return a;
  }

  /** The versioned URL of a file. */
  url(name: string): string {
    return `${this.urlPrefix}/${this.#asset(name).file}`;
  }

  /** Registers `GET <routePrefix>/:file` on an app (or an encapsulated plugin whose prefix makes up the rest). */
  register(app: FastifyInstance, routePrefix: string): void {
    pageRoutes(app).get(`${routePrefix}/:file`, { schema: { params: FileParams } }, (req, reply) =>
      this.#serve(req.params.file, req, reply),
    );
  }

  async #serve(file: string, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    // `name.<hash>.ext`: the hash is the second-to-last dot-separated part.
    const m = /^(.+)\.([0-9a-f]{16})(\.[^.]+)$/.exec(file);
    const name = m ? `${m[1]}${m[3]}` : file;
    if (!this.#sources.has(name)) return reply.code(404).type('text/plain; charset=utf-8').send('文件不存在');
    const a = this.#asset(name);
    // Another hash is an older or newer release (a rolling upgrade behind a load balancer): answer with
    // this content, but let nobody keep it under that URL.
    const current = m?.[2] === a.hash;
    reply
      .header('cache-control', current ? IMMUTABLE : 'no-cache')
      .header('etag', `"${a.hash}"`)
      .header('vary', 'accept-encoding')
      .type(a.source.type);
    if (req.headers['if-none-match'] === `"${a.hash}"`) return reply.code(304).send();
    const encoding = acceptedEncoding(req.headers['accept-encoding']);
    if (!encoding) return reply.send(a.body);
    a.encoded ??= Promise.all([
      brotli(a.body, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: a.body.length } }),
      gz(a.body, { level: 9 }),
    ]).then(([br, gzip]) => ({ br, gzip }));
    const encoded = await a.encoded;
    return reply.header('content-encoding', encoding).send(encoding === 'br' ? encoded.br : encoded.gzip);
  }
}
