// The `demo` command: private Redis, two simulated bookmakers, one worker, a seeded mix of bet pairs and faults, a checked summary.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join as joinPath } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { alertKeyOf } from './alerter/alert.js';
import { startLocalAlerter, type LocalAlerter } from './alerter/local.js';
import { createToken } from './api/auth.js';
import { parseApiConfig } from './api/config.js';
import { startApi, type RunningApi } from './app/api.js';
import { parseConfig, type Config } from './config.js';
import { resolveCredentials } from './credentials.js';
import { placementExposureReasons } from './domain/exposure.js';
import { clientRefFor } from './domain/pair.js';
import { logOptions } from './infra/log.js';
import { providersFromConfig } from './providers/factory.js';
import type { Provider } from './providers/provider.js';
import { startBooks } from './rig/books.js';
import { bookmakerSafetyChecks } from './rig/collect.js';
import { EventFeed, type StreamRow } from './rig/events.js';
import type { InvariantResult } from './rig/invariants.js';
import { startRedisTopology } from './rig/redis.js';
import { startInProcessWorker } from './rig/workers.js';
import type { FaultSpec } from './sim/faults.js';
import type { SimServer } from './sim/server.js';
import { createRedis } from './store/connection.js';
import type { BlockReason } from './store/store.js';
import { prng } from './infra/prng.js';

export interface DemoOptions {
  /** Distinct bet pairs to enqueue (duplicate deliveries come on top). */
  pairs: number;
  seed: number;
  /** Notices and progress lines; default: stderr (progress updated in place on a TTY). */
  log?: (line: string) => void;
  /** Where the summary goes; default: stdout. */
  out?: (text: string) => void;
  /** Keep the stack up after the summary (the dashboard's URL and an operate token printed) until this resolves. */
  serveUntil?: () => Promise<void>;
}

export interface CheckResult {
  ok: number;
  /** How many violations; `violations` lists the first few. */
  violationsTotal: number;
  violations: string[];
}

export interface DemoSummary {
  seed: number;
  pairs: number;
  jobs: number;
  /** Jobs with no terminal event when the wait limit was reached. */
  unfinished: number;
  /** Pairs with accepted bets that were settled and reconciled; the rest were still open at the limit. */
  settled: number;
  unsettled: number;
  /** Realised profit (negative: loss) of the settled pairs, in minor units. */
  pnlMinor: number;
  settledOutcomes: Record<string, number>;
  executed: number;
  blocked: Record<BlockReason, number>;
  failed: number;
  exposures: number;
  exposuresByReason: Record<string, number>;
  rejected: number;
  duplicates: number;
  /** Scenario → outcome → pairs. */
  scenarios: Record<string, Record<string, number>>;
  /** Simulator → placement decision → log entries. */
  books: Record<string, Record<string, number>>;
  checks: { acceptedPerRef: CheckResult; hedgeAfterPositive: CheckResult; exposureAlertsDelivered: CheckResult; apiListsOpenExposures: CheckResult };
  /** The operations API this demo ran (its URL while the demo ran). */
  api: { url: string };
  /** The alerter's deliveries to the local webhook receiver. */
  alerts: { receiverUrl: string; delivered: number; deliveredByType: Record<string, number> };
  elapsedMs: number;
  logFile: string;
}

export interface DemoResult {
  code: number;
  summary: DemoSummary;
}

// Sizing. Plain pairs rotate over the account pool so an account comes back only after about two waves
// (longer than the cooldown); collisions are made on purpose, by reusing an account of the same wave.
const accountsPerBook = 40;
const waveSize = 20;
const waveIntervalMs = 1_000;
const collisionPerMille = 120;
const duplicatePerMille = 15;
const waitAfterEnqueueMsMax = 120_000;
const pollIntervalMs = 200;
const ttyProgressMs = 200;
const lineProgressMs = 1_000;
const closeMsMax = 15_000;
/** How long the demo waits, after the last pair, for its exposure alerts to reach the local receiver. */
const alertWaitMsMax = 15_000;
const blockReasons: readonly BlockReason[] = ['cooldown', 'rate_limit', 'stale', 'kill_switch', 'exposure_open'];
const placementExposures: ReadonlySet<string> = new Set(placementExposureReasons);

type Special =
  | 'positive_rejected' | 'hedge_rejected_always' | 'hedge_rejected_once' | 'hedge_odds_moved' | 'hedge_partial'
  | 'positive_partial' | 'positive_timeout_after_commit' | 'positive_pending_then_accept' | 'stale' | 'invalid';
type Scenario = 'plain' | 'collision' | Special;

