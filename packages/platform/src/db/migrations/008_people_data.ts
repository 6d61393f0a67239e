/**
 * Trust for people and data (issue #12).
 * - auth_throttle: attempt counters per client address (and per identity), counted by one atomic
 *   upsert so parallel attempts cannot read the same count.
 * - ehc_code_spent: health codes already verified (a code verifies once).
 * - card_session: citizen sessions of the /card pages, ended on logout.
 * - The audit trail is tamper-evident: TRUNCATE refused by a trigger (this holds even for a superuser,
 *   which is all PGlite has), events sealed in blocks by audit_seal (an HMAC-SM3 chain, see
 *   domain/audit-chain.ts), and on PostgreSQL the platform works as a runtime role that may only
 *   SELECT and INSERT on both tables; the role that ran this migration owns them.
 */
export const up = /* sql */ `
CREATE TABLE auth_throttle (
  key VARCHAR(160) PRIMARY KEY,
  window_start TIMESTAMPTZ NOT NULL,
  count INT NOT NULL
);

-- A dynamic health code verifies once (ORG_EHC_003): the first institution's INSERT spends it.
CREATE TABLE ehc_code_spent (
  code_id VARCHAR(22) PRIMARY KEY,
  org_id VARCHAR(12) NOT NULL,
  spent_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX ehc_code_spent_expiry ON ehc_code_spent (expires_at);

-- /card sessions live here, so that logging out ends them (a signed cookie would outlive the logout).
CREATE TABLE card_session (
  token_hash VARCHAR(64) PRIMARY KEY,
  person_id BIGINT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  ended_at TIMESTAMPTZ
);
CREATE INDEX card_session_expiry ON card_session (expires_at);

CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();

CREATE TABLE audit_seal (
  id BIGSERIAL PRIMARY KEY,
  first_id BIGINT NOT NULL,
  last_id BIGINT NOT NULL,
  event_count INT NOT NULL,
  digests TEXT NOT NULL,
  prev_hash VARCHAR(64) NOT NULL,
  hash VARCHAR(64) NOT NULL,
  sealed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TRIGGER audit_seal_no_update BEFORE UPDATE OR DELETE ON audit_seal
  FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON audit_seal
  FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();

-- The sealer's consistent cut: SHARE conflicts with every INSERT, so once it holds the lock every event
-- with a smaller id has committed (or never will). The runtime role may not take SHARE on a table it
-- cannot update, so the owner's function takes it for the sealer.
CREATE FUNCTION audit_seal_fence() RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
BEGIN
  LOCK TABLE audit_seal IN EXCLUSIVE MODE; -- one sealer at a time, or the chain would fork
  LOCK TABLE audit_event IN SHARE MODE;
END;
$$;

-- The runtime role, one per schema (mdl_rt_<schema>): everything it needs on every table, today's and
-- later migrations' (default privileges), except that the audit trail is SELECT and INSERT only.
DO $$
DECLARE
  s text := current_schema();
  rt text := 'mdl_rt_' || current_schema();
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = rt) THEN
    EXECUTE format('CREATE ROLE %I NOLOGIN', rt);
  END IF;
  IF NOT pg_has_role(current_user, rt, 'MEMBER') THEN
    EXECUTE format('GRANT %I TO %I', rt, current_user);
  END IF;
  EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', s, rt);
  EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', s, rt);
  EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I', s, rt);
  EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON audit_event, audit_seal FROM %I', rt);
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I', s, rt);
  EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO %I', s, rt);
END;
$$;
`;
