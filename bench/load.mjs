// Bulk loader: persons and arrears items straight into PostgreSQL with COPY, bypassing the API.
// Every person's ID number, name and phone are really SM4-encrypted by the platform's Vault and
// really blind-indexed (HMAC-SM3); an item carries its person's ciphertexts (the same clear values).
import { setInterval, clearInterval } from 'node:timers';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { LOADER_ORGS, extensionSchema, fmt, log, personAt } from './common.mjs';

const PERSON_COLS = 'id, id_type, id_no_bidx, id_no_enc, name_bidx, name_enc, phone_enc, ehealth_card_id, card_no, card_type';
const ITEM_COLS =
  'id, trace_id, org_id, org_trace_id, real_name, person_id, subject_bidx, id_type, id_no_enc, name_enc, phone_enc, ehealth_card_id, user_type, med_type, fee_type, item_name, amount_fen, actual_time, state, report_batch_id, last_batch_id, settled_at';
const ITEM_NAMES = ['诊查费', '检查费', '化验费', '西药费', '中成药费', '治疗费', '床位费', '手术费'];
const DAY = 86_400_000;

async function connect(url, schema) {
  const c = new pg.Client({ connectionString: url, options: `-c search_path="${schema}"` });
  await c.connect();
  // Bulk-load settings for these sessions only. replica role skips the triggers (the person_id check):
  // the generator only ever points an item at a person it wrote.
  await c.query(`SET synchronous_commit = off; SET session_replication_role = replica; SET maintenance_work_mem = '1GB'`);
  return c;
}

/** Secondary unique constraints and plain indexes of a table, to drop before COPY and rebuild after. */
async function secondaryIndexes(c, schema, table) {
  const cons = await c.query(
    `SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'u'`,
    [`"${schema}".${table}`],
  );
  const idx = await c.query(
    `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2
       AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = $3::regclass)`,
    [schema, table, `"${schema}".${table}`],
  );
  return {
    drop: [
      ...cons.rows.map((r) => `ALTER TABLE ${table} DROP CONSTRAINT "${r.conname}"`),
      ...idx.rows.map((r) => `DROP INDEX "${r.indexname}"`),
    ],
    create: [
      ...cons.rows.map((r) => ({ name: r.conname, sql: `ALTER TABLE ${table} ADD CONSTRAINT "${r.conname}" ${r.def}` })),
      ...idx.rows.map((r) => ({ name: r.indexname, sql: r.indexdef })),
    ],
  };
}

/** A Readable of COPY text rows produced in chunks by `next()` (returns undefined when done). */
function rowSource(next, mustWait) {
  const fill = () => {
    for (;;) {
      // The item stream is behind: wait for it instead of buffering its rows without bound.
      if (mustWait()) {
        r.resume_ = () => {
          r.resume_ = undefined;
          fill();
        };
        return;
      }
      const chunk = next();
      if (chunk === undefined) return void r.push(null);
      if (!r.push(chunk)) return;
    }
  };
  const r = new Readable({ highWaterMark: 1 << 20, read: fill });
  return r;
}

