import { parseArgs } from 'node:util';
import type { Config } from '../config.js';
import { cliLogger } from '../log.js';
import { createPlatform } from '../platform.js';
import { sealAudit, verifyAudit } from '../domain/audit-chain.js';
import type { Io } from './io.js';

const HELP = `mdl audit verify [--json]   check the audit trail's seal chain; exit 1 at the first altered, removed or inserted event
mdl audit seal [--json]     seal the events written since the last seal (a running platform does it every 5 s)`;

export async function auditCommand(config: Config, args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  const sub = positionals[0];
  if (values.help || (sub !== 'verify' && sub !== 'seal')) {
    io.out(HELP);
    return values.help ? 0 : 2;
  }
  const platform = await createPlatform(config, { queue: false, log: cliLogger() });
  try {
    if (sub === 'seal') {
      let sealed = 0;
      for (let n = -1; n !== 0; sealed += n) n = await sealAudit(platform.db, platform.vault, 10_000);
      io.out(values.json ? JSON.stringify({ sealed }) : `sealed ${sealed} events`);
      return 0;
    }
    const r = await verifyAudit(platform.db, platform.vault, platform.now());
    if (values.json) io.out(JSON.stringify(r));
    else if (r.ok) io.out(`audit trail intact: ${r.sealedEvents} events in ${r.seals} seals, ${r.pendingEvents} not sealed yet`);
    else io.out(`AUDIT TRAIL BROKEN at event ${r.problem!.eventId} (${r.problem!.kind}): ${r.problem!.message}`);
    return r.ok ? 0 : 1;
  } finally {
    await platform.close();
  }
}
