// The service logger: JSON lines on stderr (pino), level from LOG_LEVEL.
import { pino, type Logger } from 'pino';

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level }, pino.destination(2));
}
