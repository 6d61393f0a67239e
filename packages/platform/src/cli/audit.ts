import type { Args, Command, Io } from '@mdl/protocol/cli';
import type { Config } from '../config.js';
import { cliLogger } from '../log.js';
import { createPlatform } from '../platform.js';
import { sealAudit, verifyAudit } from '../domain/audit-chain.js';

export const auditCommand: Command<Config> = {
  name: 'audit',
  summary:
    "audit trail: verify | seal\n  verify: check the audit trail's seal chain; exit 1 at the first altered, removed or inserted event\n  seal: seal the events written since the last seal (every process running jobs does it every 5 s)",
  usage: ['audit verify [--json]', 'audit seal [--json]'],
  options: {},
  run: (a, io, config) => audit(config, a, io),
};

async function audit(config: Config, a: Args, io: Io): Promise<number> {
  const values = { json: a.json };
  const sub = a.positionals[0];
  if (sub !== 'verify' && sub !== 'seal') {
    io.out(a.help());
    return 2;
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