/** Scripted scenarios: share of the pairs (per mille, at least one each) and the outcome they should end in. */
const specials: Record<Special, { perMille: number; expect: string }> = {
  positive_rejected: { perMille: 30, expect: 'failed' },
  hedge_rejected_always: { perMille: 20, expect: 'exposure hedge_failed_positive_active' },
  hedge_rejected_once: { perMille: 20, expect: 'executed' },
  hedge_odds_moved: { perMille: 20, expect: 'executed' },
  hedge_partial: { perMille: 15, expect: 'executed' },
  positive_partial: { perMille: 20, expect: 'executed' },
  positive_timeout_after_commit: { perMille: 10, expect: 'executed' },
  positive_pending_then_accept: { perMille: 20, expect: 'executed' },
  stale: { perMille: 10, expect: 'blocked stale' },
  invalid: { perMille: 15, expect: 'rejected' },
};
const expectedOutcome: Record<Scenario, string> = {
  plain: 'executed',
  collision: 'blocked cooldown',
  ...Object.fromEntries(Object.entries(specials).map(([k, v]) => [k, v.expect])) as Record<Special, string>,
};

interface PlannedPair {
  scenario: Scenario;
  /** null for an invalid pair (its arbId is refused). */
  arbId: string | null;
  data: Record<string, unknown>;
  faults: Array<{ book: 'bookA' | 'bookB'; spec: FaultSpec }>;
  /** Enqueue with a createdAt this far in the past (stale pairs). */
  ageMs: number;
}

interface Environment {
  tag: string;
  config: Config;
  bookA: SimServer;
  bookB: SimServer;
  queue: Queue;
  reader: Redis;
  logFile: string;
  alerts: LocalAlerter;
  api: RunningApi;
  /** A read token of the demo's API (made for this run, never stored). */
  apiToken: string;
  /** An operate token of the demo's API, for the dashboard of `demo --serve` (made for this run, never stored). */
  operatorToken: string;
}

interface Cleanup {
  what: string;
  close: () => Promise<void>;
}

interface Output {
  log: (line: string) => void;
  progress: (line: string, final: boolean) => void;
  out: (text: string) => void;
}

function intIn(rng: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rng() * (hi - lo + 1));
}

function shuffle<T>(rng: () => number, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
  return items;
}

function oddsText(oddsMilli: number): string {
  return `${Math.floor(oddsMilli / 1000)}.${String(oddsMilli % 1000).padStart(3, '0')}`;
}

/** The scenario of every pair, in enqueue order: each special at least once (while room), the rest plain. */
function scenarioList(rng: () => number, pairs: number): Scenario[] {
  const list: Scenario[] = [];
  for (const [name, spec] of Object.entries(specials) as Array<[Special, { perMille: number }]>) {
    const count = Math.max(1, Math.round((pairs * spec.perMille) / 1000));
    for (let i = 0; i < count && list.length < pairs; i++) list.push(name);
  }
  while (list.length < pairs) list.push('plain');
  return shuffle(rng, list);
}

/** A two-way arb: positive on bookA ("home"), hedge on bookB ("away"), with a 2–4 % margin. */
function pairData(rng: () => number, ids: { tag: string; index: number; arbId: string; accountA: string; accountB: string }): { data: Record<string, unknown>; hedgeOddsMilli: number } {
  const positiveOddsMilli = intIn(rng, 2_050, 2_300);
  const marginPerMille = intIn(rng, 20, 40);
  // 1/p + 1/h = 1 - margin  →  h = 1 / (1 - margin - 1/p), rounded up to whole thousandths.
  const hedgeOddsMilli = Math.ceil(1_000_000_000 / (1_000_000 - marginPerMille * 1_000 - 1_000_000_000 / positiveOddsMilli));
  const stakeMinor = intIn(rng, 20, 200) * 100;
  const id = `${ids.tag}-${String(ids.index).padStart(4, '0')}`;
  const data = {
    arbId: ids.arbId,
    betPairId: `bp-${id}`,
    whitelabel: `demo-${ids.tag}`,
    provider: 'bookA',
    currency: 'EUR',
    positiveBet: { betId: `pos-${id}`, accountId: ids.accountA, provider: 'bookA', eventId: `ev-${id}`, market: 'match_winner', selection: 'home', odds: oddsText(positiveOddsMilli), stakeMinor },
    hedgeBet: { betId: `hed-${id}`, accountId: ids.accountB, provider: 'bookB', eventId: `ev-${id}`, market: 'match_winner', selection: 'away', odds: oddsText(hedgeOddsMilli), stakeMinor: Math.round((stakeMinor * positiveOddsMilli) / hedgeOddsMilli) },
  };
  return { data, hedgeOddsMilli };
}

