// The API process's configuration: its own file and zod schema (workers never see token digests), every default documented.
import { z } from 'zod';
import { ConfigError, readConfigJson } from '../config.js';
import { IDENTIFIER_RE } from '../domain/validation.js';

export const SCOPES = ['read', 'operate', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

const tokenSchema = z.object({
  /** Who holds the token: the actor recorded on the audit stream for everything done with it. */
  name: z.string().regex(IDENTIFIER_RE, 'token names are [A-Za-z0-9_-]{1,64}'),
  /** read: every GET; operate: read + resolve exposures, set and clear kill switches; admin: operate + admin endpoints. */
  scope: z.enum(SCOPES),
  /** SHA-256 of the token, lower-case hex (`bet-executor token create` prints it); never the token itself. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'sha256 is the token\'s SHA-256 digest, 64 lower-case hex digits (see: bet-executor token create)'),
}).strict();

const dashboardDefaults = { enabled: true, sessionTtlMs: 43_200_000, secureCookie: false, refreshMs: 1_000, finishedPairsShown: 50, exposuresShownMax: 200 };

const dashboardSchema = z.object({
  /** Serve the dashboard (and Bull Board) from this process. */
  enabled: z.boolean().default(dashboardDefaults.enabled),
  /** A login lasts this long (a session in Redis with this TTL; logging out ends it at once). Default 12 h: one shift. */
  sessionTtlMs: z.int().min(60_000).max(604_800_000).default(dashboardDefaults.sessionTtlMs),
  /** Mark the session cookie Secure: set it true when the dashboard is served over HTTPS (a TLS proxy in front). */
  secureCookie: z.boolean().default(dashboardDefaults.secureCookie),
  /** How often live parts of a page (pairs, exposures, the kill-switch banner) are fetched again. */
  refreshMs: z.int().min(250).max(60_000).default(dashboardDefaults.refreshMs),
  /** Finished pairs shown on the Now page (pairs in flight are all shown, up to pageItemsMax). */
  finishedPairsShown: z.int().positive().max(500).default(dashboardDefaults.finishedPairsShown),
  /** Open (and resolved) exposures shown on one page at most; the count says when there are more. */
  exposuresShownMax: z.int().positive().max(10_000).default(dashboardDefaults.exposuresShownMax),
}).strict();

export const apiConfigSchema = z.object({
  /** Address to listen on. Keep it private (loopback or an operations network); TLS belongs to a proxy in front. */
  host: z.string().min(1).max(255).default('127.0.0.1'),
  port: z.int().min(0).max(65_535).default(8090),
  /** Bearer tokens, by name; at least one. */
  tokens: z.array(tokenSchema).min(1).max(1_000),
  /** Trust X-Forwarded-For from a proxy in front (the client address is then the proxy's view of it). */
  trustProxy: z.boolean().default(false),
  /** Largest request body. */
  bodyLimitBytes: z.int().positive().max(1_048_576).default(16_384),
  /** A request (headers and body) must arrive within this; a slow client is cut off. */
  requestTimeoutMs: z.int().positive().max(600_000).default(10_000),
  /**
   * Refused requests (401, 403) per client address inside a fixed window: past `failuresMax` every request
   * of the address gets 429 until the window ends, and refusals are no longer audited one by one.
   */
  authFailures: z.object({
    failuresMax: z.int().positive().max(100_000).default(20),
    windowMs: z.int().positive().max(86_400_000).default(60_000),
  }).strict().default({ failuresMax: 20, windowMs: 60_000 }),
  readiness: z.object({
    /** /ready fails when no worker's heartbeat is younger than this (the workers beat every 5 s, their key lives 15 s). */
    heartbeatAgeMsMax: z.int().positive().max(3_600_000).default(15_000),
    /** /ready fails when the oldest waiting pair has waited longer than this. */
    queueLagMsMax: z.int().positive().max(3_600_000).default(5_000),
    /** Each readiness check gives up after this (a check that hangs is a failed check). */
    checkTimeoutMs: z.int().positive().max(60_000).default(2_000),
  }).strict().default({ heartbeatAgeMsMax: 15_000, queueLagMsMax: 5_000, checkTimeoutMs: 2_000 }),
  /** The workers' queues (the same names as in their config). */
  queueName: z.string().min(1).max(64).regex(/^[^:]+$/, 'no ":" in a queue name').default('bet-pairs'),
  settlementQueueName: z.string().min(1).max(64).regex(/^[^:]+$/, 'no ":" in a queue name').default('bet-settlement'),
  /** The workers' rate limit, to show an account's placements inside its window (set it as in the workers' config). */
  accountRateLimit: z.object({
    placementsMax: z.int().positive().max(1_000_000).default(20),
    windowMs: z.int().positive().max(86_400_000).default(60_000),
  }).strict().default({ placementsMax: 20, windowMs: 60_000 }),
  /** Approximate cap of the events stream when the API appends to it (kill switches); as in the workers' config. */
  eventsStreamLenMax: z.int().positive().max(100_000_000).default(1_000_000),
  /** Largest page of any list. */
  pageItemsMax: z.int().positive().max(10_000).default(500),
  /** Index entries one page of pairs examines at most (filters that match rarely return fewer items and a cursor). */
  pairScanMax: z.int().positive().max(1_000_000).default(5_000),
  /** Audit entries one page of a pair's audit trail examines at most. */
  auditScanMax: z.int().positive().max(10_000_000).default(50_000),
  /** Open exposures listed at most (the review list is small unless something is badly wrong). */
  openExposuresMax: z.int().positive().max(1_000_000).default(10_000),
  /** How often the API counts newly settled pairs into the P&L per day (0: never; another API process does). */
  pnlProjectionIntervalMs: z.int().nonnegative().max(3_600_000).default(2_000),
  /** Audit entries read per projection step. */
  pnlProjectionBatchMax: z.int().positive().max(100_000).default(5_000),
  /** The operator's web dashboard at /dashboard (README: Dashboard). */
  dashboard: dashboardSchema.default(dashboardDefaults),
}).strict().superRefine((config, ctx) => {
  const seen = { names: new Set<string>(), digests: new Set<string>() };
  config.tokens.forEach((token, i) => {
    if (seen.names.has(token.name)) ctx.addIssue({ code: 'custom', path: ['tokens', i, 'name'], message: `token name ${token.name} is used twice` });
    if (seen.digests.has(token.sha256)) ctx.addIssue({ code: 'custom', path: ['tokens', i, 'sha256'], message: 'the same token digest is configured twice' });
    seen.names.add(token.name);
    seen.digests.add(token.sha256);
  });
});

export type ApiConfig = z.infer<typeof apiConfigSchema>;
export type TokenConfig = z.infer<typeof tokenSchema>;

export function parseApiConfig(raw: unknown): ApiConfig {
  const result = apiConfigSchema.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigError(`invalid API config:\n  ${lines.join('\n  ')}`);
  }
  return result.data;
}

export function loadApiConfigFile(path: string): ApiConfig {
  return parseApiConfig(readConfigJson(path, 'API config'));
}
