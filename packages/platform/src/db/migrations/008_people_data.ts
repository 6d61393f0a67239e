/**
 * Trust for people and data (issue #12).
 * - auth_throttle: attempt counters per client address (and per identity), counted by one atomic
 *   upsert so parallel attempts cannot read the same count.
 */
export const up = /* sql */ `
CREATE TABLE auth_throttle (
  key VARCHAR(160) PRIMARY KEY,
  window_start TIMESTAMPTZ NOT NULL,
  count INT NOT NULL
);
`;
