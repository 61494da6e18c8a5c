// Worker configuration: one zod schema with every default, and the relations between limits checked at start-up.
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { ARB_MARGIN_BPS_MAX_DEFAULT, IDENTIFIER_RE, WORST_CASE_MINOR_MIN_DEFAULT } from './domain/validation.js';

const providerIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Names an object already has (`__proto__`, `constructor`, `toString`, …): as a record key in a config they
 * would shadow or replace the prototype of the object they are read from. Refused as provider and account names.
 */
const prototypeNames = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);
const notPrototypeName = (what: string) => (name: string) => !prototypeNames.has(name) || `${what} "${name}" is a name every JavaScript object already has; choose another`;

/** BullMQ queue names: no `:` (BullMQ's key separator; it refuses one at start-up), nothing that could forge a key. */
const queueNameSchema = (fallback: string) => z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'queue names are [A-Za-z0-9_.-]{1,64} (no ":", BullMQ\'s key separator)').default(fallback);

/** How a secret is written in the config: where to read it, never the secret itself (src/credentials.ts reads it). */
const secretRefHint = 'a secret is referenced, never written in the config: { "env": "VAR_NAME" } or { "file": "/absolute/path" }';
/** The environment variable names a secret reference may use. */
export const envVarNameRe = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Keys that look like someone pasted a secret where only a reference belongs. */
const secretLikeKeyRe = /key|token|secret|pass|auth|bearer|cred/i;

/** Strict-object errors that point at the credentials settings when an unknown key looks like an inline secret. */
function unknownKeyError(where: string) {
  return (issue: { code?: string; keys?: readonly string[] }): string | undefined => {
    if (issue.code !== 'unrecognized_keys') return undefined;
    const keys = issue.keys ?? [];
    const secretLike = keys.filter((k) => secretLikeKeyRe.test(k));
    const quoted = keys.map((k) => `"${k}"`).join(', ');
    return secretLike.length === 0
      ? `Unrecognized key(s) ${quoted}`
      : `Unrecognized key(s) ${quoted}: inline secrets are refused; ${where}: ${secretRefHint}`;
  };
}

export const secretRefSchema = z.strictObject({
  /** Environment variable holding the secret (read once, at start-up). */
  env: z.string().regex(envVarNameRe, 'an environment variable name ([A-Za-z_][A-Za-z0-9_]{0,127})').optional(),
  /** File holding the secret (read once, at start-up; surrounding whitespace trimmed). */
  file: z.string().max(4096).refine(isAbsolute, 'an absolute path').optional(),
}, { error: (issue) => (issue.code === 'invalid_type' ? secretRefHint : unknownKeyError('use')(issue)) })
  .refine((ref) => (ref.env === undefined) !== (ref.file === undefined), `exactly one of "env" or "file": ${secretRefHint}`);

export type SecretRef = z.infer<typeof secretRefSchema>;

/** Accounts with credentials of their own, per provider; a limit like everything else. */
export const accountsPerProviderMax = 10_000;

const accountSchema = z.strictObject({
  /** This account's own key, sent on its placements (lookups and status checks use the provider's key). */
  credentials: secretRefSchema,
}, { error: unknownKeyError('use "credentials"') });

/**
 * A URL may not carry credentials or parameters: the HTTP provider sends only origin and path, so a
 * `user:pass@`, `?key=` or `#…` would be dropped silently and every request sent without them.
 */
export function urlCarriesExtras(url: URL): boolean {
  return url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '';
}

