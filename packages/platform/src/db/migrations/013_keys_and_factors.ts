/**
 * Issue #12, items 3-5 (what was left):
 * - person.sex and person.birthday go: both are derived from the sealed resident ID number when a card is
 *   read (domain/persons.ts `cardView`), so nothing about a person stays in clear.
 * - key_task: row-by-row work that needs the vault (SQL cannot compute an HMAC under the master key): the
 *   upgrade of the name index to its per-person form, and master-key rotations. One row per step with the
 *   last primary key done (as text); a batch of rows and its cursor commit together, so a crash loses at most the
 *   batch in flight and a re-run continues from the cursor (domain/keys/).
 * - key_rotation: one row per rotation, with the holder's lease, so that two rotations cannot run at once;
 *   key_map: the subject indexes it re-keyed, old to new.
 * - institution.require_totp: an operator may require a second factor of the institution's staff.
 */
export const up = /* sql */ `
ALTER TABLE person DROP COLUMN sex;
ALTER TABLE person DROP COLUMN birthday;

CREATE TABLE key_task (
  task VARCHAR(64) NOT NULL,
  step VARCHAR(64) NOT NULL,
  cursor_key TEXT NOT NULL DEFAULT '',
  rows_done BIGINT NOT NULL DEFAULT 0,
  done BOOLEAN NOT NULL DEFAULT false,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  PRIMARY KEY (task, step)
);

-- Existing name indexes were HMAC(name) alone; domain/keys/upgrade.ts re-keys them per person.
INSERT INTO key_task (task, step) VALUES ('upgrade-013', 'person-name-index');

CREATE TABLE key_rotation (
  id BIGSERIAL PRIMARY KEY,
  old_fingerprint VARCHAR(32) NOT NULL,
  new_fingerprint VARCHAR(32) NOT NULL,
  holder VARCHAR(128),
  lease_until TIMESTAMPTZ,
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  finished_at TIMESTAMPTZ
);
-- At most one unfinished rotation.
CREATE UNIQUE INDEX key_rotation_one_open ON key_rotation ((true)) WHERE finished_at IS NULL;

-- A rotation's old subject index -> new one, written while persons and items are re-keyed, then applied
-- to the tables that only refer to a subject (appeals, reminders, citizen links); emptied at the end.
CREATE TABLE key_map (
  rotation_id BIGINT NOT NULL,
  old_bidx VARCHAR(64) NOT NULL,
  new_bidx VARCHAR(64) NOT NULL,
  PRIMARY KEY (rotation_id, old_bidx)
);

ALTER TABLE institution ADD COLUMN require_totp BOOLEAN NOT NULL DEFAULT false;
`;