export async function loadData({ databaseUrl, schema, vault, persons, items }) {
  const started = Date.now();
  const admin = await connect(databaseUrl, schema);
  await admin.query(
    `INSERT INTO institution (org_id, org_name, notify_hosts) SELECT o, '负载测试医院' || right(o, 4), '["127.0.0.1"]' FROM unnest($1::text[]) o
     ON CONFLICT (org_id) DO NOTHING`,
    [LOADER_ORGS],
  );
  const p = await secondaryIndexes(admin, schema, 'person');
  const a = await secondaryIndexes(admin, schema, 'arrears_item');
  for (const q of [...p.drop, ...a.drop]) await admin.query(q);
  log(`load: dropped ${p.drop.length + a.drop.length} secondary indexes for the bulk load; they are rebuilt afterwards`);

  const pc = await connect(databaseUrl, schema);
  const ic = await connect(databaseUrl, schema);
  const now = Date.now();
  const dateTag = new Date(now + 8 * 3600_000).toISOString().slice(0, 10).replace(/-/g, '');
  let rnd = randomBytes(0);
  let rndAt = 0;
  const hex10 = () => {
    if (rndAt + 10 > rnd.length) {
      rnd = randomBytes(10 * 65536);
      rndAt = 0;
    }
    rndAt += 10;
    return rnd.toString('hex', rndAt - 10, rndAt);
  };

  // Persons and their items come out of one generator; the item stream trails the person stream.
  let i = 0;
  let j = 0;
  const pendingItems = [];
  const CHUNK = 2000;
  const personChunk = () => {
    if (i >= persons) return undefined;
    let out = '';
    let itemsOut = '';
    const end = Math.min(persons, i + CHUNK);
    for (; i < end; i++) {
      const x = personAt(i);
      const idEnc = vault.encrypt(x.idNo);
      const nameEnc = vault.encrypt(x.userName);
      const phoneEnc = vault.encrypt(x.phone);
      const key = vault.personKey('01', x.idNo);
      const id = i + 1;
      out += `${id}\t01\t${key}\t${idEnc}\t${vault.nameKey(key, x.userName)}\t${nameEnc}\t${phoneEnc}\t${x.ehealthCardId}\t${x.cardNo}\t01\n`;
      // 0..6 items per person (3 on average); the last person tops the total up to `items`.
      let k = Math.min(i % 7, items - j);
      if (i === persons - 1) k = items - j;
      for (let n = 0; n < k; n++, j++) {
        const h = Math.imul(j + 1, 2654435761) >>> 0;
        const pct = h % 100;
        const state = pct < 70 ? '0' : pct < 95 ? '1' : '2';
        const actual = now - ((h >>> 8) % (120 * 24 * 60)) * 60_000;
        const settled = state === '0' ? '\\N' : new Date(actual + ((h >>> 4) % 20) * DAY).toISOString();
        const org = LOADER_ORGS[j % LOADER_ORGS.length];
        itemsOut += `${j + 1}\tT${dateTag}${hex10()}\t${org}\tL${j}\tt\t${id}\t${key}\t01\t${idEnc}\t${nameEnc}\t${phoneEnc}\t${x.ehealthCardId}\t02\t11\t01\t${ITEM_NAMES[h % ITEM_NAMES.length]}\t${500 + (h % 80_000)}\t${new Date(actual).toISOString()}\t${state}\t0\t0\t${settled}\n`;
      }
    }
    if (itemsOut) pendingItems.push(itemsOut);
    if (itemWaiter) itemWaiter();
    return out;
  };
  let itemWaiter;
  let personsDone = false;
  const itemStream = new Readable({
    highWaterMark: 1 << 20,
    read() {
      const pump = () => {
        while (pendingItems.length) {
          const more = this.push(pendingItems.shift());
          if (pendingItems.length < 16 && personSource.resume_) personSource.resume_();
          if (!more) return;
        }
        if (personSource.resume_) personSource.resume_();
        if (personsDone) return void this.push(null);
        itemWaiter = () => {
          itemWaiter = undefined;
          pump();
        };
      };
      pump();
    },
  });

  const personSource = rowSource(personChunk, () => pendingItems.length >= 64);
  const progress = setInterval(() => {
    const s = (Date.now() - started) / 1000;
    log(`load: persons ${fmt(i)}/${fmt(persons)}  items ${fmt(j)}/${fmt(items)}  (${fmt(i / s)} persons/s, ${fmt(j / s)} items/s)`);
  }, 2000);
  try {
    const personsCopy = pipeline(personSource, pc.query(copyStreams.from(`COPY person (${PERSON_COLS}) FROM STDIN`))).then(() => {
      personsDone = true;
      if (itemWaiter) itemWaiter();
    });
    const itemsCopy = pipeline(itemStream, ic.query(copyStreams.from(`COPY arrears_item (${ITEM_COLS}) FROM STDIN`)));
    await Promise.all([personsCopy, itemsCopy]);
  } finally {
    clearInterval(progress);
  }
  const copied = Date.now();
  log(`load: COPY done: ${fmt(i)} persons, ${fmt(j)} items in ${fmt((copied - started) / 1000, 1)} s`);
  await pc.end();
  await ic.end();

  // Rebuild indexes, two at a time (one per table) on this 2-core machine.
  const rebuild = async (c, list) => {
    for (const { name, sql } of list) {
      const t = Date.now();
      await c.query(sql);
      log(`load: rebuilt ${name} in ${fmt((Date.now() - t) / 1000, 1)} s`);
    }
  };
  const c2 = await connect(databaseUrl, schema);
  await Promise.all([rebuild(admin, p.create), rebuild(c2, a.create)]);
  await c2.end();
  await admin.query(`SELECT setval(pg_get_serial_sequence('person', 'id'), $1)`, [Math.max(1, persons)]);
  await admin.query(`SELECT setval(pg_get_serial_sequence('arrears_item', 'id'), $1)`, [Math.max(1, items)]);
  await admin.query('ANALYZE person; ANALYZE arrears_item');
  const sizes = await admin.query(
    `SELECT pg_size_pretty(pg_total_relation_size('person')) AS person, pg_size_pretty(pg_total_relation_size('arrears_item')) AS items`,
  );
  await admin.end();
  const seconds = (Date.now() - started) / 1000;
  log(
    `load: done in ${fmt(seconds, 1)} s (COPY ${fmt((copied - started) / 1000, 1)} s, indexes + analyze ${fmt((Date.now() - copied) / 1000, 1)} s); person ${sizes.rows[0].person}, arrears_item ${sizes.rows[0].items}`,
  );
  return {
    persons: i,
    items: j,
    seconds,
    copySeconds: (copied - started) / 1000,
    personSize: sizes.rows[0].person,
    itemSize: sizes.rows[0].items,
  };
}