const providerSchema = z.strictObject({
  /** Base URL of the bookmaker's HTTP API (reference protocol, see src/sim/PROTOCOL.md). */
  url: z.url().refine((u) => !URL.canParse(u) || ['http:', 'https:'].includes(new URL(u).protocol), 'only an http:// or https:// URL')
    .refine((u) => !URL.canParse(u) || !urlCarriesExtras(new URL(u)),
    'a URL with a user:password@, a ?query or a #fragment is refused (they would never be sent; the URL is not repeated here): put the bookmaker\'s key in this provider\'s "credentials"'),
  /** Timeout of every request to this bookmaker. Defaults to the global providerTimeoutMs. */
  requestTimeoutMs: z.int().positive().max(120_000).optional(),
  /** Keep-alive connections kept open to this bookmaker. */
  connections: z.int().positive().max(1024).default(32),
  /**
   * The bookmaker offers batched settlement status (src/sim/PROTOCOL.md: `POST /bets/status`, the account feed
   * `GET /accounts/:id/settled`): its bets are polled per account on the adaptive schedule, within
   * settlementDeadlineMs. false: each bet polled on its own, every settlementPollIntervalMs × settlementPollCountMax.
   */
  settlementBatch: z.boolean().default(false),
  /** The bookmaker's API key, sent as `Authorization: Bearer <key>` on every request (src/credentials.ts). */
  credentials: secretRefSchema.optional(),
  /** Accounts with keys of their own (account ids compared ignoring case, as the arb checks do). */
  accounts: z.record(z.string().regex(IDENTIFIER_RE).refine(notPrototypeName('account id')), accountSchema, {
    error: (issue) => (issue.code === 'invalid_key' ? 'account ids are [A-Za-z0-9_-]{1,64}' : undefined),
  }).optional(),
}, { error: unknownKeyError('use "credentials"') }).superRefine((provider, ctx) => {
  const accountIds = Object.keys(provider.accounts ?? {});
  if (accountIds.length === 0) return;
  if (provider.credentials === undefined) {
    ctx.addIssue({ code: 'custom', path: ['credentials'], message: 'required when accounts have keys of their own: lookups and status checks use the provider\'s key' });
  }
  if (accountIds.length > accountsPerProviderMax) {
    ctx.addIssue({ code: 'custom', path: ['accounts'], message: `${accountIds.length} accounts > accountsPerProviderMax (${accountsPerProviderMax})` });
  }
  const seen = new Map<string, string>();
  for (const id of accountIds) {
    const other = seen.get(id.toLowerCase());
    if (other !== undefined) ctx.addIssue({ code: 'custom', path: ['accounts', id], message: `same account as "${other}" (account ids are compared ignoring case)` });
    seen.set(id.toLowerCase(), id);
  }
});

const rateLimitSchema = z.object({
  /** Placements allowed per account inside the sliding window. */
  placementsMax: z.int().positive().max(1_000_000).default(20),
  windowMs: z.int().positive().max(86_400_000).default(60_000),
}).strict();

/** How long, and how many, finished jobs of one outcome BullMQ keeps (its removeOnComplete / removeOnFail). */
const retentionSchema = (ageMs: number, countMax: number) => z.strictObject({
  /** Jobs older than this are removed (BullMQ counts in whole seconds: rounded up). */
  ageMs: z.int().positive().max(365 * 86_400_000).default(ageMs),
  /** At most this many are kept, the newest. */
  countMax: z.int().nonnegative().max(10_000_000).default(countMax),
}).prefault({});

export type JobRetention = z.infer<ReturnType<typeof retentionSchema>>;

/** BullMQ's KeepJobs for a retention: age in seconds (BullMQ's unit), count as is. */
export function bullKeepJobs(retention: JobRetention): { age: number; count: number } {
  return { age: Math.ceil(retention.ageMs / 1000), count: retention.countMax };
}

/**
 * Circuit breakers per bookmaker and per bookmaker account, shared by every worker through Redis (README: Circuit
 * breakers; the rules are src/domain/circuit.ts). Defaults: a bookmaker whose placements (or reads) fail half the
 * time over 30 s, at least 10 of them, stops taking new pairs for 30 s, then is probed without placing a bet.
 */
const circuitBreakerSchema = z.strictObject({
  /**
   * false: this worker reports no outcomes, so nothing trips by itself. Circuits already open are still probed, an
   * operator can still force one open or closed, and preflight still refuses a pair on an open circuit.
   */
  enabled: z.boolean().default(true),
  /** The sliding window outcomes are counted over (kept in 10 buckets). */
  windowMs: z.int().min(100).max(3_600_000).default(30_000),
  /** Failures / outcomes of one class (placements, or lookups and status checks) in the window that open a bookmaker's circuit. */
  failureRatio: z.number().gt(0).max(1).default(0.5),
  /** Outcomes of that class in the window below which the circuit never opens. */
  minVolume: z.int().min(1).max(1_000_000).default(10),
  /** Account answers (401/403, an account limit) within the window that open that account's circuit. */
  accountFailuresMin: z.int().min(1).max(1_000_000).default(3),
  /** Rejection reasons (exact, or followed by ":") that mean the account is limited; 401/403 always count. */
  accountFailureReasons: z.array(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'a reason name [A-Za-z0-9_.-]{1,64}')).max(100)
    .default(['account_limited', 'account_restricted', 'account_suspended', 'account_closed', 'http_429']),
  /** How long an open circuit waits before a probe; doubled for each open in a row (a failed probe, a quick re-trip). */
  coolOffMs: z.int().min(10).max(3_600_000).default(30_000),
  /** Longest cool-off, whatever the streak. */
  coolOffMsMax: z.int().min(10).max(86_400_000).default(300_000),
  /** How often a worker sends the outcomes it counted to Redis (one Lua step per circuit with news). */
  reportIntervalMs: z.int().min(1).max(60_000).default(100),
  /** How often a worker looks for circuits due a probe (and probes at most a few per look). */
  probeIntervalMs: z.int().min(10).max(600_000).default(1_000),
}).prefault({});

