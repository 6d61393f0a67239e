import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MdlError, residentId } from '@mdl/protocol';
import { startTestPlatform, type TestPlatform } from '../../testing.js';
import { queryArrears } from '../arrears.js';
import type { Caller } from '../credentials.js';
import { DEFAULT_POLICY } from '../eligibility.js';
import { cardView, getOrRegisterPerson } from '../persons.js';
import { runDataUpgrades } from './upgrade.js';

const idOf = (birth: string, seq: string) => residentId('350102', birth, Number(seq));

const caller: Caller = { appId: 'app-x', kind: 'institution', orgId: 'H35010200001', env: 'prod', secret: '' };

describe('name index keyed per person; sex and birthday not stored (issue #12)', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({}, { queue: false });
  });
  after(async () => t?.close());

  const query = (idNo: string, userName: string, ehealthCardId: string) =>
    queryArrears(
      t.platform.db,
      t.platform.vault,
      t.platform.readModel,
      caller,
      { businessType: '01101', idType: '01', idNo, userName, ehealthCardId },
      DEFAULT_POLICY,
      Date.now(),
    );

  it('two people of the same name have unrelated name indexes, and the 强校验 still holds', async () => {
    const { db, vault } = t.platform;
    const a = (await getOrRegisterPerson(db, vault, { idType: '01', idNo: idOf('19900307', '123'), userName: '林晓梅' })).person;
    const b = (await getOrRegisterPerson(db, vault, { idType: '01', idNo: idOf('19851111', '224'), userName: '林晓梅' })).person;
    assert.notEqual(a.name_bidx, b.name_bidx);
    const rows = await db.selectFrom('arrears_subject').select('name_bidx').where('person_id', 'in', [a.id, b.id]).execute();
    assert.equal(new Set(rows.map((r) => r.name_bidx)).size, 2);
    const ok = await query(idOf('19900307', '123'), '林晓梅', a.ehealth_card_id);
    assert.equal(ok.decision.unpaidCount, 0);
    await assert.rejects(
      query(idOf('19900307', '123'), '林晓海', a.ehealth_card_id),
      (e: unknown) => e instanceof MdlError && /姓名/.test(e.message),
    );
  });

  it('sex and birthday are derived from the sealed ID number, not read from clear columns', async () => {
    const { db, vault } = t.platform;
    const cols = await db.selectFrom('person').selectAll().limit(1).executeTakeFirstOrThrow();
    assert.ok(!('sex' in cols) && !('birthday' in cols), 'no clear sex or birthday column');
    const p = (await getOrRegisterPerson(db, vault, { idType: '01', idNo: idOf('19900307', '123'), userName: '林晓梅' })).person;
    const v = cardView(vault, p);
    assert.equal(v.birthday, '19900307');
    assert.equal(v.userSex, '1'); // the 17th digit (3) is odd
    const passport = (await getOrRegisterPerson(db, vault, { idType: '03', idNo: 'E12345678', userName: 'ANNA LEE' })).person;
    const pv = cardView(vault, passport);
    assert.equal(pv.userSex, '0');
    assert.equal(pv.birthday, undefined);
  });

  it('the upgrade re-keys name indexes written the old way (HMAC of the name alone), read model too', async () => {
    const { db, vault, database } = t.platform;
    const idNo = idOf('19700101', '335');
    const p = (await getOrRegisterPerson(db, vault, { idType: '01', idNo, userName: '陈大文' })).person;
    const old = vault.index('name', '陈大文');
    await db.updateTable('person').set({ name_bidx: old }).execute();
    await db.updateTable('arrears_subject').set({ name_bidx: old }).where('person_id', '=', p.id).execute();
    await db.updateTable('key_task').set({ done: false, cursor_key: '', rows_done: 0 }).where('task', '=', 'upgrade-013').execute();
    // Before the upgrade the right name no longer matches: the check really reads the column.
    await assert.rejects(query(idNo, '陈大文', p.ehealth_card_id));
    await runDataUpgrades(database, vault);
    const after = await db.selectFrom('person').select(['id', 'name_bidx']).execute();
    assert.ok(after.every((r) => r.name_bidx !== old));
    assert.equal(new Set(after.map((r) => r.name_bidx)).size, after.length);
    assert.equal((await query(idNo, '陈大文', p.ehealth_card_id)).decision.unpaidCount, 0);
    await assert.rejects(query(idNo, '林晓梅', p.ehealth_card_id));
    const task = await db.selectFrom('key_task').selectAll().where('task', '=', 'upgrade-013').executeTakeFirstOrThrow();
    assert.equal(task.done, true);
    assert.equal(Number(task.rows_done), after.length);
  });
});
