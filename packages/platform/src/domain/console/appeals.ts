import { maskIdNo, maskName } from '@mdl/protocol';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Vault } from '../../vault.js';

/**
 * The appeals queue for the console: each appeal with its record and the reporting institution's data.
 * Institution staff only ever see appeals against their own records (filtered in the query).
 */
export async function listAppeals(db: Kysely<DB>, org: string | undefined, status: string | undefined) {
  return (
    db
      .selectFrom('appeal as a')
      .innerJoin('arrears_item as i', 'i.id', 'a.item_id')
      .leftJoin('institution as o', 'o.org_id', 'a.org_id')
      .select([
        'a.id',
        'a.item_id',
        'a.org_id',
        'o.org_name',
        'a.reason',
        'a.description',
        'a.status',
        'a.created_at',
        'a.org_replied_at',
        'a.decided_at',
        'i.trace_id',
        'i.item_name',
        'i.amount_fen',
      ])
      .$if(org !== undefined, (qb) => qb.where('a.org_id', '=', org!))
      // 'pending' (the queue's default) is everything still awaiting a decision.
      .$if(status === 'pending', (qb) => qb.where('a.status', 'in', ['open', 'answered']))
      .$if(!!status && status !== 'pending' && status !== 'all', (qb) => qb.where('a.status', '=', status as 'open'))
      .orderBy('a.created_at', 'asc')
      .limit(200)
      .execute()
  );
}

export async function appealDetail(db: Kysely<DB>, vault: Vault, org: string | undefined, id: number) {
  const appeal = await db
    .selectFrom('appeal')
    .selectAll()
    .where('id', '=', id)
    .$if(org !== undefined, (qb) => qb.where('org_id', '=', org!))
    .executeTakeFirst();
  if (!appeal) return undefined;
  const item = await db.selectFrom('arrears_item').selectAll().where('id', '=', appeal.item_id).executeTakeFirstOrThrow();
  const inst = await db.selectFrom('institution').selectAll().where('org_id', '=', appeal.org_id).executeTakeFirst();
  const batch = await db
    .selectFrom('batch')
    .select(['id', 'org_request_id', 'received_at', 'app_id'])
    .where('id', '=', item.report_batch_id)
    .executeTakeFirst();
  const history = await db
    .selectFrom('appeal')
    .select(['id', 'status', 'created_at', 'decided_at'])
    .where('item_id', '=', item.id)
    .where('id', '<>', appeal.id)
    .orderBy('id')
    .execute();
  return {
    appeal,
    item: {
      ...item,
      name: item.name_enc ? maskName(vault.decrypt(item.name_enc)) : '',
      idNo: item.id_no_enc ? maskIdNo(vault.decrypt(item.id_no_enc)) : '',
      phone: item.phone_enc ? vault.decrypt(item.phone_enc).replace(/^(\d{3})\d+(\d{4})$/, '$1****$2') : '',
    },
    inst,
    batch,
    history,
  };
}
