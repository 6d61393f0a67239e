import pino from 'pino';

export type Logger = pino.Logger;

/**
 * One logger for server, worker and CLI. Personal data never reaches it: callers log blind indexes or
 * masked values (maskIdNo, maskName), and these paths are redacted as a second line of defence.
 */
export function createLogger(level: string, name = 'mdl'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['*.idNo', '*.userName', '*.mobilePhone', '*.secret', 'secret', 'req.headers.authorization'], censor: '[redacted]' },
  });
}