/** The simulator faults that make a scenario happen, matched by the deterministic client references. */
function faultsFor(scenario: Scenario, arbId: string, hedgeOddsMilli: number, hedgeAttemptsMax: number): PlannedPair['faults'] {
  const p1 = clientRefFor(arbId, 'positive', 1);
  const h = (attempt: number) => clientRefFor(arbId, 'hedge', attempt);
  const onA = (spec: FaultSpec) => [{ book: 'bookA' as const, spec }];
  const onB = (spec: FaultSpec) => [{ book: 'bookB' as const, spec }];
  switch (scenario) {
    case 'positive_rejected': return onA({ fault: 'reject', match: { clientRef: p1 }, params: { reason: 'demo: stake limit reached' } });
    case 'positive_partial': return onA({ fault: 'partial', match: { clientRef: p1 } });
    case 'positive_timeout_after_commit': return onA({ fault: 'timeout_after_commit', match: { clientRef: p1 }, params: { hangMs: 1_000 } });
    case 'positive_pending_then_accept': return onA({ fault: 'pending_then_accept', match: { clientRef: p1 }, params: { pendingPolls: 2 } });
    case 'hedge_rejected_once': return onB({ fault: 'reject', match: { clientRef: h(1) }, params: { reason: 'demo: market suspended' } });
    case 'hedge_partial': return onB({ fault: 'partial', match: { clientRef: h(1) } });
    // A small move (0.040) keeps the re-priced pair profitable, so the retry at the new odds goes through.
    case 'hedge_odds_moved': return onB({ fault: 'odds_moved', match: { clientRef: h(1) }, params: { oddsMilli: hedgeOddsMilli - 40 } });
    case 'hedge_rejected_always':
      return Array.from({ length: hedgeAttemptsMax }, (_, i) => ({ book: 'bookB' as const, spec: { fault: 'reject', match: { clientRef: h(i + 1) }, params: { reason: 'demo: account limited' } } satisfies FaultSpec }));
    case 'plain': case 'collision': case 'stale': case 'invalid': return [];
  }
}

/** Accounts of a plain pair: a rotation over the pool, or (collision) the accounts of an earlier pair of the same wave. */
function plainAccounts(rng: () => number, slot: number, waveAccounts: Array<[string, string]>, force: boolean): { accounts: [string, string]; collision: boolean } {
  const earlier = waveAccounts.length > 0 && (intIn(rng, 0, 999) < collisionPerMille || force)
    ? waveAccounts[intIn(rng, 0, waveAccounts.length - 1)]
    : undefined;
  if (earlier) return { accounts: earlier, collision: true };
  // 17 is coprime with 40: the hedge account walks the pool in another order than the positive one.
  const accounts: [string, string] = [`acc-a-${slot % accountsPerBook}`, `acc-b-${(slot * 17 + 5) % accountsPerBook}`];
  waveAccounts.push(accounts);
  return { accounts, collision: false };
}

/** Every pair of the run, deterministic for (pairs, seed, tag). */
function planPairs(pairs: number, seed: number, tag: string, config: Config): PlannedPair[] {
  const rng = prng(seed);
  const planned: PlannedPair[] = [];
  let slot = 0;
  let collisions = 0;
  let waveAccounts: Array<[string, string]> = [];
  scenarioList(rng, pairs).forEach((listed, index) => {
    if (index % waveSize === 0) waveAccounts = [];
    let scenario: Scenario = listed;
    let accounts: [string, string];
    if (listed === 'plain') {
      // At least one collision even in a small run, so the cooldown always shows.
      const chosen = plainAccounts(rng, slot, waveAccounts, collisions === 0 && slot >= 2);
      if (chosen.collision) collisions++;
      else slot++;
      accounts = chosen.accounts;
      scenario = chosen.collision ? 'collision' : 'plain';
    } else {
      // Scripted pairs get accounts of their own, so a cooldown collision never hides the fault they show.
      accounts = [`acc-a-x${index}`, `acc-b-x${index}`];
    }
    const validArbId = `arb-${tag}-${String(index).padStart(4, '0')}`;
    const arbId = scenario === 'invalid' ? `arb:${tag}:${index}` : validArbId;
    const { data, hedgeOddsMilli } = pairData(rng, { tag, index, arbId, accountA: accounts[0], accountB: accounts[1] });
    planned.push({
      scenario,
      arbId: scenario === 'invalid' ? null : arbId,
      data,
      faults: faultsFor(scenario, arbId, hedgeOddsMilli, config.hedgeAttemptsMax),
      ageMs: scenario === 'stale' ? 2 * config.arbAgeMsMax : 0,
    });
  });
  return planned;
}

/** Waves of jobs: the pairs in order, plus duplicate deliveries of some plain pairs (same wave or the next). */
function planWaves(pairs: PlannedPair[], seed: number): PlannedPair[][] {
  const rng = prng(seed ^ 0x5bd1e995);
  const waves: PlannedPair[][] = [];
  pairs.forEach((pair, index) => {
    (waves[Math.floor(index / waveSize)] ??= []).push(pair);
  });
  const plain = pairs.filter((p) => p.scenario === 'plain');
  const count = Math.min(plain.length, Math.max(1, Math.round((pairs.length * duplicatePerMille) / 1000)));
  shuffle(rng, plain).slice(0, count).forEach((pair, i) => {
    const w = Math.floor(pairs.indexOf(pair) / waveSize) + (i % 2);
    (waves[w] ??= []).push(pair);
  });
  return waves;
}

/** Environment variables the demo config references for each simulator's key (a key is never inline). */
const demoKeyEnv = { bookA: 'BET_EXECUTOR_DEMO_BOOKA_KEY', bookB: 'BET_EXECUTOR_DEMO_BOOKB_KEY' } as const;

