// Alerter configuration: one strict zod schema with every default and limit, relations between limits checked at start-up.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, secretRefSchema } from '../config.js';
import { alertEventTypes, defaultAlertEvents } from './alert.js';

const namePattern = /^[A-Za-z0-9_-]{1,64}$/;
/** Names JSON.parse turns into own properties but that would read as Object.prototype's on a plain lookup. */
const reservedNames: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

// Secrets are referenced exactly as bookmaker credentials are (one schema, one reader: src/credentials.ts).
export { secretRefSchema, type SecretRef } from '../config.js';

/** http(s) only, and no credentials in it (they would be logged with it and are never the way a sink authenticates). */
const httpUrl = z.url({ protocol: /^https?$/, error: 'an http:// or https:// URL' }).max(2048).refine((text) => {
  const url = new URL(text);
  return url.username === '' && url.password === '';
}, 'no user:password@ in a URL: use the sink\'s secret settings');

const eventType = z.enum(alertEventTypes);
/** Which alert kinds a sink receives (default: every kind the alerter alerts on). */
const sinkEvents = z.array(eventType).min(1).max(alertEventTypes.length).optional();

const webhookSink = z.object({
  type: z.literal('webhook'),
  /** Receiver of the JSON alert, POSTed as is. */
  url: httpUrl,
  /** HMAC-SHA256 key of the `X-Bet-Executor-Signature` header. */
  secret: secretRefSchema,
  events: sinkEvents,
}).strict();

const slackSink = z.object({
  type: z.literal('slack'),
  /** The incoming-webhook URL (https://hooks.slack.com/services/…): a secret itself, so by env or file. */
  webhookUrl: secretRefSchema,
  events: sinkEvents,
}).strict();

const telegramSink = z.object({
  type: z.literal('telegram'),
  /** Bot token (from @BotFather), sent in the URL path: a secret. */
  botToken: secretRefSchema,
  /** Chat, group or channel id (e.g. -1001234567890) or @channelname. */
  chatId: z.union([z.int(), z.string().regex(/^(-?\d{1,20}|@[A-Za-z0-9_]{5,64})$/, 'a numeric chat id or @channelname')]),
  /** Bot API base URL; tests point it at a local receiver. */
  baseUrl: httpUrl.default('https://api.telegram.org'),
  events: sinkEvents,
}).strict();

const alertmanagerSink = z.object({
  type: z.literal('alertmanager'),
  /** Alertmanager base URL; alerts are POSTed to {url}/api/v2/alerts. */
  url: httpUrl,
  /** Optional `Authorization: Bearer` token (an Alertmanager behind a proxy that wants one). */
  bearerToken: secretRefSchema.optional(),
  events: sinkEvents,
}).strict();

export const sinkSchema = z.discriminatedUnion('type', [webhookSink, slackSink, telegramSink, alertmanagerSink]);
export type SinkConfig = z.infer<typeof sinkSchema>;

const deliverySchema = z.object({
  /** Attempts per alert and sink, then the alert is dead-lettered for that sink. */
  attemptsMax: z.int().positive().max(100).default(8),
  /** First retry pause; each next one doubles (with jitter), up to backoffMsMax. */
  backoffBaseMs: z.int().positive().max(600_000).default(1_000),
  backoffMsMax: z.int().positive().max(3_600_000).default(60_000),
  /** A receiver's Retry-After (or Telegram's retry_after) is honoured up to this. */
  retryAfterMsMax: z.int().positive().max(3_600_000).default(300_000),
  /** Whole-request deadline of one delivery attempt: connect, send, answer. */
  requestTimeoutMs: z.int().positive().max(120_000).default(5_000),
  /** Keep-alive connections per receiver origin. */
  connections: z.int().positive().max(256).default(8),
}).strict();

const deadmanSchema = z.object({
  /** How often both conditions are checked. */
  checkIntervalMs: z.int().positive().max(3_600_000).default(15_000),
  /** Alert when no worker heartbeat is newer than this (null: off). Workers refresh theirs every 5 s. */
  workerHeartbeatStaleMs: z.int().positive().max(86_400_000).nullable().default(60_000),
  /** Alert when the oldest open exposure has waited for review longer than this (null: off). */
  exposureUnresolvedMs: z.int().positive().max(30 * 86_400_000).nullable().default(3_600_000),
  /** A condition still true is alerted again this often, until it clears. */
  realertIntervalMs: z.int().positive().max(7 * 86_400_000).default(1_800_000),
  /** Heartbeat keys read per check (workers beyond this are not seen). */
  heartbeatKeysMax: z.int().positive().max(100_000).default(1_000),
  /** Open review entries read per check to find the oldest (an operator with more has a bigger problem). */
  reviewEntriesMax: z.int().positive().max(1_000_000).default(10_000),
}).strict();

