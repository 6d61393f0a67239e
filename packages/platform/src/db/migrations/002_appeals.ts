/** Citizens' appeals against one arrears record (DESIGN.md "Appeals"). */
export const up = /* sql */ `
CREATE TABLE appeal (
  id BIGSERIAL PRIMARY KEY,
  item_id BIGINT NOT NULL REFERENCES arrears_item (id),
  org_id VARCHAR(12) NOT NULL,
  subject_bidx VARCHAR(64) NOT NULL,
  reason VARCHAR(20) NOT NULL CHECK (reason IN ('paid', 'not_me', 'wrong_amount', 'other')),
  description TEXT NOT NULL,
  status VARCHAR(12) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'answered', 'upheld', 'rejected')),
  org_reply TEXT,
  org_replied_by VARCHAR(64),
  org_replied_at TIMESTAMPTZ,
  decision_reason TEXT,
  decided_by VARCHAR(64),
  decided_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- One open appeal per record at a time.
CREATE UNIQUE INDEX appeal_one_open ON appeal (item_id) WHERE status IN ('open', 'answered');
CREATE INDEX appeal_status ON appeal (status, created_at);
CREATE INDEX appeal_org ON appeal (org_id, status);
CREATE INDEX appeal_subject ON appeal (subject_bidx);
`;
