import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

/**
 * Fastify's default schema compilers (ajv for validation, fast-json-stringify for responses), loaded only when
 * a route first needs one instead of when the app is built: loading them is a large part of the start-up time,
 * and the interfaces validate their payloads through @mdl/protocol's schemas, not through route schemas.
 * With a compiler factory given, Fastify no longer lower-cases the property names of `headers` schemas: write
 * them in lower case.
 */
export function lazySchemaCompilers(): NonNullable<FastifyServerOptions['schemaController']> {
  // Resolved from Fastify's own folder: the compilers are its dependencies, not ours.
  const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
  type Builder = (...args: unknown[]) => unknown;
  const lazy = (module: string): Builder => {
    let build: Builder | undefined;
    return (...args) => (build ??= (fromFastify(module) as () => Builder)())(...args);
  };
  // Page routes have schemas (web/route-schemas.ts), and Fastify compiles a route's validator when the route is
  // added: each one is compiled on its route's first request instead, so start-up still loads no ajv.
  type Validate = ((data: unknown, context?: unknown) => unknown) & { errors?: unknown };
  const lazyValidation = (...args: unknown[]) => {
    let compile: ((route: unknown) => Validate) | undefined;
    return (route: unknown): Validate => {
      let inner: Validate | undefined;
      const validate: Validate = (data, context) => {
        inner ??= (compile ??= lazy('@fastify/ajv-compiler')(...args) as (route: unknown) => Validate)(route);
        const result = inner(data, context);
        validate.errors = inner.errors;
        return result;
      };
      return validate;
    };
  };
  return {
    compilersFactory: {
      buildValidator: lazyValidation as never,
      buildSerializer: lazy('@fastify/fast-json-stringify-compiler') as never,
    },
  };
}
