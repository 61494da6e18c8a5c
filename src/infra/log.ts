// The service logger: JSON lines on stderr (pino), level from LOG_LEVEL, credentials redacted.
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/**
 * Fields that may hold a bookmaker key or an API token, censored wherever pino meets them (top level, one
 * level down, and request/response headers). The keys themselves are also wrapped (src/credentials.ts
 * Secret prints as [redacted]); this is the second line of defence, for a header object or a config
 * fragment logged by mistake.
 */
export const redactPaths: readonly string[] = [
  'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization', '*.*.headers.authorization',
  'apiKey', '*.apiKey', 'apiKeys', '*.apiKeys', 'token', '*.token', 'secret', '*.secret', 'password', '*.password',
  'credentials', '*.credentials', '*.*.credentials',
  'headers["x-api-key"]', '*.headers["x-api-key"]',
];

export const logRedaction: NonNullable<LoggerOptions['redact']> = { paths: [...redactPaths], censor: '[redacted]' };

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', destination: DestinationStream = pino.destination(2)): Logger {
  return pino({ name, level, redact: logRedaction }, destination);
}