export const configSchema = z.object({
  /** Bookmakers by provider name (the `provider` of a bet leg). */
  providers: z.record(z.string().regex(providerIdPattern, 'provider names are [A-Za-z0-9_-]{1,64}').refine(notPrototypeName('provider')), providerSchema)
    .refine((providers) => Object.keys(providers).length > 0, 'at least one provider (with none every pair would be rejected)'),
  /** BullMQ queue the scanners fill. Contract name: bet-pairs. */
  queueName: queueNameSchema('bet-pairs'),
  /** BullMQ queue of settlement polls (one per deployment sharing a Redis); never the input queue. */
  settlementQueueName: queueNameSchema('bet-settlement'),
  /** Pairs executed at once by one worker process. */
  concurrency: z.int().positive().max(256).default(16),
  /** Cooldown per whitelabel/provider/account after a placement. */
  cooldownMs: z.int().positive().max(86_400_000).default(60_000),
  rateLimit: rateLimitSchema.default({ placementsMax: 20, windowMs: 60_000 }),
  /** A pair whose createdAt (or enqueue time) is older than this when picked up is blocked as stale. */
  arbAgeMsMax: z.int().positive().max(86_400_000).default(30_000),
  /** Largest stake accepted on one leg, in minor units. */
  stakeMinorMax: z.int().positive().max(Number.MAX_SAFE_INTEGER).default(10_000_000),
  /**
   * Lowest planned worst case of a pair (its P&L in the worst outcome its legs can have), minor units.
   * Default 0: an arb must not lose in any outcome (why no negative tolerance: src/domain/validation.ts).
   */
  worstCaseMinorMin: z.int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).default(WORST_CASE_MINOR_MIN_DEFAULT),
  /** Largest margin 10000 × (1 − 1/p − 1/h) a pair's prices may leave, bps: more is a scanner bug or a palpable error. */
  arbMarginBpsMax: z.int().nonnegative().max(10_000).default(ARB_MARGIN_BPS_MAX_DEFAULT),
  /** Timeout of every bookmaker request unless the provider sets its own. */
  providerTimeoutMs: z.int().positive().max(120_000).default(5_000),
  /** Lease on a pair (lock:arb:{arbId}); renewed every third of it while the pair is worked on. */
  lockTtlMs: z.int().positive().max(600_000).default(30_000),
  /** Hedge attempts (each a new client reference) after the positive is accepted. */
  hedgeAttemptsMax: z.int().positive().max(20).default(3),
  /** Time from the positive's acceptance within which the hedge must be accepted. */
  hedgeDeadlineMs: z.int().positive().max(600_000).default(15_000),
  /** Pause between two hedge attempts. */
  hedgeRetryBackoffMs: z.int().nonnegative().max(60_000).default(200),
  /** Worst-case loss accepted when re-pricing the hedge at moved odds, in basis points of the positive stake. */
  hedgeRepriceLossBpsMax: z.int().nonnegative().max(10_000).default(100),
  /**
   * Replicas that must hold the journal before a bookmaker request leaves: after the intent is journaled,
   * `WAIT journalReplicasMin journalWaitTimeoutMs`; fewer acknowledgements → nothing is sent, the pair is
   * retried later (`journal_not_replicated`). 0: no wait (a single Redis; a failover may lose the last intents).
   */
  journalReplicasMin: z.int().nonnegative().max(16).default(0),
  /** Longest wait for those acknowledgements; under the store connection's 3 s command timeout. */
  journalWaitTimeoutMs: z.int().positive().max(2_000).default(500),
  /** Same-reference sends of one placement after the bookmaker said it never received it. */
  placementSendsMax: z.int().positive().max(10).default(3),
  /** How long an in-doubt or pending placement may stay unknown before it is flagged for review. */
  inDoubtDeadlineMs: z.int().positive().max(3_600_000).default(30_000),
  /**
   * A bookmaker may commit a request it did not answer (still in its queue) after we look it up. A
   * `not_found` is trusted only from a lookup made this long after the last send whose answer was lost
   * (or after a resumed pair was taken over); before that the placement stays in doubt, never resent.
   */
  lateCommitGraceMs: z.int().nonnegative().max(600_000).default(2_000),
  /** A createdAt this far ahead of Redis time is refused (a scanner clock running fast would switch staleness off). */
  createdAtSkewMsMax: z.int().nonnegative().max(3_600_000).default(5_000),
  /** Pause between two lookups / status checks of an in-doubt or pending placement. */
  inDoubtPollMs: z.int().positive().max(60_000).default(250),
  settlementPollIntervalMs: z.int().positive().max(3_600_000).default(5_000),
  settlementPollCountMax: z.int().positive().max(100_000).default(120),
  /**
   * Batch-capable bookmakers: how long a bet is polled, from the event's expected end (when the job gave it) or
   * from when its polling began, before it counts as `timeout` (a settlement_timeout exposure).
   */
  settlementDeadlineMs: z.int().positive().max(30 * 86_400_000).default(3 * 86_400_000),
  /**
   * Batch-capable bookmakers: an account is polled every settlementPollIntervalMs for this long once results are
   * likely (from an open bet's event's expected end, else from when the bet's polling began); outside that
   * window its polls back off exponentially (×2 per poll that found nothing) up to settlementPollBackoffMaxMs.
   */
  settlementFastWindowMs: z.int().positive().max(30 * 86_400_000).default(600_000),
  settlementPollBackoffMaxMs: z.int().positive().max(86_400_000).default(300_000),
  /** Bets asked per `POST /bets/status` (newly opened bets are checked by id once) and per feed page. */
  settlementBatchSize: z.int().positive().max(500).default(500),
  /** Feed pages read per account poll (the rest on the next poll, due at once). */
  settlementFeedPagesMax: z.int().positive().max(1000).default(10),
  /**
   * How long a worker holds an account's poll: another worker polls the account again after this when the first
   * died mid-poll (nothing is lost: results are recorded once, the feed cursor moves only after them).
   */
  settlementAccountLeaseMs: z.int().positive().max(3_600_000).default(30_000),
  /** How often a worker's account poller looks for accounts due (one loop per process, no timer per bet). */
  settlementTickMs: z.int().positive().max(60_000).default(200),
  /**
   * After a pair's first reconciliation, each of its bets is checked once more this long later: bookmakers
   * re-settle (won → void, a corrected result). A changed result is re-reconciled. 0 = off.
   */
  resettlementCheckDelayMs: z.int().nonnegative().max(30 * 86_400_000).default(3_600_000),
  /**
   * How often a worker sweeps for settlement poll chains that died (a poll job stalled into BullMQ's failed
   * set, or gone): each raises a `settlement_lost` exposure and its chain is started again.
   */
  settlementSweepMs: z.int().positive().max(3_600_000).default(60_000),
  /** Settlement polls run at once by one worker process (each is one status request). */
  settlementConcurrency: z.int().positive().max(1024).default(32),
  /** TTL of exposure:{whitelabel}:{provider}:{betPairId} records. */
  exposureTtlMs: z.int().positive().max(30 * 86_400_000).default(86_400_000),
  /** How long a pair's journal (and so its idempotency) is kept. */
  pairRecordTtlMs: z.int().positive().max(365 * 86_400_000).default(7 * 86_400_000),
  /** Approximate cap of the events stream (the audit stream is never trimmed). */
  eventsStreamLenMax: z.int().positive().max(100_000_000).default(1_000_000),
  /** BullMQ job lock and stalled-job check: how fast a crashed worker's job is handed to another. */
  jobLockMs: z.int().positive().max(600_000).default(30_000),
  stalledCheckMs: z.int().positive().max(600_000).default(15_000),
  stalledCountMax: z.int().positive().max(10_000).default(100),
  /**
   * Largest job data accepted on the bet-pairs queue, in UTF-8 bytes of its JSON. Larger data is refused
   * (`arb_rejected`, reason `payload_too_large`) without being parsed. A bet pair is well under 2 KiB.
   */
  jobDataBytesMax: z.int().positive().max(16 * 1024 * 1024).default(65_536),
  /**
   * Longest a worker's shutdown (SIGTERM/SIGINT) waits for its in-flight pairs and connections. Past it the
   * process exits anyway (code 1), abandoning what is still running: each pair is journaled before every
   * bet, so another worker resumes it from the journal once its lease and job lock lapse.
   */
  shutdownTimeoutMs: z.int().positive().max(600_000).default(10_000),
  /**
   * Finished jobs kept on both queues (bet-pairs and settlement), by outcome. A rejected pair is a completed
   * job (BullMQ keeps one completed set, so it shares that bound; its data is at most jobDataBytesMax); job
   * data refused unread is a failed job, its data replaced by a stub. Idempotency never depends on them: the
   * pair's journal (pairRecordTtlMs) refuses a duplicate whatever BullMQ still keeps.
   */
  jobRetention: z.strictObject({
    completed: retentionSchema(86_400_000, 10_000),
    failed: retentionSchema(7 * 86_400_000, 10_000),
  }).prefault({}),
  /** Pause before a job that met a busy lease or a Redis error is tried again. */
  retryDelayMs: z.int().positive().max(600_000).default(1_000),
  /**
   * Port of the worker's Prometheus endpoint (GET /metrics). Unset (the default): no metrics server (the
   * counters are still kept, at the cost of an increment). 0: any free port (tests; the log says which).
   */
  metricsPort: z.int().min(0).max(65_535).optional(),
  /** Address the metrics server listens on. Keep it private: the scraper's network only. */
  metricsHost: z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/, 'metricsHost is an IP address or a host name').default('127.0.0.1'),
  /** Longest a scrape waits for one Redis-derived source (exposures, kill switches, queues) before leaving it out. */
  metricsScrapeTimeoutMs: z.int().positive().max(60_000).default(2_000),
  circuitBreaker: circuitBreakerSchema,
}).strict();

