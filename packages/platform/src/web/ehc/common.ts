import QRCode from 'qrcode';
import type { FastifyReply } from 'fastify';
import { page, raw, type Html } from '../html.js';

/** QR as inline SVG, rendered here: pages need no CDN and no client-side library. */
export async function qrSvg(text: string): Promise<Html> {
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return raw(svg);
}

export const EHC_CSS = `
.qr{width:100%;max-width:16rem;margin:.5rem auto;display:block;background:#fff}
.qr svg{width:100%;height:auto;display:block}
.code-text{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.75rem;word-break:break-all;text-align:center;color:#374151}
.center{text-align:center}
.actions{display:flex;gap:.5rem;flex-wrap:wrap;margin-top:1rem}
.actions>*{flex:1 1 8rem}
.actions form{margin:0}.actions form button{width:100%}
.big{font-size:1.25rem;font-weight:700}
.consent{display:flex;flex-wrap:wrap;gap:.4rem;align-items:flex-start;margin:.8rem 0 0}
.consent input{width:auto;margin:.35rem 0 0}.consent label{flex:1 1 0;margin:0;font-weight:normal}
.consent .field-error{flex:1 1 100%}
dl.kv{display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem;margin:0}
dl.kv dt{color:#6b7280}dl.kv dd{margin:0}
.notice{padding:.75rem;border-radius:.375rem;background:#fef3c7;color:#92400e;margin-bottom:1rem}
.notice.bad{background:#fee2e2;color:#991b1b}.notice.ok{background:#d1fae5;color:#065f46}
`;

export function sendPage(
  reply: FastifyReply,
  title: string,
  body: Html,
  opts: { status?: number; scripts?: string[]; headerRight?: Html } = {},
): FastifyReply {
  return reply
    .code(opts.status ?? 200)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(
      page({
        title,
        body,
        css: EHC_CSS,
        ...(opts.scripts ? { scripts: opts.scripts } : {}),
        ...(opts.headerRight ? { headerRight: opts.headerRight } : {}),
      }),
    );
}

/** `next` after sign-in: only our own card pages, so the form cannot be used as an open redirect. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/card(\/[A-Za-z0-9_-]+)*$/.test(next) ? next : '/card';
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}
