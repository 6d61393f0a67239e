import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../testing.js';
import { AuditWriter, auditEvent, type AuditAction } from './audit.js';

/**
 * The group commit of the hot read paths: a caller is answered only once its own event is committed, however
 * many groups are committing at once, and a group that fails fails its own callers and nobody else's.
 */
describe('audit group commit', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({}, { queue: false });
  });
  after(() => t?.close());

  const query = (requestId: string) => auditEvent('app', 'app-1', 'arrears.query', { orgId: 'H1', requestId, respCode: '000000' });
  const committed = async (requestId: string) =>
    (await t.platform.db.selectFrom('audit_event').select('id').where('request_id', '=', requestId).execute()).length;

  it('answers each of 400 concurrent callers only after its event is committed, each event once', async () => {
    const writer = new AuditWriter(t.platform.db, 50, 2);
    const seenAtAnswer: number[] = [];
    await Promise.all(
      Array.from({ length: 400 }, async (_, i) => {
        await writer.write(query(`gc-${i}`));
        seenAtAnswer.push(await committed(`gc-${i}`));
      }),
    );
    assert.equal(seenAtAnswer.length, 400);
    assert.ok(
      seenAtAnswer.every((n) => n === 1),
      'every caller found its event committed when answered',
    );
    const total = await t.platform.db
      .selectFrom('audit_event')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('request_id', 'like', 'gc-%')
      .executeTakeFirstOrThrow();
    assert.equal(Number(total.n), 400);
  });

  it('rejects the callers of a group that cannot be written, and goes on writing the next groups', async () => {
    const writer = new AuditWriter(t.platform.db, 500, 2);
    // An action longer than its column: the INSERT of that group fails.
    const bad = auditEvent('app', 'app-1', 'x'.repeat(60) as AuditAction, { requestId: 'gc-bad' });
    await assert.rejects(writer.write(bad));
    assert.equal(await committed('gc-bad'), 0, 'nothing of the failed group was kept');
    await writer.write(query('gc-after'));
    assert.equal(await committed('gc-after'), 1, 'the writer still works after a failed group');
  });
  it('stores every text exactly as given, in order, whatever an array literal would make of it', async () => {
    // The group's columns travel as arrays (db/audit-rows.ts): quotes, backslashes, braces, commas, the word NULL
    // and an empty string must come back as they went in, and a missing value as NULL.
    const awkward = ['NULL', 'null', '', '"quoted"', 'back\\slash', '{braces}', 'a,b', '中文；全角', ' padded ', "it's"];
    const writer = new AuditWriter(t.platform.db, 50, 2);
    await Promise.all(
      awkward.map((text, i) =>
        writer.write(auditEvent('app', text, 'arrears.query', { target: text, detail: text, requestId: `aw-${i}` })),
      ),
    );
    await writer.write(auditEvent('app', 'app-x', 'arrears.query', { requestId: 'aw-null' }));
    const rows = await t.platform.db
      .selectFrom('audit_event')
      .select(['id', 'actor_id', 'target', 'detail', 'request_id', 'org_id'])
      .where('request_id', 'like', 'aw-%')
      .orderBy('id')
      .execute();
    assert.deepEqual(
      rows.map((r) => [r.request_id, r.actor_id, r.target, r.detail]),
      // An empty target or detail is stored as none (`clip`); the actor id is kept as it is, empty too.
      [...awkward.map((text, i) => [`aw-${i}`, text, text || null, text || null]), ['aw-null', 'app-x', null, null]],
    );
    assert.ok(rows.every((r) => r.org_id === null));
  });
});
