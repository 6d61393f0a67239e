import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestPlatform, type TestPlatform } from '../testing.js';
import { insertNewItemRows, type NewItemRow } from './item-rows.js';

/**
 * The bulk insert sends every value as text and casts it back in SQL: what comes out of the ledger must be what
 * went in, on both drivers, for every column type it carries.
 */
describe('bulk insert through unnest', () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({}, { queue: false });
  });
  after(() => t?.close());

  const row = (n: number, over: Partial<NewItemRow> = {}): NewItemRow => ({
    trace_id: `TUNNEST${n}`,
    org_id: 'H35010000099',
    org_trace_id: `U-${n}`,
    real_name: false,
    person_id: null,
    subject_bidx: `subject-${n}`,
    id_type: null,
    id_no_enc: null,
    name_enc: null,
    phone_enc: null,
    ehealth_card_id: null,
    user_type: '2',
    med_type: '11',
    fee_type: '01',
    item_name: '检查费',
    amount_fen: 12345,
    actual_time: new Date('2026-12-07T01:02:03.456Z'),
    state: '0',
    report_batch_id: 7,
    last_batch_id: 7,
    settled_at: null,
    ...over,
  });

  it('stores each column as given: nulls, booleans, large amounts, instants to the millisecond, awkward text', async () => {
    const rows = [
      row(1),
      row(2, { real_name: true, id_type: '01', ehealth_card_id: 'NULL', item_name: '"药",{费}\\', amount_fen: 9_007_199_254_740 }),
      row(3, {
        state: '1',
        settled_at: new Date('2026-01-01T00:00:00.001Z'),
        actual_time: new Date('1999-12-31T16:00:00.000Z'),
        item_name: '',
      }),
    ];
    assert.deepEqual(await insertNewItemRows(t.platform.db, rows), new Set(['U-1', 'U-2', 'U-3']));
    const back = await t.platform.db
      .selectFrom('arrears_item')
      .select([
        'trace_id',
        'real_name',
        'person_id',
        'id_type',
        'ehealth_card_id',
        'item_name',
        'amount_fen',
        'actual_time',
        'state',
        'settled_at',
      ])
      .where('org_id', '=', 'H35010000099')
      .orderBy('id')
      .execute();
    assert.deepEqual(
      back.map((r) => ({
        ...r,
        amount_fen: Number(r.amount_fen),
        actual_time: new Date(r.actual_time).toISOString(),
        settled_at: r.settled_at && new Date(r.settled_at).toISOString(),
      })),
      rows.map((r) => ({
        trace_id: r.trace_id,
        real_name: r.real_name,
        person_id: null,
        id_type: r.id_type,
        ehealth_card_id: r.ehealth_card_id,
        item_name: r.item_name,
        amount_fen: r.amount_fen,
        actual_time: (r.actual_time as Date).toISOString(),
        state: r.state,
        settled_at: r.settled_at ? r.settled_at.toISOString() : null,
      })),
    );
  });

  it('inserts nothing for no rows, and skips an item already on the ledger without touching it', async () => {
    assert.deepEqual(await insertNewItemRows(t.platform.db, []), new Set());
    await insertNewItemRows(t.platform.db, [row(10)]);
    // U-10 is there: the second insert stores U-11 only, and U-10 keeps its trace id and amount.
    const inserted = await insertNewItemRows(t.platform.db, [row(12, { org_trace_id: 'U-10', amount_fen: 1 }), row(11)]);
    assert.deepEqual(inserted, new Set(['U-11']));
    const rows = await t.platform.db
      .selectFrom('arrears_item')
      .select(['org_trace_id', 'trace_id', 'amount_fen'])
      .where('org_trace_id', 'in', ['U-10', 'U-11'])
      .orderBy('org_trace_id')
      .execute();
    assert.deepEqual(
      rows.map((r) => [r.org_trace_id, r.trace_id, Number(r.amount_fen)]),
      [
        ['U-10', 'TUNNEST10', 12345],
        ['U-11', 'TUNNEST11', 12345],
      ],
    );
    assert.equal((await t.platform.db.selectFrom('arrears_item').select('id').where('trace_id', '=', 'TUNNEST12').execute()).length, 0);
  });

  it('fails as a whole when one row breaks a constraint: none of its group is left behind', async () => {
    // State 'X' breaks the table's CHECK; the good row before it must not stay either.
    await assert.rejects(insertNewItemRows(t.platform.db, [row(20), row(21, { state: 'X' as '0' })]));
    const left = await t.platform.db.selectFrom('arrears_item').select('id').where('trace_id', 'in', ['TUNNEST20', 'TUNNEST21']).execute();
    assert.equal(left.length, 0);
  });
});