function demoConfig(bookA: SimServer, bookB: SimServer, queueName: string): Config {
  return parseConfig({
    providers: {
      bookA: { url: bookA.url, credentials: { env: demoKeyEnv.bookA } },
      bookB: { url: bookB.url, credentials: { env: demoKeyEnv.bookB } },
    },
    queueName,
    settlementQueueName: `${queueName}-settlement`,
    concurrency: 16,
    // An account comes back about two waves (2 s) later: its claim's hold, cooldown + lead + request timeout +
    // late-commit grace (800 + 266 + 300 + 300 ms, see domain/cooldown.ts), must have run out by then.
    cooldownMs: 800,
    lateCommitGraceMs: 300,
    rateLimit: { placementsMax: 10_000, windowMs: 60_000 },
    arbAgeMsMax: 60_000,
    providerTimeoutMs: 300,
    lockTtlMs: 3_000,
    hedgeAttemptsMax: 3,
    hedgeDeadlineMs: 2_000,
    hedgeRetryBackoffMs: 50,
    // The simulators share this process's event loop with the worker: on a busy machine a 300 ms call can
    // time out, and 3 s of lookups by client reference ride that out instead of flagging the bet in doubt.
    inDoubtDeadlineMs: 3_000,
    inDoubtPollMs: 100,
    settlementPollIntervalMs: 250,
    retryDelayMs: 200,
  });
}

/** Redis (REDIS_URL or private), the two simulators and the worker; each registers its own cleanup on `stack`. */
async function startEnvironment(seed: number, output: Output, stack: Cleanup[]): Promise<Environment> {
  const given = process.env.REDIS_URL;
  // On a shared Redis, a run tag keeps this run's pairs, queue and whitelabel apart from earlier runs.
  const tag = given ? `s${seed}-${Date.now().toString(36)}` : `s${seed}`;
  const redis = await startRedisTopology({ hz: 50, ...(given ? { givenUrl: given } : {}) });
  stack.push({ what: 'redis-server', close: () => redis.stop() });
  const url = redis.url;
  output.log(given ? `using REDIS_URL ${url} (demo run tag ${tag})` : `started a private redis-server at ${url} (REDIS_URL not set; removed at the end)`);
  // Bets settle 1 s after acceptance: later than an in-doubt positive's lookup (provider timeout 300 ms), which
  // would otherwise find it already settled and (rightly) refuse to hedge it blind.
  // Each simulator requires its own key; the worker reads them as it would in production, from the environment.
  const keyEnv: NodeJS.ProcessEnv = { ...process.env, [demoKeyEnv.bookA]: `demo-${randomBytes(16).toString('hex')}`, [demoKeyEnv.bookB]: `demo-${randomBytes(16).toString('hex')}` };
  const books = await startBooks({ seed, settleAfterMs: 1_000, bookA: { apiKeys: [keyEnv[demoKeyEnv.bookA] ?? ''] }, bookB: { apiKeys: [keyEnv[demoKeyEnv.bookB] ?? ''] } });
  stack.push({ what: 'simulators', close: () => books.close() });
  const { bookA, bookB } = books;
  const config = demoConfig(bookA, bookB, given ? `bet-pairs-demo-${tag}` : 'bet-pairs');
  const logFile = joinPath(mkdtempSync(joinPath(tmpdir(), 'bet-executor-demo-')), 'worker.log');
  const providers = providersFromConfig(config, resolveCredentials(config, keyEnv));
  await warmUp(providers, config.concurrency);
  const log = pino({ name: 'bet-executor', level: 'warn', ...logOptions }, pino.destination({ dest: logFile, sync: true }));
  const worker = await startInProcessWorker({ config, redisUrl: url, providers, log });
  stack.push({ what: 'worker', close: () => worker.close() });
  const queueConnection = createRedis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(config.queueName, { connection: queueConnection });
  stack.push({
    what: 'queue',
    close: async () => {
      await queue.close();
      queueConnection.disconnect();
    },
  });
  const reader = createRedis(url);
  stack.push({ what: 'events reader', close: async () => reader.disconnect() });
  // The alerter as in production (its own consumer group on the events stream), in this process, to a local webhook.
  const alerts = await startLocalAlerter({ redisUrl: url, dir: dirname(logFile), consumerGroup: given ? `demo-alerter-${tag}` : 'bet-executor-alerter', log });
  stack.push({ what: 'alerter', close: () => alerts.close() });
  // The operations API as in production (`bet-executor api`), in this process, with a read token made for this run.
  const apiReader = createToken('demo-reader', 'read');
  const operator = createToken('demo-operator', 'operate');
  const api = await startApi({ config: parseApiConfig({ host: '127.0.0.1', port: 0, tokens: [apiReader.entry, operator.entry], queueName: config.queueName, settlementQueueName: config.settlementQueueName }), redisUrl: url, log });
  stack.push({ what: 'API', close: () => api.close() });
  output.log(`simulators bookA ${bookA.url} and bookB ${bookB.url}; one worker (concurrency ${config.concurrency}); alerter to a local webhook ${alerts.receiver.url}; API ${api.url ?? ''}; worker log ${logFile}`);
  return { tag, config, bookA, bookB, queue, reader, logFile, alerts, api, apiToken: apiReader.token, operatorToken: operator.token };
}