export type Config = z.infer<typeof configSchema>;
export type CircuitBreakerConfig = Config['circuitBreaker'];

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Relations between limits that a valid config must keep; each message shows the values. */
export function limitRelationErrors(config: Config): string[] {
  return relationErrors(config);
}

/**
 * The relations whose fields are all valid (the others wait for their fields to be fixed): so that a config
 * with field errors hears about its contradictions in the same report.
 */
function relationErrors(config: Partial<Config>): string[] {
  const errors: string[] = [];
  const c = config;
  const timeoutMsMax = c.providerTimeoutMs === undefined ? undefined
    : Math.max(c.providerTimeoutMs, ...Object.values(c.providers ?? {}).map((p) => p.requestTimeoutMs ?? 0));
  if (c.lockTtlMs !== undefined && timeoutMsMax !== undefined && c.lockTtlMs < 3 * timeoutMsMax) {
    errors.push(`lockTtlMs (${c.lockTtlMs}) < 3 × provider timeout (${timeoutMsMax}): the lease must outlive a bookmaker call`);
  }
  if (c.lateCommitGraceMs !== undefined && c.inDoubtDeadlineMs !== undefined && c.lateCommitGraceMs >= c.inDoubtDeadlineMs) {
    errors.push(`lateCommitGraceMs (${c.lateCommitGraceMs}) >= inDoubtDeadlineMs (${c.inDoubtDeadlineMs}): a not_found could never be trusted`);
  }
  if (c.inDoubtDeadlineMs !== undefined && timeoutMsMax !== undefined && c.inDoubtDeadlineMs <= timeoutMsMax) {
    errors.push(`inDoubtDeadlineMs (${c.inDoubtDeadlineMs}) <= provider timeout (${timeoutMsMax})`);
  }
  if (c.pairRecordTtlMs !== undefined && c.arbAgeMsMax !== undefined && c.pairRecordTtlMs <= c.arbAgeMsMax) {
    errors.push(`pairRecordTtlMs (${c.pairRecordTtlMs}) <= arbAgeMsMax (${c.arbAgeMsMax}): a stale duplicate could run again`);
  }
  if (c.stalledCheckMs !== undefined && c.jobLockMs !== undefined && c.stalledCheckMs > c.jobLockMs) {
    errors.push(`stalledCheckMs (${c.stalledCheckMs}) > jobLockMs (${c.jobLockMs})`);
  }
  const cb = c.circuitBreaker;
  if (cb !== undefined && cb.coolOffMsMax < cb.coolOffMs) {
    errors.push(`circuitBreaker.coolOffMsMax (${cb.coolOffMsMax}) < circuitBreaker.coolOffMs (${cb.coolOffMs})`);
  }
  if (c.settlementAccountLeaseMs !== undefined && timeoutMsMax !== undefined && c.settlementAccountLeaseMs < 3 * timeoutMsMax) {
    errors.push(`settlementAccountLeaseMs (${c.settlementAccountLeaseMs}) < 3 × provider timeout (${timeoutMsMax}): an account's poll must outlive a bookmaker call`);
  }
  if (c.settlementPollBackoffMaxMs !== undefined && c.settlementPollIntervalMs !== undefined && c.settlementPollBackoffMaxMs < c.settlementPollIntervalMs) {
    errors.push(`settlementPollBackoffMaxMs (${c.settlementPollBackoffMaxMs}) < settlementPollIntervalMs (${c.settlementPollIntervalMs})`);
  }
  if (c.settlementDeadlineMs !== undefined && c.pairRecordTtlMs !== undefined && c.settlementDeadlineMs >= c.pairRecordTtlMs) {
    errors.push(`settlementDeadlineMs (${c.settlementDeadlineMs}) >= pairRecordTtlMs (${c.pairRecordTtlMs}): the journal would expire before its bets' polling ends`);
  }
  if (c.queueName !== undefined && c.queueName === c.settlementQueueName) {
    errors.push(`queueName (${c.queueName}) = settlementQueueName (${c.settlementQueueName}): settlement polls would be taken as bet pairs and lost`);
  }
  return errors;
}

