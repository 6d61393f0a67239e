import { userInfo } from 'node:os';
import type { Operator } from '../domain/audit.js';

/**
 * Who a CLI command acts as: an operator named after the operating-system user who ran it, so the audit trail
 * tells `mdl` changes from console ones and says whose shell they came from.
 */
export const CLI_OPERATOR: Operator = { username: `cli:${osUser()}`, orgId: null };

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
