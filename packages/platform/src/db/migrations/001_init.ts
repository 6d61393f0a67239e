/**
 * The first schema. Portable PostgreSQL only (DESIGN.md): named ON CONFLICT targets, BIGINT keys,
 * JSON kept as TEXT so both drivers return the same thing.
 */
export const up = /* sql */ `
CREATE TABLE institution (
  org_id VARCHAR(12) PRIMARY KEY,
  org_name VARCHAR(40) NOT NULL,
  region VARCHAR(12),
  endpoint_url VARCHAR(200),
  notify_hosts TEXT NOT NULL DEFAULT '[]',
  payment_channels TEXT NOT NULL DEFAULT '[]',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE app_credential (
  app_id VARCHAR(40) PRIMARY KEY,
  kind VARCHAR(12) NOT NULL CHECK (kind IN ('institution', 'channel')),
  org_id VARCHAR(12) REFERENCES institution (org_id),
  label VARCHAR(60),
  env VARCHAR(4) NOT NULL CHECK (env IN ('test', 'prod')),
  secret_enc TEXT NOT NULL,
  status VARCHAR(10) NOT NULL DEFAULT 'active',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK (kind = 'channel' OR org_id IS NOT NULL)
);

CREATE TABLE person (
  id BIGSERIAL PRIMARY KEY,
  id_type VARCHAR(2) NOT NULL,
  id_no_bidx VARCHAR(64) NOT NULL,
  id_no_enc TEXT NOT NULL,
  name_bidx VARCHAR(64) NOT NULL,
  name_enc TEXT NOT NULL,
  phone_enc TEXT,
  ehealth_card_id VARCHAR(64) NOT NULL UNIQUE,
  card_no VARCHAR(12) NOT NULL UNIQUE,
  card_type VARCHAR(2) NOT NULL,
  sex VARCHAR(1),
  birthday VARCHAR(8),
  psn_no_bidx VARCHAR(64),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (id_type, id_no_bidx)
);

CREATE TABLE batch (
  id BIGSERIAL PRIMARY KEY,
  org_id VARCHAR(12) NOT NULL,
  org_request_id VARCHAR(40) NOT NULL,
  kind VARCHAR(6) NOT NULL CHECK (kind IN ('REPORT', 'UPDATE')),
  app_id VARCHAR(40) NOT NULL,
  payload_hash VARCHAR(64) NOT NULL,
  payload_enc TEXT NOT NULL,
  notify_url VARCHAR(100) NOT NULL,
  item_count INT NOT NULL,
  status VARCHAR(12) NOT NULL DEFAULT 'received',
  accepted_count INT,
  rejected_count INT,
  result_enc TEXT,
  callback_status VARCHAR(12) NOT NULL DEFAULT 'pending',
  callback_attempts INT NOT NULL DEFAULT 0,
  request_id VARCHAR(64),
  received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  processed_at TIMESTAMPTZ,
  delivered_at TIMESTAMPTZ,
  UNIQUE (org_id, org_request_id)
);
CREATE INDEX batch_received ON batch (received_at);
CREATE INDEX batch_callback ON batch (callback_status);

CREATE TABLE arrears_item (
  id BIGSERIAL PRIMARY KEY,
  trace_id VARCHAR(40) NOT NULL UNIQUE,
  org_id VARCHAR(12) NOT NULL,
  org_trace_id VARCHAR(40) NOT NULL,
  real_name BOOLEAN NOT NULL,
  person_id BIGINT REFERENCES person (id),
  subject_bidx VARCHAR(64) NOT NULL,
  id_type VARCHAR(2),
  id_no_enc TEXT,
  name_enc TEXT,
  phone_enc TEXT,
  ehealth_card_id VARCHAR(64),
  user_type VARCHAR(2) NOT NULL,
  med_type VARCHAR(6) NOT NULL,
  fee_type VARCHAR(2) NOT NULL,
  item_name VARCHAR(40) NOT NULL,
  amount_fen BIGINT NOT NULL,
  actual_time TIMESTAMPTZ NOT NULL,
  state VARCHAR(1) NOT NULL DEFAULT '0' CHECK (state IN ('0', '1', '2')),
  report_batch_id BIGINT NOT NULL,
  last_batch_id BIGINT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  settled_at TIMESTAMPTZ,
  UNIQUE (org_id, org_trace_id)
);
CREATE INDEX arrears_item_subject ON arrears_item (subject_bidx, state);
CREATE INDEX arrears_item_person ON arrears_item (person_id, state);
CREATE INDEX arrears_item_batch ON arrears_item (last_batch_id);

CREATE TABLE callback_attempt (
  id BIGSERIAL PRIMARY KEY,
  batch_id BIGINT NOT NULL REFERENCES batch (id),
  attempt INT NOT NULL,
  url VARCHAR(200) NOT NULL,
  started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  duration_ms INT NOT NULL,
  http_status INT,
  outcome VARCHAR(12) NOT NULL,
  detail TEXT,
  request_id VARCHAR(64)
);
CREATE INDEX callback_attempt_batch ON callback_attempt (batch_id);

CREATE TABLE audit_event (
  id BIGSERIAL PRIMARY KEY,
  at TIMESTAMPTZ NOT NULL DEFAULT now(),
  actor_type VARCHAR(12) NOT NULL,
  actor_id VARCHAR(64) NOT NULL,
  org_id VARCHAR(12),
  subject_bidx VARCHAR(64),
  action VARCHAR(40) NOT NULL,
  target VARCHAR(120),
  outcome VARCHAR(12) NOT NULL,
  resp_code VARCHAR(8),
  request_id VARCHAR(64),
  detail TEXT
);
CREATE INDEX audit_event_at ON audit_event (at);
CREATE INDEX audit_event_subject ON audit_event (subject_bidx, at);
CREATE INDEX audit_event_org ON audit_event (org_id, at);

-- The audit trail is append-only: no role of the application may rewrite history.
CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only';
END;
$$;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();

CREATE TABLE setting (
  key VARCHAR(64) PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
`;
