import { pino } from 'pino';

/** Paths never written to a log, wherever they appear in a log record. */
const REDACTED = [
  'token',
  'password',
  'code',
  '*.token',
  '*.password',
  '*.code',
  'req.headers.authorization',
  'req.headers.cookie',
];

export type Logger = pino.Logger;

/** Structured JSON logs on stdout, one line per event. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'lifeline-control-plane' },
    redact: { paths: REDACTED, censor: '***' },
  });
}