/** The fields of a raw config that are valid on their own (defaults for absent ones); invalid ones left out. */
function validFields(raw: unknown): Partial<Config> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(configSchema.shape)) {
    const field = (schema as z.ZodType).safeParse((raw as Record<string, unknown>)[key]);
    if (field.success) out[key] = field.data;
  }
  return out as Partial<Config>;
}

function ownKeys(value: unknown): string[] {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.keys(value) : [];
}

/**
 * Provider and account names that are prototype names, read from the raw JSON: zod drops a `__proto__` key
 * from a record without a word (JSON.parse makes it an own key), so the schema alone would never see it.
 */
function prototypeNameErrors(raw: unknown): string[] {
  const providers = (raw as { providers?: unknown } | null)?.providers;
  const errors: string[] = [];
  for (const name of ownKeys(providers)) {
    if (prototypeNames.has(name)) errors.push(`providers.${name}: provider "${name}" is a name every JavaScript object already has; choose another`);
    const accounts = (Object.getOwnPropertyDescriptor(providers, name)?.value as { accounts?: unknown } | undefined)?.accounts;
    for (const id of ownKeys(accounts)) {
      if (prototypeNames.has(id)) errors.push(`providers.${name}.accounts.${id}: account id "${id}" is a name every JavaScript object already has; choose another`);
    }
  }
  return errors;
}

export function parseConfig(raw: unknown): Config {
  const result = configSchema.safeParse(raw);
  const fieldErrors = result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  // One report: field errors, prototype names, and the contradictions between the fields that are valid.
  const errors = [...new Set([...fieldErrors, ...prototypeNameErrors(raw), ...relationErrors(result.success ? result.data : validFields(raw))])];
  if (errors.length > 0 || !result.success) throw new ConfigError(`invalid config:\n  ${errors.join('\n  ')}`);
  return result.data;
}

/** The JSON of a config file; a ConfigError (exit 2, the file named) when it cannot be read or is not JSON. */
export function readConfigJson(path: string, what = 'config'): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${what} file ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${what} file ${path} is not JSON: ${withoutExcerpt((error as Error).message)}`);
  }
}

export function loadConfigFile(path: string): Config {
  return parseConfig(readConfigJson(path));
}

/** V8 quotes the text around a JSON syntax error, which may be a secret pasted into the file: keep the rest. */
function withoutExcerpt(message: string): string {
  return message.replace(/(^|, )(\.\.\.)?".*"(\.\.\.)? is not valid JSON$/s, '$1(excerpt not shown: it may hold a secret) is not valid JSON');
}
