import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PageApp } from '../route-schemas.js';
import type { Actor, Role } from '../../domain/console/auth.js';
import { consoleReader, type ConsoleReader } from '../../domain/console/reader.js';
import type { Platform } from '../../platform.js';

/**
 * What every console page module needs from the console plugin, kept apart from plugin.ts so that the page
 * modules do not import the plugin that imports them (no cycle).
 */
declare module 'fastify' {
  interface FastifyRequest {
    consoleActor: Actor | null;
  }
}

export const SESSION_COOKIE = 'mdl_console';

/** An HTTP error the console shows as a page: 403 for a role that may not act, 404 for what is not yours. */
export class ConsoleHttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

export function actorOf(req: FastifyRequest): Actor {
  if (!req.consoleActor) throw new ConsoleHttpError(401, '请先登录');
  return req.consoleActor;
}

/** Role check at the door of every handler; data-level scoping happens in the queries themselves. */
export function need(req: FastifyRequest, ...roles: Role[]): Actor {
  const actor = actorOf(req);
  if (!roles.includes(actor.role)) throw new ConsoleHttpError(403, '当前账户无权执行此操作');
  return actor;
}

export function notFound(what = '记录'): never {
  throw new ConsoleHttpError(404, `${what}不存在或无权查看`);
}

export interface ConsoleContext {
  /** Routes declare TypeBox schemas for their query, body and params (../route-schemas.ts). */
  app: PageApp;
  platform: Platform;
}

export function html(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body);
}

/** The console's reads for the signed-in actor, scoped to it once (domain/console/reader.ts). */
export function readerOf(platform: Platform, req: FastifyRequest): ConsoleReader {
  return consoleReader(platform, actorOf(req));
}
