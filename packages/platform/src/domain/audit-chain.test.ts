import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../testing.js';
import { auditEvent, auditMany } from './audit.js';
import { MAX_PER_SEAL, sealAudit, verifyAudit } from './audit-chain.js';

/**
 * A worker that starts behind (API processes write events, only workers seal) seals its backlog in blocks of at
 * most MAX_PER_SEAL events, each chained to the one before, and the trail verifies whole (tampering with a sealed
 * trail: cli/audit.test.ts).
 */
describe('audit seals over a backlog of several blocks', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({}, { queue: false });
  });
  after(() => t?.close());

  it('seals 2.4 blocks of events as three chained seals, none over the block size, and verifies', async () => {
    const { db, vault } = t.platform;
    await sealAudit(db, vault);
    const before = await db.selectFrom('audit_seal').select('id').execute();
    const n = Math.floor(MAX_PER_SEAL * 2.4);
    for (let i = 0; i < n; i += 1000) {
      const events = Array.from({ length: Math.min(1000, n - i) }, (_, k) =>
        auditEvent('app', 'app-backlog', 'arrears.query', { orgId: 'H1', requestId: `backlog-${i + k}`, respCode: '000000' }),
      );
      await auditMany(db, events);
    }
    const sealed: number[] = [];
    for (let got = -1; got !== 0;) {
      got = await sealAudit(db, vault);
      if (got) sealed.push(got);
    }
    assert.deepEqual(sealed, [MAX_PER_SEAL, MAX_PER_SEAL, n - 2 * MAX_PER_SEAL]);
    const seals = await db
      .selectFrom('audit_seal')
      .selectAll()
      .where('id', 'not in', before.length ? before.map((s) => s.id) : [0])
      .orderBy('id')
      .execute();
    assert.equal(seals.length, 3);
    for (let k = 1; k < seals.length; k++) {
      assert.equal(Number(seals[k]!.first_id), Number(seals[k - 1]!.last_id), 'each seal starts where the one before ended');
      assert.equal(seals[k]!.prev_hash, seals[k - 1]!.hash, 'each seal is chained to the one before');
    }
    const ok = await verifyAudit(db, vault, t.platform.now());
    assert.equal(ok.ok, true, JSON.stringify(ok));
  });
});
