import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, testItem, type TestPlatform } from '../testing.js';
import { AppealError, answerAppeal, decideAppeal, fileAppeal } from './appeals.js';

describe('appeals', () => {
  let t: TestPlatform;
  let itemId = 0;
  const subject = 'subject-a';
  before(async () => {
    t = await startTestPlatform({}, { queue: false });
    const row = await t.platform.db
      .insertInto('arrears_item')
      .values(
        testItem({
          trace_id: 'T1',
          org_id: 'H1',
          org_trace_id: 'O1',
          real_name: true,
          subject_bidx: subject,
          id_type: '01',
          amount_fen: 2500,
        }),
      )
      .returning('id')
      .executeTakeFirstOrThrow();
    itemId = row.id;
  });
  after(() => t.close());

  it('files one open appeal per record, only on the appellant’s own record', async () => {
    await assert.rejects(
      fileAppeal(t.platform.db, { itemId, subjectBidx: 'someone-else', reason: 'paid', description: 'x', actor: 'c' }),
      /记录不存在/,
    );
    await assert.rejects(
      fileAppeal(t.platform.db, { itemId, subjectBidx: subject, reason: 'paid', description: 'x'.repeat(501), actor: 'c' }),
      /500/,
    );
    await assert.rejects(
      fileAppeal(t.platform.db, { itemId, subjectBidx: subject, reason: 'bogus', description: 'x', actor: 'c' }),
      AppealError,
    );
    const a = await fileAppeal(t.platform.db, {
      itemId,
      subjectBidx: subject,
      reason: 'paid',
      description: '<script>1</script> 已在窗口缴费',
      actor: 'c',
    });
    assert.equal(a.status, 'open');
    await assert.rejects(
      fileAppeal(t.platform.db, { itemId, subjectBidx: subject, reason: 'other', description: 'again', actor: 'c' }),
      /处理中的申诉/,
    );
    await assert.rejects(answerAppeal(t.platform.db, { appealId: a.id, orgId: 'H2', reply: 'not mine', actor: 'staff' }), /不存在/);
    await answerAppeal(t.platform.db, { appealId: a.id, orgId: 'H1', reply: '已核实缴费', actor: 'staff' });
    await assert.rejects(decideAppeal(t.platform.db, { appealId: a.id, upheld: false, reason: ' ', actor: 'op' }), /理由/);
    await decideAppeal(t.platform.db, { appealId: a.id, upheld: true, reason: '', actor: 'op' });
    const item = await t.platform.db.selectFrom('arrears_item').select('state').where('id', '=', itemId).executeTakeFirstOrThrow();
    assert.equal(item.state, '2', 'upheld revokes the record');
    const mine = await t.platform.db.selectFrom('appeal').select('status').where('subject_bidx', '=', subject).execute();
    assert.deepEqual(
      mine.map((x) => x.status),
      ['upheld'],
    );
    await assert.rejects(decideAppeal(t.platform.db, { appealId: a.id, upheld: false, reason: 'late', actor: 'op' }), /已处理/);
  });
});
