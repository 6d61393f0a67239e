/**
 * The ORG_MDL_002 read model (issue #15): one row per subject (a real-name person's blind index, or an
 * institution's non-real-name patient key) holding everything the answer needs, so that a query is one
 * primary-key look-up with no join and no sort. Rows are kept in step with the ledger by
 * `refreshSubjects` (domain/subjects.ts) inside the transaction of every write; this migration fills the
 * table from the ledger as it stands. A low fillfactor keeps the frequent rewrites of a row HOT.
 * `items` is a JSON array of [orgId, itemName, amountFen, actualTimeMs] of the unpaid items, oldest first.
 */
export const up = /* sql */ `
CREATE TABLE arrears_subject (
  subject_bidx VARCHAR(64) PRIMARY KEY,
  person_id BIGINT,
  ehealth_card_id VARCHAR(64),
  name_bidx VARCHAR(64),
  unpaid_count INT NOT NULL DEFAULT 0,
  unpaid_total_fen BIGINT NOT NULL DEFAULT 0,
  oldest_unpaid_at TIMESTAMPTZ,
  items TEXT NOT NULL DEFAULT '[]',
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
) WITH (fillfactor = 70);

-- A subject key of a real-name person is the person's id_no_bidx: the refresh finds the card through it.
CREATE INDEX person_id_no_bidx ON person (id_no_bidx);

INSERT INTO arrears_subject (subject_bidx, person_id, ehealth_card_id, name_bidx, unpaid_count, unpaid_total_fen, oldest_unpaid_at, items)
SELECT k.key, p.id, p.ehealth_card_id, p.name_bidx, coalesce(a.n, 0), coalesce(a.total, 0), a.oldest, coalesce(a.items, '[]')
FROM (SELECT id_no_bidx AS key FROM person UNION SELECT subject_bidx FROM arrears_item) k
LEFT JOIN person p ON p.id_no_bidx = k.key
LEFT JOIN (
  SELECT subject_bidx, count(*)::int AS n, sum(amount_fen)::bigint AS total, min(actual_time) AS oldest,
    json_agg(json_build_array(org_id, item_name, amount_fen, floor(extract(epoch FROM actual_time) * 1000)::bigint)
      ORDER BY actual_time, id)::text AS items
  FROM arrears_item WHERE state = '0' GROUP BY subject_bidx
) a ON a.subject_bidx = k.key;
`;
