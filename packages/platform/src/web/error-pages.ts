import type { FastifyReply, FastifyRequest } from 'fastify';
import { h, page, type Html } from './html.js';

/**
 * Pages for what went wrong outside any one area (unknown address, an unexpected error on a page): the same
 * frame as every page (viewport tag, Chinese), what happened in plain words and a way back. No technical
 * string reaches the reader; a request number lets support find the log line.
 */
/** What went wrong, in a card announced to screen readers, with the way back to the front page. */
function errorCard(heading: string, text: Html): Html {
  return h`<div class="card" role="alert"><h2>${heading}</h2><p>${text}</p>
<p><a class="button" href="/">返回首页</a></p></div>`;
}

export function notFoundPage(): string {
  return page({ title: '页面不存在', body: errorCard('页面不存在', h`您访问的地址不存在，可能已经失效或输入有误。`) });
}

export function serverErrorPage(requestId: string): string {
  const text = h`请稍后再试。如多次出现，请联系客服并提供请求编号：
<b>${requestId}</b>`;
  return page({ title: '系统繁忙', body: errorCard('系统暂时无法处理您的请求', text) });
}

/** What a page route says to a request of the wrong shape (its route schema refused it): no field names, no schema text. */
export const BAD_REQUEST_TEXT = '请求的内容不完整或格式不正确，请返回上一页重新操作。';

export function badRequestPage(): string {
  return page({ title: '请求有误', body: errorCard('请求有误', h`${BAD_REQUEST_TEXT}`) });
}

/**
 * Whether Fastify refused the request against a route schema. Only page routes have schemas (the interfaces
 * check their envelopes through @mdl/protocol), so such an error is always answered with a page.
 */
export function isSchemaError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && Array.isArray((err as { validation?: unknown }).validation);
}

/** A browser asking for a page (not a hospital system calling an interface). */
export function wantsPage(req: FastifyRequest): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && /text\/html/.test(req.headers.accept ?? '');
}

export function sendPage(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
}

/** The site's icon (a red cross on the header blue), served as SVG for every page. */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0f5fa8"/>' +
  '<path d="M13 6h6v7h7v6h-7v7h-6v-7H6v-6h7z" fill="#fff"/></svg>';
