// Every Redis key and stream name of the service, in one place (contract names from DESIGN.md first).
// Identifiers are validated to [A-Za-z0-9_-] before they reach here, so no value can forge a key.

export const eventsStream = 'bet-executor:events';
export const auditStream = 'bet-executor:audit';

export const keys = {
  cooldown: (whitelabel: string, provider: string, accountId: string) => `cooldown:${whitelabel}:${provider}:${accountId}`,
  exposure: (whitelabel: string, positiveProvider: string, betPairId: string) => `exposure:${whitelabel}:${positiveProvider}:${betPairId}`,
  lease: (arbId: string) => `lock:arb:${arbId}`,
  /** Which pair holds an account's cooldown (the contract value of cooldown:… is unix seconds only). */
  cooldownOwner: (whitelabel: string, provider: string, accountId: string) => `be:cooldown-owner:${whitelabel}:${provider}:${accountId}`,
  pair: (arbId: string) => `be:pair:${arbId}`,
  openPairs: 'be:pairs:open',
  killGlobal: 'be:kill:global',
  killProvider: (provider: string) => `be:kill:provider:${provider}`,
  killAccount: (whitelabel: string, provider: string, accountId: string) => `be:kill:account:${whitelabel}:${provider}:${accountId}`,
  rate: (whitelabel: string, provider: string, accountId: string) => `be:rate:${whitelabel}:${provider}:${accountId}`,
  /** Durable review list, one field per arbId: exposures stay here until a person resolves them (no TTL). */
  reviewOpen: 'be:review:open',
  reviewResolved: 'be:review:resolved',
  /** Final results of a pair's polled bets, by client reference. */
  settlement: (arbId: string) => `be:settle:${arbId}`,
  /** Set of the arbIds of a betPairId with an open review: while not empty, new arbs of the betPairId are blocked. */
  reviewByPair: (whitelabel: string, positiveProvider: string, betPairId: string) => `be:review:pair:${whitelabel}:${positiveProvider}:${betPairId}`,
};

// Operations (issue 8): the API, worker heartbeats, statistics and alert deliveries.
export const opsKeys = {
  /** Every journaled pair by claim time (unix ms): the API lists pairs from here (bounded, see claim.lua). */
  pairsByCreated: 'be:pairs:by-created',
  /** Kill switches engaged through the API or the CLI: field = switch key, value = JSON {scope, reason, by, atMs}. */
  killIndex: 'be:kill:index',
  /** Failed API authentications from one client address inside the window. */
  authFailures: (clientIp: string) => `be:api:auth-failures:${clientIp}`,
  /** Written by /ready to prove Redis takes writes (a short TTL). */
  readyProbe: (instanceId: string) => `be:api:ready:${instanceId}`,
  /** One worker process alive: JSON {workerId, host, pid, queueName, startedAtMs}, TTL a few heartbeats. */
  workerHeartbeat: (workerId: string) => `bet-executor:worker:heartbeat:${workerId}`,
  /** Every worker's last heartbeat (Redis time, unix ms): /ready asks whether one is fresh without a SCAN. */
  workers: 'bet-executor:workers',
  /** Bookmaker calls per provider and UTC day (YYYY-MM-DD): counts by outcome and latency buckets. */
  providerStats: (day: string) => `be:stats:providers:${day}`,
  /** Realised P&L per UTC day of settlement: fields `{currency}:pnl_minor`, `{currency}:pairs`, … */
  pnlDay: (day: string) => `be:stats:pnl:${day}`,
  /** The last audit-stream entry the P&L projection has counted. */
  pnlCursor: 'be:stats:pnl:cursor',
};

/** Written by the alerter (issue 8 §4): one entry per delivery attempt, capped (MAXLEN ~). Read by the API. */
export const alertDeliveriesStream = 'bet-executor:alerts:deliveries';
/** Written by the alerter: dead-lettered alerts, JSON each, capped. Read by the API. */
export const alertDeadList = 'bet-executor:alerts:dead';