/**
 * `VACUUM (FREEZE, ANALYZE)` of the bench tables, as the schema's owner: the platform's connections run as its
 * restricted runtime role, for which PostgreSQL skips every table with only a warning (so before 2026-12-07 the
 * bench's steady state was never reached: "VACUUM … in 0.0 s"). A skipped table fails the bench here.
 */
export async function vacuumSteadyState({ databaseUrl, schema, tables, warm = [] }) {
  const c = new pg.Client({ connectionString: databaseUrl, options: `-c search_path="${schema}"` });
  await c.connect();
  const skipped = [];
  // PostgreSQL's words for a table it would not vacuum: skipping "person" --- only … owner can vacuum it.
  c.on('notice', (n) => /^skipping "/.test(n.message) && skipped.push(n.message));
  let prewarmedMb;
  try {
    await c.query(`VACUUM (FREEZE, ANALYZE) ${tables.join(', ')}`);
    prewarmedMb = await prewarm(c, warm);
    await checkpoint(c);
  } finally {
    await c.end();
  }
  if (skipped.length) throw new Error(`VACUUM skipped tables: ${skipped.join('; ')}`);
  return { prewarmedMb };
}

/**
 * Writes out what the load and VACUUM dirtied (gigabytes) before anything is measured: otherwise the checkpoint
 * that follows a bulk load runs during the measured phases: the first ingest after a load measured 3,993 items/s,
 * later ones on the same data 5,524–5,846 (2026-12-08). A server in service has no bulk load to flush.
 * CHECKPOINT needs a superuser or pg_checkpoint; without either, the phases pay for it, as before.
 */
async function checkpoint(c) {
  try {
    await c.query('CHECKPOINT');
  } catch (e) {
    log(`load: CHECKPOINT not allowed (${e.message}); the measured phases may pay for writing out the load`);
  }
}

/**
 * Reads the relations every ORG_MDL_002 touches into PostgreSQL's shared buffers (`pg_prewarm`), as a server that
 * has been answering for a while holds them. VACUUM reads through a small ring of buffers and leaves them cold, so
 * without this the first query run paid the reads of a cold read model and measured 14–18 % of echo where the second
 * measured 18–24 % (2026-12-07). Returns the megabytes read, or undefined where the extension is not available.
 */
async function prewarm(c, relations) {
  try {
    const ns = await extensionSchema(c, 'pg_prewarm');
    let blocks = 0;
    for (const r of relations) blocks += Number((await c.query(`SELECT ${ns}.pg_prewarm($1::regclass) AS n`, [r])).rows[0].n);
    return (blocks * 8) / 1024;
  } catch (e) {
    log(`load: pg_prewarm not available (${e.message}); the first query run meets a cold read model`);
    return undefined;
  }
}
