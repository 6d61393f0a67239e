import type { FastifyPluginAsync } from 'fastify';
import { hospitalOpenApi, platformOpenApi, renderOpenApiHtml, type OpenApiDocument } from '@mdl/protocol/openapi';
import type { Platform } from '../platform.js';

const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The machine-readable contract (OpenAPI 3.1, generated from the protocol's schemas) and a page that
 * shows it. Public: it holds nothing a hospital's vendor may not read.
 */
export const apiDocsPlugin: FastifyPluginAsync<{ platform: Platform }> = async (app, { platform }) => {
  // The server URL is only known once the platform listens (tests set publicUrl then): built per URL, once.
  const cache = new Map<string, { platform: OpenApiDocument; hospital: OpenApiDocument }>();
  const documents = () => {
    const serverUrl = platform.config.publicUrl + platform.config.apiPrefix;
    let docs = cache.get(serverUrl);
    if (!docs) cache.set(serverUrl, (docs = { platform: platformOpenApi({ serverUrl }), hospital: hospitalOpenApi() }));
    return docs;
  };
  const links = [
    { href: '/docs', text: '平台接口' },
    { href: '/docs/hospital', text: '医疗机构提供的接口（ORG_001、ORG_002）' },
  ];

  app.get('/openapi.json', async (_req, reply) => reply.header('cache-control', 'no-cache').send(documents().platform));
  app.get('/openapi/hospital.json', async (_req, reply) => reply.header('cache-control', 'no-cache').send(documents().hospital));
  app.get('/docs', async (_req, reply) =>
    reply
      .header('content-security-policy', DOCS_CSP)
      .type('text/html; charset=utf-8')
      .send(renderOpenApiHtml(documents().platform, { jsonUrl: '/openapi.json', links })),
  );
  app.get('/docs/hospital', async (_req, reply) =>
    reply
      .header('content-security-policy', DOCS_CSP)
      .type('text/html; charset=utf-8')
      .send(renderOpenApiHtml(documents().hospital, { jsonUrl: '/openapi/hospital.json', links })),
  );
};