/**
 * Opens the worker's connections to both simulators and runs their request paths once (lookups of a reference
 * that does not exist), so the first wave does not pay for cold starts inside its 300 ms provider timeout.
 */
async function warmUp(providers: Map<string, Provider>, connections: number): Promise<void> {
  const lookups = [...providers.values()].flatMap((provider) =>
    Array.from({ length: connections }, (_, i) => provider.lookupByClientRef(`be1.demo-warm-up-${i}.p1`)));
  await Promise.all(lookups);
}

function jobData(pair: PlannedPair, nowMs: number): Record<string, unknown> {
  return { ...pair.data, createdAt: new Date(nowMs - pair.ageMs).toISOString() };
}

/** Enqueues the waves one interval apart, collecting the BullMQ id of every job. */
async function enqueueWaves(env: Environment, waves: PlannedPair[][], jobIds: Set<string>, aborted: AbortSignal): Promise<void> {
  for (const [w, wave] of waves.entries()) {
    if (aborted.aborted) return;
    if (w > 0) await sleep(waveIntervalMs);
    const nowMs = Date.now();
    const added = await env.queue.addBulk(wave.map((pair) => ({ name: 'bet-pair', data: jobData(pair, nowMs) })));
    for (const job of added) if (job.id !== undefined) jobIds.add(job.id);
  }
}

type Outcome = 'executed' | 'failed' | `blocked ${string}` | `exposure ${string}`;

interface Tally {
  /** Placement outcome of each pair of this run (the first terminal event). */
  outcomes: Map<string, Outcome>;
  duplicateJobs: Set<string>;
  rejectedJobs: Set<string>;
  /** Every exposure alert of this run's pairs, at placement and at settlement. */
  exposures: Map<string, number>;
  /** Reconciled pairs: realised P&L and actual outcome ("{positive}_{hedge}"). */
  settled: Map<string, { pnlMinor: number; actualOutcome: string }>;
}

function outcomeOf(row: StreamRow): Outcome | null {
  switch (row.type) {
    case 'arb_executed': return 'executed';
    case 'arb_failed': return 'failed';
    case 'arb_blocked': return `blocked ${String(row.data.reason)}`;
    case 'exposure_alert': {
      const reason = String(row.data.exposure_reason);
      return placementExposures.has(reason) ? `exposure ${reason}` : null;
    }
    default: return null;
  }
}

function tally(rows: StreamRow[], arbIds: ReadonlySet<string>, jobIds: ReadonlySet<string>): Tally {
  const t: Tally = { outcomes: new Map(), duplicateJobs: new Set(), rejectedJobs: new Set(), exposures: new Map(), settled: new Map() };
  for (const row of rows) {
    const arbId = typeof row.data.arbId === 'string' ? row.data.arbId : null;
    const jobId = String(row.data.jobId);
    if (row.type === 'arb_duplicate' && jobIds.has(jobId)) t.duplicateJobs.add(jobId);
    if (row.type === 'arb_rejected' && jobIds.has(jobId)) t.rejectedJobs.add(jobId);
    if (arbId === null || !arbIds.has(arbId)) continue;
    if (row.type === 'exposure_alert') {
      const reason = String(row.data.exposure_reason);
      t.exposures.set(reason, (t.exposures.get(reason) ?? 0) + 1);
    }
    if (row.type === 'arb_settled') t.settled.set(arbId, { pnlMinor: Number(row.data.pnlMinor ?? 0), actualOutcome: String(row.data.actualOutcome) });
    const outcome = outcomeOf(row);
    if (outcome !== null && !t.outcomes.has(arbId)) t.outcomes.set(arbId, outcome);
  }
  return t;
}

function listed(ids: string[]): string {
  return `${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', …' : ''}`;
}

function processedCount(t: Tally): number {
  return t.outcomes.size + t.duplicateJobs.size + t.rejectedJobs.size;
}

/** Pairs with an accepted positive (executed, or hedge failed) whose settlement is not reconciled yet. */
function unsettled(t: Tally): string[] {
  const open: string[] = [];
  for (const [arbId, outcome] of t.outcomes) {
    const betsPlaced = outcome === 'executed' || outcome === 'exposure hedge_failed_positive_active';
    if (betsPlaced && !t.settled.has(arbId)) open.push(arbId);
  }
  return open;
}

function progressLine(t: Tally, jobs: number): string {
  let executed = 0;
  let blocked = 0;
  let failed = 0;
  for (const outcome of t.outcomes.values()) {
    if (outcome === 'executed') executed++;
    else if (outcome === 'failed') failed++;
    else if (outcome.startsWith('blocked')) blocked++;
  }
  const exposures = [...t.exposures.values()].reduce((s, n) => s + n, 0);
  return `processed ${processedCount(t)}/${jobs}  executed ${executed}  blocked ${blocked}  failed ${failed}  exposures ${exposures}  settled ${t.settled.size}`;
}

