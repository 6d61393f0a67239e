/**
 * E-health-card authorizations (ORG_EHC_001/002, issue #3). Health codes and citizen sign-ins are
 * signed values and need no table; only the authorization sessions a hospital polls are stored.
 */
export const up = /* sql */ `
CREATE TABLE ehc_auth_session (
  id BIGSERIAL PRIMARY KEY,
  -- Blind index of the random token in authUrl: a database dump does not hand out live links.
  token_bidx VARCHAR(64) NOT NULL,
  org_id VARCHAR(12) NOT NULL,
  app_id VARCHAR(64) NOT NULL,
  out_auth_no VARCHAR(32) NOT NULL,
  -- The link itself, sealed: ORG_EHC_001 sent again with the same outAuthNo answers the same link.
  auth_url_enc VARCHAR(400) NOT NULL,
  status VARCHAR(8) NOT NULL DEFAULT 'ing' CHECK (status IN ('ing', 'succ', 'fail', 'cancel')),
  person_id BIGINT REFERENCES person (id),
  expires_at TIMESTAMPTZ NOT NULL,
  decided_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- outAuthNo is unique per institution (guide §4.5.1: 要唯一, 用于后续查询授权结果).
CREATE UNIQUE INDEX ehc_auth_session_out ON ehc_auth_session (org_id, out_auth_no);
CREATE UNIQUE INDEX ehc_auth_session_token ON ehc_auth_session (token_bidx);
CREATE INDEX ehc_auth_session_person ON ehc_auth_session (person_id);
`;
