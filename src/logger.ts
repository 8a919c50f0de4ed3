/**
 * Structured JSON logs (pino). Secrets never reach a log line: the redact list covers the
 * places a key or password can sit in what we log, and API keys that slip into free text are
 * masked by `maskSecrets` before logging.
 */
import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'Authorization',
  '*.authorization',
  '*.Authorization',
  'password',
  '*.password',
  '*.apiKey',
  'apiKey',
  '*.token',
  'token',
  '*.secret',
  'secret',
  'key',
  '*.key',
  'connectionParams',
];

/** API keys look like `oc_<id>_<secret>`; mask the secret part wherever it appears in text. */
export function maskSecrets(text: string): string {
  return text.replace(/\b(oc_[A-Za-z0-9]+_)[A-Za-z0-9_-]{8,}/g, '$1***').replace(/(Bearer\s+)\S+/gi, '$1***');
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'odoo-companion' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // Free-text messages can quote a header or a URL; mask anything key-shaped.
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? maskSecrets(a) : a)) as typeof args;
          return method.apply(this, masked);
        },
      },
    },
    destination,
  );
}
