/**
 * A receipt photo a citizen attaches to an appeal (issue #17): at most one per appeal, sealed with the
 * vault like every other piece of personal data (`data_enc`: the image's bytes, base64, encrypted). The
 * type and size are checked before it is stored (domain/appeal-receipts.ts); only they are in the clear.
 */
export const up = /* sql */ `
CREATE TABLE appeal_receipt (
  appeal_id BIGINT PRIMARY KEY REFERENCES appeal (id),
  content_type VARCHAR(32) NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
  size_bytes INT NOT NULL,
  data_enc TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
`;
