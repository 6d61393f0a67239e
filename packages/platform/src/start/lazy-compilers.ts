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
  return {
    compilersFactory: {
      buildValidator: lazy('@fastify/ajv-compiler') as never,
      buildSerializer: lazy('@fastify/fast-json-stringify-compiler') as never,
    },
  };
}
