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

/**
 * Characters that can disguise a log line when it is read (terminal escapes, bidi overrides like U+202E,
 * zero-width and line/paragraph separators). JSON already escapes C0 controls in the raw line, but a
 * pretty-printer or a log viewer turns them back; values from jobs and bookmakers can hold any of them.
 */
const disguisingCharRe = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
/** How deep an object logged is searched for strings to escape (logged objects are shallow; a limit anyway). */
const escapeDepthMax = 8;

/** The text with every disguising character written out as a visible `\uXXXX` (or `\u{XXXXX}`) escape. */
export function escapeLogText(text: string): string {
  return text.replace(disguisingCharRe, (c) => {
    const code = c.codePointAt(0) ?? 0;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** The value with its strings escaped; the very same object when nothing needed escaping (the common case). */
export function escapeLogValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    disguisingCharRe.lastIndex = 0;
    return disguisingCharRe.test(value) ? escapeLogText(value) : value;
  }
  if (typeof value !== 'object' || value === null || depth >= escapeDepthMax) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const escaped = escapeLogValue(item, depth + 1);
      if (escaped !== item) (copy ??= [...value])[i] = escaped;
    });
    return copy ?? value;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  // Plain objects only: errors go through the err serializer below, other classes print as they choose.
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const escaped = escapeLogValue(item, depth + 1);
    if (escaped !== item) (copy ??= { ...value })[key] = escaped;
  }
  return copy ?? value;
}

/** pino's error serializer, escaped; a stack keeps its line breaks (they are the stack's, not a job's). */
function escapeError(error: Error): unknown {
  // The serialized error has pino's own prototype: copied to a plain object so that it is escaped.
  const serialized = { ...pino.stdSerializers.err(error) } as Record<string, unknown>;
  const stack = typeof serialized.stack === 'string' ? serialized.stack.split('\n').map(escapeLogText).join('\n') : serialized.stack;
  return { ...(escapeLogValue(serialized) as Record<string, unknown>), stack };
}

/** Options every service logger shares: redaction, and escaping of disguising characters in messages, fields and errors. */
export const logOptions: Pick<LoggerOptions, 'redact' | 'formatters' | 'hooks' | 'serializers'> = {
  redact: logRedaction,
  formatters: { log: (object) => escapeLogValue(object) as Record<string, unknown> },
  serializers: { err: escapeError },
  hooks: {
    logMethod(args, method) {
      // An error logged alone takes its message as the line's msg: escaped here, like any other message.
      const [first] = args;
      const withMsg = args.length === 1 && first instanceof Error ? [first, first.message] : args;
      method.apply(this, withMsg.map((arg) => escapeLogValue(arg)) as Parameters<typeof method>);
    },
  },
};

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', destination: DestinationStream = pino.destination(2)): Logger {
  return pino({ name, level, ...logOptions }, destination);
}

/**
 * The loud log line of an exposure: exactly one `EXPOSURE ALERT` line per `exposure_alert` event written (log-based
 * paging counts these lines), called with the events a step has just written. Placement (saga), settlement
 * (poller) and the settlement sweep all log through here, so an exposure that is only updated logs no alert.
 */
export function logExposureAlerts(log: Logger, written: ReadonlyArray<{ type: string; data: Record<string, unknown> }>): void {
  for (const { type, data } of written) {
    if (type !== 'exposure_alert') continue;
    const reason = String(data.exposure_reason);
    const arbId = String(data.arbId);
    log.error({ arbId, betPairId: data.betPairId, exposureReason: reason, exposureKey: data.exposureKey, exposure: data.record }, `EXPOSURE ALERT ${reason}: pair ${arbId} needs manual review`);
  }
}