export const alerterConfigSchema = z.object({
  /** Where alerts go; several at once, each under a name of its own. */
  sinks: z.record(z.string().regex(namePattern, 'sink names are [A-Za-z0-9_-]{1,64}').refine((n) => !reservedNames.has(n), 'a reserved name'), sinkSchema)
    .refine((sinks) => Object.keys(sinks).length >= 1, 'at least one sink')
    .refine((sinks) => Object.keys(sinks).length <= 16, 'at most 16 sinks'),
  /** Event types that become alerts; every other event is acknowledged and skipped. */
  events: z.array(eventType).min(1).max(alertEventTypes.length).default([...defaultAlertEvents]),
  /** Consumer group on bet-executor:events: every alerter process of a deployment joins the same one. */
  consumerGroup: z.string().regex(namePattern).default('bet-executor-alerter'),
  /**
   * This process's consumer name. Default: host, pid and a random suffix. A stable name lets a restarted
   * alerter take up its own unfinished alerts at once instead of after claimIdleMs; never share one
   * between two running processes.
   */
  consumerName: z.string().regex(namePattern).optional(),
  /** Where a new consumer group starts: `new` events only, or `all` (replays the whole stream: every old alert). */
  startFrom: z.enum(['new', 'all']).default('new'),
  /** Entries read per XREADGROUP / XAUTOCLAIM call. */
  batchSize: z.int().positive().max(1_000).default(100),
  /** Alerts being delivered at once by this process; reading waits while it is full. */
  inFlightMax: z.int().positive().max(10_000).default(200),
  /** How long one XREADGROUP waits for new events. */
  readBlockMs: z.int().positive().max(30_000).default(1_000),
  /** A pending entry idle this long belongs to a dead alerter and is claimed (XAUTOCLAIM). */
  claimIdleMs: z.int().positive().max(3_600_000).default(30_000),
  /** How often this process looks for such entries. */
  claimIntervalMs: z.int().positive().max(3_600_000).default(10_000),
  delivery: deliverySchema.default(deliverySchema.parse({})),
  deadman: deadmanSchema.default(deadmanSchema.parse({})),
  /** Approximate cap of bet-executor:alerts:deliveries (MAXLEN ~). */
  deliveriesStreamLenMax: z.int().positive().max(10_000_000).default(100_000),
  /** Cap of bet-executor:alerts:dead (LTRIM, newest kept). */
  deadListLenMax: z.int().positive().max(1_000_000).default(10_000),
  /** Approximate cap of the events stream when the alerter appends to it (dead-letter and dead-man events). */
  eventsStreamLenMax: z.int().positive().max(100_000_000).default(1_000_000),
  /** How long an alert's per-sink delivery state is kept (refreshed on every attempt). */
  stateTtlMs: z.int().positive().max(30 * 86_400_000).default(7 * 86_400_000),
}).strict();

export type AlerterConfig = z.infer<typeof alerterConfigSchema>;

/** Relations between limits that a valid config keeps; each message shows the values. */
export function alerterLimitErrors(c: AlerterConfig): string[] {
  const errors: string[] = [];
  const d = c.delivery;
  if (d.backoffBaseMs > d.backoffMsMax) errors.push(`delivery.backoffBaseMs (${d.backoffBaseMs}) > delivery.backoffMsMax (${d.backoffMsMax})`);
  // The owner refreshes its entries' idle time every third of claimIdleMs; a read blocked longer would delay that.
  if (3 * c.readBlockMs > c.claimIdleMs) errors.push(`3 × readBlockMs (${3 * c.readBlockMs}) > claimIdleMs (${c.claimIdleMs})`);
  if (d.requestTimeoutMs >= c.claimIdleMs) errors.push(`delivery.requestTimeoutMs (${d.requestTimeoutMs}) >= claimIdleMs (${c.claimIdleMs})`);
  const m = c.deadman;
  if (m.realertIntervalMs < m.checkIntervalMs) errors.push(`deadman.realertIntervalMs (${m.realertIntervalMs}) < deadman.checkIntervalMs (${m.checkIntervalMs})`);
  if (m.workerHeartbeatStaleMs !== null && m.workerHeartbeatStaleMs < m.checkIntervalMs) {
    errors.push(`deadman.workerHeartbeatStaleMs (${m.workerHeartbeatStaleMs}) < deadman.checkIntervalMs (${m.checkIntervalMs})`);
  }
  for (const [name, sink] of Object.entries(c.sinks)) {
    const unalerted = (sink.events ?? []).filter((type) => !c.events.includes(type));
    if (unalerted.length > 0) errors.push(`sinks.${name}.events: ${unalerted.join(', ')} not in events (never alerted)`);
  }
  return errors;
}

/** Every field error at once, then every limit contradiction at once (exit 2 with the message in the CLI). */
export function parseAlerterConfig(raw: unknown): AlerterConfig {
  const result = alerterConfigSchema.safeParse(raw);
  // zod's record drops a `__proto__` key silently, so reserved names are looked for in the raw JSON.
  const rawSinks = typeof raw === 'object' && raw !== null ? (raw as { sinks?: unknown }).sinks : undefined;
  const reserved = typeof rawSinks === 'object' && rawSinks !== null ? Object.keys(rawSinks).filter((n) => reservedNames.has(n)) : [];
  if (!result.success || reserved.length > 0) {
    const lines = [
      ...reserved.map((name) => `sinks.${name}: a reserved name`),
      ...(result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)),
    ];
    throw new ConfigError(`invalid alerter config:\n  ${lines.join('\n  ')}`);
  }
  const relations = alerterLimitErrors(result.data);
  if (relations.length > 0) throw new ConfigError(`invalid alerter config:\n  ${relations.join('\n  ')}`);
  return result.data;
}

export function loadAlerterConfigFile(path: string): AlerterConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read alerter config file ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`alerter config file ${path} is not JSON: ${(error as Error).message}`);
  }
  return parseAlerterConfig(raw);
}
