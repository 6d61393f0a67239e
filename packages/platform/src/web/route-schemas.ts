import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';

/**
 * The shapes page routes accept, as TypeBox schemas that Fastify checks before the handler runs and that type
 * `req.query`, `req.body` and `req.params` (through `withTypeProvider<TypeBoxTypeProvider>()`), in place of casts.
 *
 * Forms and query strings are checked for shape only: every field is a string (or several strings when a name
 * repeats, as checkboxes do), so that a wrong value still reaches the page's own validation and is answered in
 * Chinese beside its field, as before. A request of the wrong shape (a JSON or text body posted to a form) is
 * refused with the styled 400 page (error-pages.ts), never with JSON.
 */

/** One field: a string, or several when the name repeats (checkboxes, multi-selects). */
export const FieldValue = Type.Union([Type.String(), Type.Array(Type.String())]);

/** A query string or an HTML form (application/x-www-form-urlencoded or multipart text fields). */
export const Fields = Type.Record(Type.String(), FieldValue);
export type Fields = Static<typeof Fields>;

/** A form post; a POST with no body at all reads as an empty form (`req.body ?? {}`). */
export const FormBody = Type.Union([Fields, Type.Null()]);
export type FormBody = Static<typeof FormBody>;

/** `/…/:id`: the id stays a string so that a malformed one gets the page's own 404 (「…不存在」), as before. */
export const IdParams = Type.Object({ id: Type.String() });

/** `/…/:token`: a one-time link's token. */
export const TokenParams = Type.Object({ token: Type.String() });

/** `/institutions/:orgId…`. */
export const OrgParams = Type.Object({ orgId: Type.String() });

/** `/apps/:appId/…`. */
export const AppParams = Type.Object({ appId: Type.String() });

/** `/once/:kind`: which one-time secret page. */
export const KindParams = Type.Object({ kind: Type.String() });

/** `/assets/:file`. */
export const FileParams = Type.Object({ file: Type.String() });

/** Reads one field of a body that has not been through a route schema (hooks that run for every route). */
export function fieldOf(body: unknown, name: string): unknown {
  return body && typeof body === 'object' && !Buffer.isBuffer(body) ? (body as Record<string, unknown>)[name] : undefined;
}

/** A Fastify instance whose routes take their request types from their TypeBox schemas. */
export type PageApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export function pageRoutes(app: FastifyInstance): PageApp {
  return app.withTypeProvider<TypeBoxTypeProvider>();
}
