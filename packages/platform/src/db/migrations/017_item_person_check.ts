/**
 * An item's `person_id` names a person that exists, checked once per statement instead of once per row.
 *
 * The foreign key `arrears_item.person_id → person` checked each inserted item with a look-up of its person and a
 * `FOR KEY SHARE` lock, which writes the person's row: 0.94–1.12 ms of a 100-item insert, against 0.22–0.35 ms for
 * the check below (bench/analysis.md, 2026-12-08). The lock only guards against the person being deleted or
 * renumbered meanwhile, and the master index never does either: it is now refused outright by a trigger, as the
 * audit trail refuses changes. With persons kept, an existence check that reads committed rows holds as the key
 * did: one anti-join of the statement's new items against `person`, and no row written.
 *
 * - `person`: DELETE, TRUNCATE and a change of `id` are refused.
 * - `arrears_item`: each INSERT is checked as a whole (transition table); an UPDATE that sets `person_id` (a
 *   non-real-name record becoming a person's, §3.1.10) is checked per row, and only then.
 * Both raise `foreign_key_violation`, as the key did, so callers see the same error.
 */
export const up = /* sql */ `
CREATE FUNCTION person_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'person rows are kept: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$;
CREATE TRIGGER person_no_delete BEFORE DELETE OR TRUNCATE ON person
  FOR EACH STATEMENT EXECUTE FUNCTION person_kept();
CREATE TRIGGER person_no_renumber BEFORE UPDATE OF id ON person
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION person_kept();

CREATE FUNCTION arrears_item_persons_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  missing BIGINT;
BEGIN
  SELECT n.person_id INTO missing FROM new_items n
    WHERE n.person_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM person p WHERE p.id = n.person_id)
    LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'arrears_item.person_id % is not a person', missing USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER arrears_item_person_insert AFTER INSERT ON arrears_item
  REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION arrears_item_persons_exist();

CREATE FUNCTION arrears_item_person_exists() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM person p WHERE p.id = NEW.person_id) THEN
    RAISE EXCEPTION 'arrears_item.person_id % is not a person', NEW.person_id USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER arrears_item_person_update BEFORE UPDATE OF person_id ON arrears_item
  FOR EACH ROW WHEN (NEW.person_id IS NOT NULL AND NEW.person_id IS DISTINCT FROM OLD.person_id)
  EXECUTE FUNCTION arrears_item_person_exists();

ALTER TABLE arrears_item DROP CONSTRAINT arrears_item_person_id_fkey;
`;
