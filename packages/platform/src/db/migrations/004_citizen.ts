/**
 * The citizen app (issue #4): entry tokens from ORG_MDL_004, browser sessions, ORG_001 refresh state,
 * and reminders (the outbox the operator reads, and the per-person claim that keeps two workers from
 * sending twice).
 */
export const up = /* sql */ `
-- One row per mdrUrl. Only a hash of the token is kept: a database reader cannot open anyone's app.
CREATE TABLE citizen_token (
  token_hash VARCHAR(64) PRIMARY KEY,
  subject_bidx VARCHAR(64) NOT NULL,
  local_bidx VARCHAR(64),
  person_id BIGINT REFERENCES person (id),
  app_id VARCHAR(40) NOT NULL,
  org_id VARCHAR(12),
  expires_at TIMESTAMPTZ NOT NULL,
  used_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX citizen_token_expires ON citizen_token (expires_at);

CREATE TABLE citizen_session (
  sid_hash VARCHAR(64) PRIMARY KEY,
  subject_bidx VARCHAR(64) NOT NULL,
  local_bidx VARCHAR(64),
  person_id BIGINT REFERENCES person (id),
  name_enc TEXT,
  csrf VARCHAR(64) NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX citizen_session_expires ON citizen_session (expires_at);

-- Last ORG_001 check of an item: 'failed' items are re-checked by the reconciliation schedule.
CREATE TABLE item_refresh (
  item_id BIGINT PRIMARY KEY REFERENCES arrears_item (id),
  status VARCHAR(8) NOT NULL CHECK (status IN ('ok', 'failed')),
  attempts INT NOT NULL DEFAULT 0,
  last_state VARCHAR(1),
  last_detail TEXT,
  last_attempt_at TIMESTAMPTZ NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX item_refresh_status ON item_refresh (status, last_attempt_at);

-- The reminder outbox: every send, whatever the adapter. The embedded default adapter ('outbox') is
-- this table itself; 'http' rows are pushed by a job and marked sent when the endpoint confirms.
CREATE TABLE reminder (
  id BIGSERIAL PRIMARY KEY,
  subject_bidx VARCHAR(64) NOT NULL,
  person_id BIGINT REFERENCES person (id),
  channel VARCHAR(8) NOT NULL CHECK (channel IN ('outbox', 'http')),
  status VARCHAR(10) NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'cancelled')),
  unpaid_count INT NOT NULL,
  total_fen BIGINT NOT NULL,
  org_summary TEXT NOT NULL,
  message TEXT NOT NULL,
  link VARCHAR(200) NOT NULL,
  period_key VARCHAR(20) NOT NULL,
  attempts INT NOT NULL DEFAULT 0,
  last_error TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  sent_at TIMESTAMPTZ,
  UNIQUE (subject_bidx, period_key)
);
CREATE INDEX reminder_status ON reminder (status, created_at);

-- When each person was last reminded: claimed with one conditional upsert, so concurrent workers
-- cannot both pass the interval check.
CREATE TABLE reminder_claim (
  subject_bidx VARCHAR(64) PRIMARY KEY,
  last_at TIMESTAMPTZ NOT NULL
);
`;
