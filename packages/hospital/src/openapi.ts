import { hospitalOpenApi, platformOpenApi, type OpenApiDocument } from '@mdl/protocol/openapi';
import { frontendOpenApi } from './frontend-routes.js';

/** Every checked-in document under docs/openapi/, by file name (`npm run docs:openapi` writes them). */
export function openApiDocuments(): Record<string, OpenApiDocument> {
  return { 'platform.json': platformOpenApi(), 'hospital.json': hospitalOpenApi(), 'frontend.json': frontendOpenApi() };
}
