import { isDatabaseAway } from '../db/outage.js';
import type { Logger } from '../log.js';

/**
 * The last line of defence of a long-running process (serve, worker) against a database restart (issue #14):
 * an error of a connection going away that escaped every handler (a library promise nobody awaited, an 'error'
 * event without a listener) is logged and the process keeps running; the pool reconnects by itself. Anything
 * else still ends the process, as it would without this guard. Returns the function that removes the guard.
 */
export function keepRunningThroughOutages(log: Logger): () => void {
  const onRejection = (reason: unknown) => {
    if (isDatabaseAway(reason)) return void log.warn({ err: (reason as Error)?.message }, 'database connection lost (kept running)');
    throw reason;
  };
  const onException = (err: Error) => {
    if (isDatabaseAway(err)) return void log.warn({ err: err.message }, 'database connection lost (kept running)');
    log.fatal({ err }, 'uncaught exception');
    process.stderr.write(`mdl: ${err.stack ?? String(err)}\n`);
    process.exit(1);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
