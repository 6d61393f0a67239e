/**
 * Citizen sign-in on /card (issue #12 item 1):
 * - card_otp: one sign-in challenge each: the SMS code's keyed digest, the attempts spent on it, its
 *   expiry and the moment it was used. A challenge that matched nobody has no person and a random
 *   digest, so the code page reads the same whether or not the details were right.
 * - sms_outbox: what the sandbox "sends" (the SMS text sealed), for the tester to read; production has an
 *   HTTP gateway and never writes here.
 * - person.name_source: how the name on a card was verified: 'self' (typed at /card 领卡) or 'verified'
 *   (an institution's ORG_EHC_004, the patient's 医保 identity). A self-registered name never blocks a
 *   verified source.
 * - card_review: self-registrations a verified source contradicted, for an operator to decide.
 * - citizen_session.entered_by: 'channel' for an /mdr session the 闽政通 channel opened; only such a
 *   session may give a phone-less card its phone (the stronger path of /mdr/card-phone).
 * - auth_throttle.last_nonce / blocked_until: growing delays between attempts (domain/throttle.ts).
 * The runtime role gets its grants through the default privileges of 008.
 */
export const up = /* sql */ `
CREATE TABLE card_otp (
  id BIGSERIAL PRIMARY KEY,
  token_hash VARCHAR(64) NOT NULL UNIQUE,
  person_id BIGINT REFERENCES person(id) ON DELETE CASCADE,
  throttle_key VARCHAR(160) NOT NULL,
  code_hash VARCHAR(64) NOT NULL,
  phone_enc TEXT,
  purpose VARCHAR(16) NOT NULL,
  attempts INT NOT NULL DEFAULT 0,
  created_at TIMESTAMPTZ NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  used_at TIMESTAMPTZ
);
CREATE INDEX card_otp_expires ON card_otp (expires_at);

CREATE TABLE sms_outbox (
  id BIGSERIAL PRIMARY KEY,
  phone_enc TEXT NOT NULL,
  text_enc TEXT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

ALTER TABLE person ADD COLUMN name_source VARCHAR(8) NOT NULL DEFAULT 'verified' CHECK (name_source IN ('self', 'verified'));

CREATE TABLE card_review (
  id BIGSERIAL PRIMARY KEY,
  person_id BIGINT NOT NULL REFERENCES person(id) ON DELETE CASCADE,
  self_name_enc TEXT NOT NULL,
  self_phone_enc TEXT,
  verified_by VARCHAR(64) NOT NULL,
  status VARCHAR(8) NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'rejected', 'restored')),
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  decided_by VARCHAR(64),
  decided_at TIMESTAMPTZ,
  note VARCHAR(200)
);
CREATE INDEX card_review_open ON card_review (status, id);

-- Whether an /mdr session came from the 闽政通 channel (which verified the person) or a hospital portal.
ALTER TABLE citizen_session ADD COLUMN entered_by VARCHAR(8) NOT NULL DEFAULT 'portal';

ALTER TABLE auth_throttle ADD COLUMN last_nonce VARCHAR(32);
ALTER TABLE auth_throttle ADD COLUMN blocked_until TIMESTAMPTZ;
`;
