/**
 * Operator console and institution portal (issue #6): accounts, sessions, second factor, policy history.
 * Session tokens are stored hashed, so a copy of the database does not hand out live sessions.
 */
export const up = /* sql */ `
CREATE TABLE console_user (
  id BIGSERIAL PRIMARY KEY,
  username VARCHAR(40) NOT NULL UNIQUE,
  role VARCHAR(10) NOT NULL CHECK (role IN ('operator', 'auditor', 'staff')),
  org_id VARCHAR(12) REFERENCES institution (org_id),
  display_name VARCHAR(40),
  password_hash TEXT NOT NULL,
  totp_secret_enc TEXT,
  totp_last_step BIGINT,
  status VARCHAR(10) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  failed_count INT NOT NULL DEFAULT 0,
  locked_until TIMESTAMPTZ,
  last_login_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  CHECK (role <> 'staff' OR org_id IS NOT NULL),
  CHECK (role <> 'operator' OR totp_secret_enc IS NOT NULL)
);

CREATE TABLE console_session (
  token_hash VARCHAR(64) PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES console_user (id),
  csrf_token VARCHAR(64) NOT NULL,
  ip VARCHAR(64),
  created_at TIMESTAMPTZ NOT NULL,
  last_seen_at TIMESTAMPTZ NOT NULL,
  ended_at TIMESTAMPTZ
);
CREATE INDEX console_session_user ON console_session (user_id);

CREATE TABLE policy_history (
  id BIGSERIAL PRIMARY KEY,
  policy TEXT NOT NULL,
  previous TEXT,
  note VARCHAR(200),
  changed_by VARCHAR(40) NOT NULL,
  changed_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
`;
