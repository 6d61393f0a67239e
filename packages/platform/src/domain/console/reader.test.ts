import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../../testing.js';
import { upsertInstitution } from '../credentials.js';
import type { Actor } from './auth.js';
import { consoleReader, OutOfScopeError } from './reader.js';

const staffOfA: Actor = { userId: 2, username: 'staff-a', role: 'staff', orgId: 'HREADERA', csrf: 'x' };
const operator: Actor = { userId: 1, username: 'ops', role: 'operator', orgId: null, csrf: 'x' };

describe('consoleReader: the scope of institution staff, applied in one place', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({}, { queue: false });
    await upsertInstitution(t.platform.db, { orgId: 'HREADERA', orgName: '甲医院' });
    await upsertInstitution(t.platform.db, { orgId: 'HREADERB', orgName: '乙医院' });
  });
  after(() => t.close());

  it("staff read their own institution and never another's", async () => {
    const reader = consoleReader(t.platform, staffOfA);
    assert.deepEqual(
      (await reader.institutions()).map((i) => i.org_id),
      ['HREADERA'],
    );
    assert.ok(await reader.institution('HREADERA'));
    assert.equal(await reader.institution('HREADERB'), undefined, 'asking for another institution by its id finds nothing');
    assert.deepEqual(await reader.batches({ orgId: 'HREADERB' }), [], 'a filter naming another institution finds nothing');
  });

  it('staff are refused the platform-wide reads (audit trail, reminders, accounts, policy history)', async () => {
    const reader = consoleReader(t.platform, staffOfA);
    await assert.rejects(reader.auditTrail({}, 10), OutOfScopeError);
    await assert.rejects(reader.reminders(undefined), OutOfScopeError);
    await assert.rejects(reader.reminderCounts(), OutOfScopeError);
    await assert.rejects(reader.users(), OutOfScopeError);
    await assert.rejects(reader.policyHistory(), OutOfScopeError);
  });

  it('an operator reads every institution and the platform-wide reads', async () => {
    const reader = consoleReader(t.platform, operator);
    const ids = (await reader.institutions()).map((i) => i.org_id);
    assert.ok(ids.includes('HREADERA') && ids.includes('HREADERB'));
    assert.ok(Array.isArray(await reader.auditTrail({}, 10)));
  });
});
