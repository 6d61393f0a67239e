import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { residentId } from '@mdl/protocol';
import { getOrRegisterPerson } from '../domain/persons.js';
import { startTestPlatform, testItem, type TestPlatform } from '../testing.js';
import { insertNewItemRows } from './item-rows.js';

const ORG = 'H35010000098';

const idOf = (seq: number) => residentId('350102', '19800101', seq);

/**
 * An item's person must exist (migration 017): the check runs once per insert, not once per row, and rests on
 * persons never being deleted or renumbered. Each half is attacked here through the runtime connection.
 */
describe('an item names a person who exists', () => {
  let t: TestPlatform;
  let personId: number;

  before(async () => {
    t = await startTestPlatform({}, { queue: false });
    const who = { idType: '01', idNo: idOf(1), userName: '林一' };
    personId = Number((await getOrRegisterPerson(t.platform.db, t.platform.vault, who)).person.id);
  });
  after(() => t?.close());

  const items = (prefix: string) => t.platform.db.selectFrom('arrears_item').select('id').where('trace_id', 'like', `${prefix}%`).execute();
  const real = (trace_id: string, person_id: number) => testItem({ trace_id, org_id: ORG, real_name: true, person_id });

  it('stores items of existing persons, and takes no lock on the person to do it', async () => {
    const inserted = await insertNewItemRows(t.platform.db, [
      real('TPK1', personId),
      real('TPK2', personId),
      testItem({ trace_id: 'TPK3', org_id: ORG }),
    ]);
    assert.equal(inserted.size, 3);
    // A foreign key's check locks the row FOR KEY SHARE, which writes its xmax; the statement check reads only.
    const row = await sql<{ xmax: string }>`SELECT xmax::text AS xmax FROM person WHERE id = ${personId}`.execute(t.platform.db);
    assert.equal(row.rows[0]!.xmax, '0');
  });

  it('refuses a batch with one item of a person who does not exist, and keeps none of it', async () => {
    const batch = [real('TPX1', personId), real('TPX2', personId + 1_000_000), real('TPX3', personId)];
    await assert.rejects(insertNewItemRows(t.platform.db, batch), (e: { code?: string; message: string }) => {
      assert.equal(e.code, '23503', e.message);
      return true;
    });
    assert.equal((await items('TPX')).length, 0);
  });

  it('refuses an update that moves an item to a person who does not exist, and allows one to a person who does', async () => {
    await insertNewItemRows(t.platform.db, [testItem({ trace_id: 'TPU1', org_id: ORG })]);
    const move = (to: number) =>
      t.platform.db.updateTable('arrears_item').set({ real_name: true, person_id: to }).where('trace_id', '=', 'TPU1').execute();
    await assert.rejects(move(personId + 1_000_000), (e: { code?: string }) => e.code === '23503');
    await move(personId);
    const back = await t.platform.db
      .selectFrom('arrears_item')
      .select('person_id')
      .where('trace_id', '=', 'TPU1')
      .executeTakeFirstOrThrow();
    assert.equal(Number(back.person_id), personId);
  });

  it('refuses to delete, truncate or renumber a person, with items or without', async () => {
    const other = await getOrRegisterPerson(t.platform.db, t.platform.vault, { idType: '01', idNo: idOf(2), userName: '林二' });
    const otherId = Number(other.person.id);
    const kept = /person rows are kept|permission denied/;
    await assert.rejects(sql`DELETE FROM person WHERE id = ${otherId}`.execute(t.platform.db), kept);
    await assert.rejects(sql`DELETE FROM person WHERE id = ${personId}`.execute(t.platform.db), kept);
    await assert.rejects(sql`TRUNCATE person CASCADE`.execute(t.platform.db), kept);
    await assert.rejects(sql`UPDATE person SET id = ${otherId + 1_000_000} WHERE id = ${otherId}`.execute(t.platform.db), kept);
    // Other columns of a person still change (a phone number, a name under review).
    await t.platform.db.updateTable('person').set({ phone_enc: null }).where('id', '=', otherId).execute();
    const left = await t.platform.db.selectFrom('person').select('id').where('id', 'in', [personId, otherId]).execute();
    assert.equal(left.length, 2);
  });

  it('refuses concurrent inserts naming a missing person while good ones go through', async () => {
    const attempts = Array.from({ length: 8 }, (_, i) =>
      insertNewItemRows(t.platform.db, [real(`TPC${i}`, i % 2 ? personId : personId + 2_000_000 + i)]).then(
        () => 'stored',
        (e: { code?: string }) => (e.code === '23503' ? 'refused' : `error ${String(e)}`),
      ),
    );
    assert.deepEqual(await Promise.all(attempts), ['refused', 'stored', 'refused', 'stored', 'refused', 'stored', 'refused', 'stored']);
    assert.equal((await items('TPC')).length, 4);
  });
});
