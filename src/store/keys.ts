// Every Redis key and stream name of the service, in one place (contract names from DESIGN.md first).
// Identifiers are validated to [A-Za-z0-9_-] before they reach here, so no value can forge a key.

export const eventsStream = 'bet-executor:events';
export const auditStream = 'bet-executor:audit';
/** Every alert delivery attempt's outcome (the alerter writes, the API reads); capped with MAXLEN ~. */
export const alertDeliveriesStream = 'bet-executor:alerts:deliveries';
/** Dead-lettered alerts, newest first, one JSON object each (capped with LTRIM). */
export const alertDeadList = 'bet-executor:alerts:dead';
/** Prefix of the worker heartbeat keys: a worker refreshes `{prefix}{workerId}` (value unix ms, with a TTL). */
export const workerHeartbeatPrefix = 'bet-executor:worker:heartbeat:';

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
  /** Pairs whose settlement polling is under way, by when the sweep for lost poll chains looks at them next (unix ms). */
  settlePending: 'be:settle:pending',
  /** Accounts of batch-capable bookmakers with open bets, by when each is polled next (unix ms); member `{provider}:{accountId}`. */
  settleAccountsDue: 'be:settle:accounts:due',
  /** One account's polling state: feed `cursor`, fast window `hotFrom`/`hotUntil`, `idle` polls, the poll's `claim`. */
  settleAccount: (provider: string, accountId: string) => `be:settle:account:${provider}:${accountId}`,
  /** One account's open bets: ticketId → JSON (arbId, role, clientRef, bets the pair polls, registration time). */
  settleAccountBets: (provider: string, accountId: string) => `be:settle:account-bets:${provider}:${accountId}`,
  /** One account's open bets not yet checked by id (each is, once: it may have settled before it was opened here). */
  settleAccountUnchecked: (provider: string, accountId: string) => `be:settle:account-unchecked:${provider}:${accountId}`,
  /** One account's open bets by deadline (unix ms): past it, a bet without a result is a `timeout`. */
  settleAccountDeadlines: (provider: string, accountId: string) => `be:settle:account-deadlines:${provider}:${accountId}`,
  /** Set of the arbIds of a betPairId with an open review: while not empty, new arbs of the betPairId are blocked. */
  reviewByPair: (whitelabel: string, positiveProvider: string, betPairId: string) => `be:review:pair:${whitelabel}:${positiveProvider}:${betPairId}`,
  /** A worker process's heartbeat: value its wall clock in unix ms, TTL a few refresh intervals. */
  workerHeartbeat: (workerId: string) => `${workerHeartbeatPrefix}${workerId}`,
  /** The alerter's delivery state of one alert: per sink `delivered` or `dead`, and `attempts:{sink}`. */
  alertState: (alertKey: string) => `be:alerter:alert:${alertKey}`,
  /** A dead-man's switch condition while it fires (since when, last alert, alerts so far), shared by every alerter. */
  alertCondition: (name: string) => `be:alerter:condition:${name}`,
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
  /** One worker process alive (the same key as keys.workerHeartbeat): value the Redis time of its last beat, unix ms, with a TTL. */
  workerHeartbeat: (workerId: string) => keys.workerHeartbeat(workerId),
  /** Every worker's last heartbeat (Redis time, unix ms): /ready asks whether one is fresh without a SCAN. */
  workers: 'bet-executor:workers',
  /** Bookmaker calls per provider and UTC day (YYYY-MM-DD): counts by outcome and latency buckets. */
  providerStats: (day: string) => `be:stats:providers:${day}`,
  /** Realised P&L per UTC day of settlement: fields `{currency}:pnl_minor`, `{currency}:pairs`, … */
  pnlDay: (day: string) => `be:stats:pnl:${day}`,
  /** The last audit-stream entry the P&L projection has counted. */
  pnlCursor: 'be:stats:pnl:cursor',
};

// Circuit breakers per bookmaker and account (issue 10, src/store/circuit.ts). `scope` is formatCircuitScope's text:
// provider:{p} or account:{p}:{account, lower case}.
export const circuitKeys = {
  /** One circuit: state, generation, forced, streak, open-until, probe lock, last change (hash). */
  circuit: (scope: string) => `be:circuit:${scope}`,
  /** Its sliding window: outcome counts by class and bucket (hash, expires a window after the last report). */
  window: (scope: string) => `be:circuit-window:${scope}`,
  /** Every circuit not closed, by when a worker may probe it next (forced-open ones at +inf): the probers' work list. */
  notClosed: 'be:circuits:not-closed',
  /** Every circuit ever created, by its last change (unix ms): the API lists them from here. */
  all: 'be:circuits:all',
  /** Transitions so far, field {provider}:{kind}:{to} (the metrics' counter). */
  transitions: 'be:circuits:transitions',
};
