/**
 * Issue #11 item 4: the ports the platform may call an institution on (ORG_001 endpoint, ORG_002 notifyUrl).
 * A JSON array of port numbers; empty means the guide's defaults, 443 and 80 (outbound/address-policy.ts).
 */
export const up = /* sql */ `
ALTER TABLE institution ADD COLUMN outbound_ports TEXT NOT NULL DEFAULT '[]';
`;
