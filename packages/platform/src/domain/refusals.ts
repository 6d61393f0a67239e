import type { AuditWriter } from './audit.js';
import { auditEvent } from './audit.js';
import type { Logger } from '../log.js';

export interface Refusal {
  /** The credential that called, when it is one of ours; undefined before the caller is known. */
  appId: string | undefined;
  interfaceCode: string;
  respCode: string;
  reason: string;
  requestId: string;
}

/**
 * Every refused interface call goes to the audit trail (issue #11 "Bad input"), so an operator sees forged,
 * replayed and malformed calls next to the good ones. Refusals write nothing else. A failure to audit is logged
 * and does not change the reply: the caller still gets the guide's code, never a 5xx.
 */
export async function auditRefusal(writer: AuditWriter, log: Logger, r: Refusal): Promise<void> {
  try {
    await writer.write(
      auditEvent('app', r.appId ?? 'unknown', 'interface.refused', {
        target: r.interfaceCode,
        outcome: 'refused',
        respCode: r.respCode,
        requestId: r.requestId,
        detail: JSON.stringify({ reason: r.reason.slice(0, 200) }),
      }),
    );
  } catch (err) {
    log.warn({ err, requestId: r.requestId }, 'could not audit a refused interface call');
  }
}
