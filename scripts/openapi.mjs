#!/usr/bin/env node
// Writes docs/openapi/*.json from the protocol's schemas and the client types generated from them
// (openapi-typescript). Run after `npm run build`; a test checks that the files are up to date.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDocuments } from '@mdl/hospital';
import { generatedClientTypes, OPENAPI_DIR, CLIENT_TYPES_FILE } from '../test/dist/support/openapi.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, OPENAPI_DIR), { recursive: true });
for (const [name, doc] of Object.entries(openApiDocuments())) {
  writeFileSync(join(root, OPENAPI_DIR, name), JSON.stringify(doc, null, 2) + '\n');
  console.log(`wrote ${OPENAPI_DIR}/${name}`);
}
writeFileSync(join(root, CLIENT_TYPES_FILE), await generatedClientTypes());
console.log(`wrote ${CLIENT_TYPES_FILE}`);