/** Polls the events until every job has its terminal event and every placed pair is settled, or the limit passes. */
async function waitForTerminal(feed: EventFeed, ids: { arbIds: Set<string>; jobIds: Set<string>; jobs: number }, deadlineAtMs: () => number, output: Output, enqueued: () => boolean): Promise<Tally> {
  for (;;) {
    await feed.poll();
    const t = tally(feed.rows, ids.arbIds, ids.jobIds);
    const done = enqueued() && processedCount(t) >= ids.jobs && unsettled(t).length === 0;
    output.progress(progressLine(t, ids.jobs), done);
    if (done) return t;
    if (Date.now() > deadlineAtMs()) {
      output.progress(progressLine(t, ids.jobs), true);
      const missing = [...ids.arbIds].filter((arbId) => !t.outcomes.has(arbId));
      const open = unsettled(t);
      output.log(`TIMED OUT after ${waitAfterEnqueueMsMax / 1000} s: ${ids.jobs - processedCount(t)} of ${ids.jobs} jobs have no terminal event, ${open.length} placed pairs are not settled` +
        (missing.length > 0 ? `; pairs without an outcome: ${listed(missing)}` : '') + (open.length > 0 ? `; unsettled: ${listed(open)}` : ''));
      return t;
    }
    await sleep(pollIntervalMs);
  }
}

/** Adds the scenario faults, enqueues the waves while watching the events, and returns the final tally. */
async function runWaves(env: Environment, planned: PlannedPair[], waves: PlannedPair[][], output: Output): Promise<{ tally: Tally; jobs: number; rows: StreamRow[] }> {
  for (const pair of planned) for (const { book, spec } of pair.faults) (book === 'bookA' ? env.bookA : env.bookB).bookmaker.addFault(spec);
  const arbIds = new Set(planned.flatMap((p) => (p.arbId === null ? [] : [p.arbId])));
  const jobIds = new Set<string>();
  const jobs = waves.reduce((n, wave) => n + wave.length, 0);
  const feed = new EventFeed(env.reader);
  await feed.start();
  output.log(`enqueuing ${planned.length} bet pairs (${jobs} jobs with duplicate deliveries) in ${waves.length} waves, ${waveIntervalMs} ms apart`);
  const abort = new AbortController();
  let enqueued = false;
  let enqueueError: unknown = null;
  let deadlineAtMs = Date.now() + waves.length * waveIntervalMs + waitAfterEnqueueMsMax;
  const enqueuing = enqueueWaves(env, waves, jobIds, abort.signal).then(
    () => {
      enqueued = true;
      deadlineAtMs = Date.now() + waitAfterEnqueueMsMax;
    },
    (error: unknown) => {
      enqueueError = error;
      deadlineAtMs = 0;
    },
  );
  const result = await waitForTerminal(feed, { arbIds, jobIds, jobs }, () => deadlineAtMs, output, () => enqueued);
  abort.abort();
  await enqueuing;
  if (enqueueError !== null) throw enqueueError;
  return { tally: result, jobs, rows: feed.rows };
}

/** A safety check's result as the summary shows it. */
function checkOf(r: InvariantResult): CheckResult {
  return { ok: r.checked - r.violations, violationsTotal: r.violations, violations: r.examples };
}

