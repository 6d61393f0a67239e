import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { planReport } from './batching.js';
import { Outbox } from './outbox.js';
import { makePersons } from './testing/fixtures.js';

describe('outbox log', () => {
  it('ignores a torn last line and folds a long log back to one line per entry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mdl-outbox-'));
    const box = await Outbox.open(dir);
    const [req] = planReport(makePersons(2), { orgId: 'H35010200001', orgName: '医院', notifyUrl: 'http://127.0.0.1/umdl/callback' });
    await box.enqueue('report', req!);
    const file = join(dir, 'outbox.jsonl');
    const attempts = Array.from({ length: 300 }, () =>
      JSON.stringify({ t: 'attempt', id: req!.orgRequestId, error: '000100 无法连接平台' }),
    );
    await appendFile(file, '\n' + attempts.join('\n') + '\n{"t":"sent","id":"' + req!.orgRequestId.slice(0, 5));
    const again = await Outbox.open(dir);
    assert.deepEqual(
      again.list().map((e) => [e.status, e.attempts]),
      [['pending', 300]],
    );
    assert.deepEqual(again.get(req!.orgRequestId)!.payload, req);
    assert.equal((await readFile(file, 'utf8')).trim().split('\n').length, 1);
  });
});
