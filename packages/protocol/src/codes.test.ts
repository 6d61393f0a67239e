import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { RESP_MESSAGES, RespCode } from './index.js';

const doc = readFileSync(resolve(dirname(fileURLToPath(import.meta.url)), '../../../docs/error-codes.md'), 'utf8');

it('docs/error-codes.md documents exactly the codes of the code table, with their messages', () => {
  const rows = [...doc.matchAll(/^\| `([^`]+)` \| ([^|]+) \|/gm)].map((m) => [m[1]!, m[2]!.trim()] as const);
  const documented = new Map(rows);
  assert.deepEqual([...documented.keys()].sort(), Object.keys(RESP_MESSAGES).sort());
  for (const [code, msg] of Object.entries(RESP_MESSAGES)) assert.equal(documented.get(code), msg, code);
  assert.deepEqual(new Set(Object.values(RespCode)), new Set(Object.keys(RESP_MESSAGES)));
});