function countBy(values: Iterable<string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

/** Every exposure alert of this run's pairs reached the local webhook receiver (waited for up to alertWaitMsMax). */
/** The API, over HTTP with its bearer token, lists as many open exposures as the review list holds. */
async function checkApiExposures(env: Environment): Promise<CheckResult> {
  const held = await env.reader.hlen('be:review:open');
  try {
    const answer = await fetch(`${env.api.url ?? ''}/api/v1/exposures/open`, { headers: { authorization: `Bearer ${env.apiToken}` } });
    const body = await answer.json() as { total?: unknown };
    if (answer.status === 200 && body.total === held) return { ok: held, violationsTotal: 0, violations: [] };
    return { ok: 0, violationsTotal: 1, violations: [`GET /api/v1/exposures/open answered ${answer.status} with total ${String(body.total)}; the review list holds ${held}`] };
  } catch (error) {
    return { ok: 0, violationsTotal: 1, violations: [`GET /api/v1/exposures/open failed: ${(error as Error).message}`] };
  }
}

async function checkAlertsDelivered(env: Environment, planned: PlannedPair[], rows: StreamRow[]): Promise<CheckResult> {
  const arbIds = new Set(planned.flatMap((p) => (p.arbId === null ? [] : [p.arbId])));
  const expected = rows.filter((r) => r.type === 'exposure_alert' && arbIds.has(String(r.data.arbId))).map((r) => alertKeyOf('exposure_alert', r.id));
  const missing = await env.alerts.waitForDelivered(expected, alertWaitMsMax);
  return { ok: expected.length - missing.length, violationsTotal: missing.length, violations: missing.map((key) => `${key}: not delivered to the local webhook within ${alertWaitMsMax / 1000} s`) };
}

function summarise(env: Environment, planned: PlannedPair[], run: { tally: Tally; jobs: number; alertsCheck: CheckResult; apiCheck: CheckResult }, seed: number, elapsedMs: number): DemoSummary {
  const { tally: t } = run;
  const outcomes = [...t.outcomes.values()];
  const blocked = Object.fromEntries(blockReasons.map((r) => [r, outcomes.filter((o) => o === `blocked ${r}`).length])) as Record<BlockReason, number>;
  // Listed in a fixed order (plain, collision, then the scripted ones), whatever the shuffle did.
  const scenarioOutcomes = new Map<string, string[]>(Object.keys(expectedOutcome).map((s) => [s, []]));
  for (const pair of planned) {
    const outcome = pair.arbId === null ? 'rejected' : (t.outcomes.get(pair.arbId) ?? 'no outcome');
    scenarioOutcomes.set(pair.scenario, [...(scenarioOutcomes.get(pair.scenario) ?? []), outcome]);
  }
  const entriesA = env.bookA.bookmaker.log();
  const entriesB = env.bookB.bookmaker.log();
  const [noDoublePlacement, hedgeAfterPositive] = bookmakerSafetyChecks([env.bookA, env.bookB]) as [InvariantResult, InvariantResult];
  return {
    seed,
    pairs: planned.length,
    jobs: run.jobs,
    unfinished: run.jobs - processedCount(t),
    settled: t.settled.size,
    unsettled: unsettled(t).length,
    pnlMinor: [...t.settled.values()].reduce((sum, v) => sum + v.pnlMinor, 0),
    settledOutcomes: countBy([...t.settled.values()].map((v) => v.actualOutcome)),
    executed: outcomes.filter((o) => o === 'executed').length,
    blocked,
    failed: outcomes.filter((o) => o === 'failed').length,
    exposures: [...t.exposures.values()].reduce((s, n) => s + n, 0),
    exposuresByReason: Object.fromEntries(t.exposures),
    rejected: t.rejectedJobs.size,
    duplicates: t.duplicateJobs.size,
    scenarios: Object.fromEntries([...scenarioOutcomes].filter(([, list]) => list.length > 0).map(([s, list]) => [s, countBy(list)])),
    books: { bookA: countBy(entriesA.map((e) => e.decision)), bookB: countBy(entriesB.map((e) => e.decision)) },
    checks: {
      acceptedPerRef: checkOf(noDoublePlacement),
      hedgeAfterPositive: checkOf(hedgeAfterPositive),
      exposureAlertsDelivered: run.alertsCheck,
      apiListsOpenExposures: run.apiCheck,
    },
    api: { url: env.api.url ?? '' },
    alerts: { receiverUrl: env.alerts.receiver.url, delivered: env.alerts.receiver.delivered().size, deliveredByType: env.alerts.deliveredByType() },
    elapsedMs,
    logFile: env.logFile,
  };
}

function row(label: string, value: number | string, detail = ''): string {
  return `  ${label.padEnd(30)}${String(value).padStart(6)}${detail ? `   ${detail}` : ''}`;
}

function money(minor: number): string {
  const sign = minor < 0 ? '-' : '+';
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

function details(counts: Record<string, number>, order?: readonly string[]): string {
  const keysShown = order ?? Object.keys(counts).sort();
  return keysShown.map((k) => `${k} ${counts[k] ?? 0}`).join(', ');
}

function checkLine(label: string, check: CheckResult, unit: string): string[] {
  const verdict = check.violationsTotal === 0 ? `OK (${check.ok} ${unit})` : `VIOLATION ×${check.violationsTotal} (OK ${check.ok})`;
  return [`  ${label.padEnd(48)}${verdict}`, ...check.violations.slice(0, 10).map((v) => `      ${v}`)];
}

function renderSummary(s: DemoSummary): string {
  const bookOrder = ['accepted', 'rejected', 'duplicate', 'pending', 'timeout_after_commit', 'timeout_before_commit', 'error_500'];
  // Decisions the scenario always produces are shown even at 0, so a missing one stands out.
  const bookAlways = new Set(['accepted', 'rejected', 'duplicate', 'pending', 'timeout_after_commit']);
  const lines = [
    '',
    `bet-executor demo — seed ${s.seed}, finished in ${(s.elapsedMs / 1000).toFixed(1)} s`,
    row('pairs enqueued', s.pairs, `${s.jobs} jobs with ${s.jobs - s.pairs} duplicate deliveries`),
    row('executed (both legs accepted)', s.executed),
    row('blocked', Object.values(s.blocked).reduce((a, b) => a + b, 0), details(s.blocked, blockReasons)),
    row('failed (positive rejected)', s.failed),
    row('exposures (manual review)', s.exposures, details(s.exposuresByReason)),
    row('settled and reconciled', s.settled, `P&L ${money(s.pnlMinor)} EUR${s.settled > 0 ? `; ${details(s.settledOutcomes)}` : ''}`),
    row('rejected (invalid input)', s.rejected),
    row('duplicates (refused)', s.duplicates),
    ...(s.unfinished > 0 ? [row('UNFINISHED (no terminal event)', s.unfinished)] : []),
    ...(s.unsettled > 0 ? [row('UNSETTLED (placed, not reconciled)', s.unsettled)] : []),
    'bets seen by the simulators',
    ...Object.entries(s.books).map(([name, counts]) => row(name, Object.values(counts).reduce((a, b) => a + b, 0), details(counts, bookOrder.filter((k) => k in counts || bookAlways.has(k))))),
    'scenarios (scripted on the simulators)             pairs   outcomes',
    ...Object.entries(s.scenarios).map(([scenario, counts]) => {
      const expected = expectedOutcome[scenario as Scenario];
      const mark = Object.keys(counts).every((o) => o === expected) ? '' : `   (expected: ${expected})`;
      return `  ${scenario.padEnd(48)}${String(Object.values(counts).reduce((a, b) => a + b, 0)).padStart(5)}   ${details(counts)}${mark}`;
    }),
    'checks (from the simulators\' logs)',
    ...checkLine('one accepted bet per client ref and per leg', s.checks.acceptedPerRef, 'accepted bets'),
    ...checkLine('no hedge before its positive was accepted', s.checks.hedgeAfterPositive, 'hedge requests'),
    'alerts (the alerter, in this process, to a local webhook receiver that checks their signatures)',
    row('delivered to the receiver', s.alerts.delivered, `${s.alerts.delivered > 0 ? `${details(s.alerts.deliveredByType)}; ` : ''}${s.alerts.receiverUrl}`),
    ...checkLine('every exposure alert delivered', s.checks.exposureAlertsDelivered, 'alerts'),
    `operations API (in this process, while the demo ran): ${s.api.url}`,
    ...checkLine('the API lists every open exposure', s.checks.apiListsOpenExposures, 'open exposures'),
    `worker log (warnings, exposure alerts): ${s.logFile}`,
    '',
  ];
  return lines.join('\n');
}

function makeOutput(opts: DemoOptions): Output {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const out = opts.out ?? ((text: string) => process.stdout.write(`${text}\n`));
  const tty = opts.log === undefined && process.stderr.isTTY === true;
  let lastAtMs = 0;
  const progress = (line: string, final: boolean): void => {
    const nowMs = Date.now();
    if (!final && nowMs - lastAtMs < (tty ? ttyProgressMs : lineProgressMs)) return;
    lastAtMs = nowMs;
    if (tty) process.stderr.write(`\r${line}\x1b[K${final ? '\n' : ''}`);
    else log(line);
  };
  return { log, progress, out };
}

/**
 * Runs every cleanup, last started first; one failing or hanging (e.g. the worker waiting on a stuck job)
 * does not skip the others, and is named, so the demo always comes back with an answer.
 */
async function closeAll(stack: Cleanup[], output: Output): Promise<void> {
  for (const { what, close } of stack.reverse()) {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), closeMsMax);
      timer.unref();
    });
    try {
      const result = await Promise.race([close().then(() => 'closed' as const), limit]);
      if (result === 'timeout') output.log(`cleanup: ${what} did not close within ${closeMsMax} ms; going on without it`);
    } catch (error) {
      output.log(`cleanup: closing ${what} failed: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  if (!Number.isSafeInteger(opts.pairs) || opts.pairs < 1) throw new Error(`pairs (${opts.pairs}) must be an integer >= 1`);
  const output = makeOutput(opts);
  const stack: Cleanup[] = [];
  const startedAtMs = Date.now();
  try {
    const env = await startEnvironment(opts.seed, output, stack);
    const planned = planPairs(opts.pairs, opts.seed, env.tag, env.config);
    const waves = planWaves(planned, opts.seed);
    const run = await runWaves(env, planned, waves, output);
    const alertsCheck = await checkAlertsDelivered(env, planned, run.rows);
    const apiCheck = await checkApiExposures(env);
    const summary = summarise(env, planned, { ...run, alertsCheck, apiCheck }, opts.seed, Date.now() - startedAtMs);
    output.out(renderSummary(summary));
    const violations = Object.values(summary.checks).reduce((sum, check) => sum + check.violationsTotal, 0);
    if (summary.unfinished > 0) output.log(`demo FAILED: ${summary.unfinished} job(s) never reached a terminal event`);
    if (summary.unsettled > 0) output.log(`demo FAILED: ${summary.unsettled} placed pair(s) were never settled`);
    if (violations > 0) output.log(`demo FAILED: ${violations} safety check violation(s)`);
    if (opts.serveUntil) {
      output.out(`\ndashboard: ${env.api.url ?? ''}/dashboard\ntoken (operate, this run only): ${env.operatorToken}\nthe stack stays up until Ctrl-C\n`);
      await opts.serveUntil();
    }
    return { code: violations > 0 || summary.unfinished > 0 || summary.unsettled > 0 ? 1 : 0, summary };
  } finally {
    await closeAll(stack, output);
  }
}
