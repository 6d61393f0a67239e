import pino from 'pino';

export type Logger = pino.Logger;

/**
 * One logger for server, worker and CLI. Personal data never reaches it: callers log blind indexes or
 * masked values (maskIdNo, maskName), and these paths are redacted as a second line of defence.
 */
export function createLogger(level: string, name = 'mdl', destination?: number): Logger {
  const options = {
    name,
    level,
    redact: { paths: ['*.idNo', '*.userName', '*.mobilePhone', '*.secret', 'secret', 'req.headers.authorization'], censor: '[redacted]' },
  };
  return destination === undefined ? pino(options) : pino(options, pino.destination(destination));
}

/** A CLI command's logger: warnings only, on standard error, so that its own output (`--json`) stays parseable. */
export function cliLogger(): Logger {
  return createLogger('warn', 'mdl', 2);
}
