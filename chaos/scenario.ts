// A seeded chaos scenario: the pairs, their bookmaker faults, duplicate deliveries and the process/Redis fault schedule.
import type { FinalBetStatus } from '../src/domain/types.js';
import type { FaultSpec } from '../src/sim/faults.js';
import type { InvalidReason, PairPlan } from '../src/rig/snapshot.js';
import { prng } from '../src/infra/prng.js';

/**
 * The fault classes of issue 7, each injected only when named (`--classes`): the base scenario (no class)
 * is the one every earlier run used, and a seed replays it identically whatever classes are added,
 * since the classes draw from their own seeded stream.
 */
export const faultClasses = [
  /** F4: a placement answered 500 (or hung) and committed by the bookmaker `delayMs` later. */
  'late_commit',
  /** F3: a positive committed and settled at once (void, sometimes won/lost); the executor learns by lookup. */
  'void_lookup',
  /**
   * F5: SIGUSR2 steps a worker's wall clock back 5 s about every second (its test hook, or the chaos preload
   * with --clock-hook preload), and some positives stay pending a few hundred ms, across such a step.
   */
  'clock_step',
  /** F2: pairs re-using the betPairId of the pair enqueued just before, both ending in an exposure. */
  'shared_pair',
  /** Re-settlement: after a pair is reconciled, one leg's result is changed at its bookmaker. */
  'resettle',
  /** A settlement poll chain that dies: once the pair is executed, one bet's poll job is removed from the queue. */
  'lost_chain',
  /** F6: the global kill switch set for a while mid-run. */
  'kill_switch',
  /** F7: pairs that pass the old schema but are not arbs (marked invalid: nothing may be placed). */
  'non_arb',
  /** F8: createdAt ahead of time (2 minutes, year 2099) with a queue delay past arbAgeMsMax; honest RFC 3339 forms. */
  'future_stamped',
  /**
   * F1: a worker that crashes at named saga steps, and workers killed while Redis is paused (the positive's
   * bookmaker answers 60 ms late, so some positives are answered, and their hedges sent, during the pause).
   */
  'journal_gap',
  /**
   * A hedge price at which whole minor units cannot return the target exactly: the positive is taken in part
   * (half), and the rebalanced hedge, taken in full, returns 1 unit short of its share. Nothing more may be bet
   * on that leg (a top-up of 1-2 units was a second bet on a placed leg: fixed in dc3ebc1, invariant 1).
   */
  'stake_rounding',
] as const;
export type FaultClass = (typeof faultClasses)[number];

/** journal_gap: answer latency of the positive's bookmaker, so that positives are in flight when Redis pauses. */
export const journalGapLatencyMs = 60;
/** arbAgeMsMax of a run with future-stamped pairs: small, so a delay past it costs seconds. */
export const chaosArbAgeMsMax = 8_000;
/** Sends of one reference the executor makes before it gives up (config placementSendsMax of the chaos run). */
export const chaosPlacementSendsMax = 3;
/** Crash points the journal_gap worker cycles through, one per life (src/executor/run.ts crashPoints). */
export const crashCycle = ['hedge_answered', 'positive_intent_journaled', 'positive_answered', 'settlement_scheduled_open'] as const;

export interface ScenarioOptions {
  seed: number;
  pairs: number;
  accountsPerBook: number;
  /** Length of the enqueue phase; process and Redis faults fall inside it. */
  durationMs: number;
  workers: number;
  lockTtlMs: number;
  /** Issue-7 classes to inject (default none). */
  classes?: readonly FaultClass[];
  /**
   * `sentinel`: a primary, a replica and three Sentinels; the Redis restart and pause of the single topology
   * are replaced by `failovers` Sentinel failovers and a partition of one worker from Redis.
   */
  topology?: ChaosTopology;
  /** Failovers of a sentinel run (default 2). */
  failovers?: number;
  /** bookB sick (every request 500) from 30 % to 60 % of the run: no random draw, the same seed with circuits on or off. */
  sickBookmaker?: boolean;
  /**
   * Adds the sure exposures (`sureExposurePairs`) after the seeded pairs: no random draw, so the seeded pairs and
   * faults stay the same. For a short run that must see an exposure and a bet in doubt whatever the timing.
   */
  sureExposures?: boolean;
}

export type ChaosTopology = 'single' | 'sentinel';
/** The worker slot whose Redis connections go through the rig's TCP proxies (sentinel runs). */
export const partitionedWorker = 0;

/** How the runner stamps createdAt when it enqueues the pair (the stamp depends on the enqueue time). */
export type CreatedAtStamp =
  | { kind: 'ahead'; aheadMs: number }
  | { kind: 'fixed'; iso: string }
  | { kind: 'honest'; form: 'lower_t' | 'lower_z' | 'space' };

/** A leg's result change after reconciliation: to void, or the opposite of what it was. */
export type Resettlement = { leg: 'p' | 'h'; to: 'void' | 'flip' };

export interface PlannedPair {
  plan: PairPlan;
  data: Record<string, unknown>;
  /** Faults queued at the positive's bookmaker (bookA) and the hedge's (bookB) before the pair is enqueued. */
  faultsA: FaultSpec[];
  faultsB: FaultSpec[];
  /** When each delivery is enqueued, ms from the start. */
  deliveriesAtMs: number[];
  /** BullMQ delay of each delivery (a future-stamped pair sits in the queue past arbAgeMsMax). */
  queueDelayMs?: number;
  createdAt?: CreatedAtStamp;
  resettle?: Resettlement;
  /** lost_chain: whose poll job the runner removes once the pair is executed. */
  loseChain?: 'p' | 'h';
}

export type ProcessFault =
  | { kind: 'kill'; atMs: number; worker: number; restartAfterMs: number }
  | { kind: 'freeze'; atMs: number; worker: number; frozenMs: number }
  | { kind: 'redis_restart'; atMs: number }
  | { kind: 'redis_pause'; atMs: number; pausedMs: number }
  /** Sentinel: the primary SIGKILLed (after its replica's link was black-holed for the run's lag), the replica promoted, the old primary back as a replica. */
  | { kind: 'failover'; atMs: number }
  /** Sentinel: every connection of one worker to the data servers black-holed for heldMs (past its leases), then healed. */
  | { kind: 'partition'; atMs: number; worker: number; heldMs: number }
  | { kind: 'clock_step'; atMs: number; worker: number }
  | { kind: 'kill_switch'; atMs: number; heldMs: number }
  /** The hedge bookmaker (bookB) answers every request 500 for heldMs, then recovers (`--sick-bookmaker`). */
  | { kind: 'sick_bookmaker'; atMs: number; heldMs: number }
  /**
   * Redis paused, then every worker (but the crash worker) killed while their journal writes wait: a positive
   * answered during the pause has sent its fast-path hedge, and its acceptance is not journaled.
   */
  | { kind: 'kill_in_pause'; atMs: number; pausedMs: number; killAfterMs: number; restartAfterMs: number };

export interface Scenario {
  pairs: PlannedPair[];
  processFaults: ProcessFault[];
  classes: readonly FaultClass[];
  /** journal_gap: one more worker of ours that crashes itself at the crash points in turn (naive: a plain worker). */
  crashWorker: boolean;
}

type Pick = (p: number) => boolean;

const positiveFaults: Array<[number, (ref: string) => FaultSpec[]]> = [
  [0.05, (ref) => [{ fault: 'reject', match: { clientRef: ref } }]],
  [0.03, (ref) => [{ fault: 'error_500', match: { clientRef: ref } }]],
  [0.03, (ref) => [{ fault: 'timeout_before_commit', match: { clientRef: ref }, params: { hangMs: 2_000 } }]],
  [0.04, (ref) => [{ fault: 'timeout_after_commit', match: { clientRef: ref }, params: { hangMs: 2_000 } }]],
  [0.03, (ref) => [{ fault: 'partial', match: { clientRef: ref } }]],
  [0.02, (ref) => [{ fault: 'odds_moved', match: { clientRef: ref }, params: { accept: true } }]],
  [0.02, (ref) => [{ fault: 'pending_then_accept', match: { clientRef: ref } }]],
  [0.02, (ref) => [{ fault: 'pending_then_reject', match: { clientRef: ref } }]],
  [0.02, (ref) => [
    { fault: 'timeout_after_commit', match: { clientRef: ref }, params: { hangMs: 2_000 } },
    { fault: 'lookup_error', match: { clientRef: ref }, count: 3 },
  ]],
  [0.01, (ref) => positiveInDoubtForever(ref)],
];

/** A positive committed with its answer lost and every lookup failing: it stays in doubt (a review flag, an exposure). */
function positiveInDoubtForever(ref: string): FaultSpec[] {
  return [
    { fault: 'timeout_after_commit', match: { clientRef: ref }, params: { hangMs: 2_000 } },
    { fault: 'lookup_error', match: { clientRef: ref }, count: 100_000 },
  ];
}

const hedgeFaults: Array<[number, (arbId: string) => FaultSpec[]]> = [
  [0.05, (arbId) => [{ fault: 'reject', match: { clientRef: `be1.${arbId}.h1` } }]],
  [0.02, (arbId) => hedgeRejectedEveryTime(arbId)],
  [0.02, (arbId) => [{ fault: 'odds_moved', match: { clientRef: `be1.${arbId}.h1` }, params: { oddsMilli: 2_030 } }]],
  [0.02, (arbId) => [{ fault: 'odds_moved', match: { clientRef: `be1.${arbId}.h1` }, params: { oddsMilli: 1_500 } }]],
  [0.03, (arbId) => [{ fault: 'timeout_after_commit', match: { clientRef: `be1.${arbId}.h1` }, params: { hangMs: 2_000 } }]],
  [0.02, (arbId) => [{ fault: 'partial', match: { clientRef: `be1.${arbId}.h1` } }]],
  [0.02, (arbId) => [{ fault: 'error_500', match: { clientRef: `be1.${arbId}.h1` } }]],
];

function hedgeRejectedEveryTime(arbId: string): FaultSpec[] {
  return [1, 2, 3, 4].map((n) => ({ fault: 'reject' as const, match: { clientRef: `be1.${arbId}.h${n}` } }));
}

function pickFaults<T>(chance: Pick, table: Array<[number, (x: T) => FaultSpec[]]>, x: T): FaultSpec[] {
  for (const [p, make] of table) if (chance(p)) return make(x);
  return [];
}

function pairData(arbId: string, i: number, positiveAccount: string, hedgeAccount: string, invalid: boolean): Record<string, unknown> {
  return {
    arbId: invalid ? `bad:${arbId}` : arbId,
    betPairId: `bp-${i}`,
    whitelabel: 'wl1',
    provider: 'bookA',
    currency: 'EUR',
    positiveBet: { betId: `p-${i}`, accountId: positiveAccount, eventId: `ev-${i}`, market: 'match_winner', selection: 'home', odds: '2.100', stakeMinor: 10_000 },
    hedgeBet: { betId: `h-${i}`, accountId: hedgeAccount, provider: 'bookB', eventId: `ev-${i}`, market: 'match_winner', selection: 'away', odds: '2.050', stakeMinor: 10_244 },
  };
}

export function buildScenario(o: ScenarioOptions): Scenario {
  const random = prng(o.seed);
  const chance: Pick = (p) => random() < p;
  const int = (n: number) => Math.floor(random() * n);
  const pairs: PlannedPair[] = [];
  for (let i = 0; i < o.pairs; i++) {
    const arbId = `c${o.seed}-${i}`;
    const invalid = chance(0.02);
    const positiveAccount = `pa${int(o.accountsPerBook)}`;
    const hedgeAccount = `ha${int(o.accountsPerBook)}`;
    const firstAtMs = Math.floor((i / o.pairs) * o.durationMs);
    const deliveries = chance(0.1) ? 2 + int(2) : 1;
    const deliveriesAtMs = [firstAtMs];
    for (let d = 1; d < deliveries; d++) deliveriesAtMs.push(firstAtMs + (chance(0.5) ? int(50) : 500 + int(3_000)));
    pairs.push({
      plan: {
        arbId, betPairId: `bp-${i}`, whitelabel: 'wl1', positiveProvider: 'bookA', hedgeProvider: 'bookB', positiveAccount, hedgeAccount, positiveStakeMinor: 10_000, invalid, deliveries,
        ...(invalid ? { invalidReason: 'bad_id' as const } : {}),
      },
      data: pairData(arbId, i, positiveAccount, hedgeAccount, invalid),
      faultsA: invalid ? [] : pickFaults(chance, positiveFaults, `be1.${arbId}.p1`),
      faultsB: invalid ? [] : pickFaults(chance, hedgeFaults, arbId),
      deliveriesAtMs,
    });
  }
  const processFaults = buildProcessFaults(o, random);
  if (o.sickBookmaker) processFaults.push({ kind: 'sick_bookmaker', atMs: Math.round(0.3 * o.durationMs), heldMs: Math.round(0.3 * o.durationMs) });
  const classes = [...new Set(o.classes ?? [])];
  if (classes.length > 0) addClasses(o, classes, pairs, processFaults);
  if (o.sureExposures) pairs.push(...sureExposurePairs(o));
  return { pairs, processFaults: processFaults.sort((a, b) => a.atMs - b.atMs), classes, crashWorker: classes.includes('journal_gap') };
}

/**
 * Two pairs, each on accounts no other pair uses (so no cooldown of another pair's can block them, whichever way
 * the faults fall), each ending in an exposure by a fault of its own: every hedge attempt rejected
 * (`hedge_failed_positive_active`), and a positive committed with its answer lost and every lookup failing
 * (`positive_in_doubt`, a bet in doubt). Valid arbs (hedge odds 2.050), enqueued at 10 % and 20 % of the run.
 */
export function sureExposurePairs(o: { seed: number; pairs: number; durationMs: number }): PlannedPair[] {
  const plans = [
    { faultsA: () => [], faultsB: (arbId: string) => hedgeRejectedEveryTime(arbId) },
    {
      faultsA: (arbId: string): FaultSpec[] => positiveInDoubtForever(`be1.${arbId}.p1`),
      faultsB: () => [],
    },
  ];
  return plans.map((make, k) => {
    const i = o.pairs + k;
    const arbId = `c${o.seed}-${i}`;
    const positiveAccount = `pa-sure${k}`;
    const hedgeAccount = `ha-sure${k}`;
    return {
      plan: { arbId, betPairId: `bp-${i}`, whitelabel: 'wl1', positiveProvider: 'bookA', hedgeProvider: 'bookB', positiveAccount, hedgeAccount, positiveStakeMinor: 10_000, invalid: false, deliveries: 1 },
      data: pairData(arbId, i, positiveAccount, hedgeAccount, false),
      faultsA: make.faultsA(arbId),
      faultsB: make.faultsB(arbId),
      deliveriesAtMs: [Math.floor(o.durationMs * (k + 1) / 10)],
    };
  });
}

function buildProcessFaults(o: ScenarioOptions, random: () => number): ProcessFault[] {
  const at = (from: number, to: number) => Math.floor(o.durationMs * (from + random() * (to - from)));
  const faults: ProcessFault[] = [];
  const kills = Math.max(2, Math.round(o.durationMs / 5_000));
  for (let k = 0; k < kills; k++) {
    faults.push({ kind: 'kill', atMs: at(0.05, 0.95), worker: Math.floor(random() * o.workers), restartAfterMs: 200 + Math.floor(random() * 800) });
  }
  faults.push({ kind: 'freeze', atMs: at(0.1, 0.4), worker: Math.floor(random() * o.workers), frozenMs: 3 * o.lockTtlMs });
  if (o.topology === 'sentinel') {
    // Spread out: each failover takes a few seconds (down-after, election, the old primary's resync).
    const failovers = o.failovers ?? 2;
    for (let k = 0; k < failovers; k++) faults.push({ kind: 'failover', atMs: at(0.1 + (0.8 * k) / failovers, 0.1 + (0.8 * k) / failovers + 0.1) });
    // Between the first failover's window (0.1-0.2) and the second's start, or at 0.6 of a run with one.
    const between = failovers > 1 ? (0.2 + 0.1 + 0.8 / failovers) / 2 : 0.6;
    faults.push({ kind: 'partition', atMs: Math.floor(o.durationMs * between), worker: partitionedWorker, heldMs: 3 * o.lockTtlMs });
    return faults;
  }
  faults.push({ kind: 'redis_restart', atMs: at(0.45, 0.6) });
  faults.push({ kind: 'redis_pause', atMs: at(0.65, 0.85), pausedMs: 1_500 });
  return faults;
}

// ---- issue-7 classes ----------------------------------------------------------------------------

interface ClassRandom {
  chance: Pick;
  int: (n: number) => number;
  at: (from: number, to: number) => number;
}

/** Pair-level classes, each drawn independently per pair; a pair gets at most one of them. */
type PairClass = Extract<FaultClass, 'late_commit' | 'void_lookup' | 'clock_step' | 'shared_pair' | 'resettle' | 'lost_chain' | 'non_arb' | 'future_stamped' | 'stake_rounding'>;
const pairClassRates: Array<[PairClass, number]> = [
  ['late_commit', 0.06],
  ['clock_step', 0.1],
  ['void_lookup', 0.03],
  ['shared_pair', 0.03],
  ['resettle', 0.04],
  ['lost_chain', 0.02],
  ['non_arb', 0.02],
  ['future_stamped', 0.015],
  ['stake_rounding', 0.06],
];

function addClasses(o: ScenarioOptions, classes: readonly FaultClass[], pairs: PlannedPair[], faults: ProcessFault[]): void {
  // A stream of its own: the base scenario of a seed stays the same whichever classes are on.
  const random = prng((o.seed ^ 0x7e57c1a5) >>> 0);
  const r: ClassRandom = {
    chance: (p) => random() < p,
    int: (n) => Math.floor(random() * n),
    at: (from, to) => Math.floor(o.durationMs * (from + random() * (to - from))),
  };
  const enabled = pairClassRates.filter(([c]) => classes.includes(c));
  for (let i = 0; i < pairs.length; i++) {
    const pair = pairs[i] as PlannedPair;
    if (pair.plan.invalid || pair.plan.faultClass !== undefined) continue;
    for (const [c, rate] of enabled) {
      if (!r.chance(rate)) continue;
      if (applyPairClass(c, pairs, i, o, r)) pair.plan.faultClass = c;
      break;
    }
  }
  if (classes.includes('clock_step')) {
    const steps = Math.max(2, Math.round(o.durationMs / 1_000));
    for (let k = 0; k < steps; k++) faults.push({ kind: 'clock_step', atMs: r.at(0.05, 0.95), worker: r.int(o.workers) });
  }
  if (classes.includes('kill_switch')) {
    const windows = Math.max(1, Math.round(o.durationMs / 15_000));
    for (let k = 0; k < windows; k++) faults.push({ kind: 'kill_switch', atMs: r.at(0.15 + (0.7 * k) / windows, 0.15 + (0.7 * (k + 1)) / windows - 0.05), heldMs: 1_500 });
  }
  if (classes.includes('journal_gap')) {
    const gaps = Math.max(2, Math.round(o.durationMs / 5_000));
    for (let k = 0; k < gaps; k++) {
      faults.push({ kind: 'kill_in_pause', atMs: r.at(0.05, 0.95), pausedMs: 400, killAfterMs: 150 + r.int(200), restartAfterMs: 200 + r.int(400) });
    }
  }
}

function applyPairClass(c: PairClass, pairs: PlannedPair[], i: number, o: ScenarioOptions, r: ClassRandom): boolean {
  const pair = pairs[i] as PlannedPair;
  switch (c) {
    case 'late_commit': return lateCommit(pair, r);
    case 'void_lookup': return voidOnLookup(pair, r);
    case 'clock_step': return slowPositive(pair, r);
    case 'shared_pair': return sharePairId(pairs, i, o, r);
    case 'resettle': return resettleLater(pair, r);
    case 'lost_chain': return loseChainLater(pair, r);
    case 'non_arb': return notAnArb(pair, r);
    case 'future_stamped': return futureStamped(pair, o, r);
    case 'stake_rounding': return roundingShort(pair, r);
  }
}

/**
 * F4. `count` sends of the leg's first reference are each answered 500 (or hung past the provider
 * timeout) and committed `delayMs` later (a deduplicating bookmaker commits the first that comes due).
 * With `count` = the executor's sends the last not_found looks final well before the bet appears.
 */
function lateCommit(pair: PlannedPair, r: ClassRandom): boolean {
  const hedge = r.chance(0.5);
  if ((hedge ? pair.faultsB : pair.faultsA).length > 0) return false;
  const ref = `be1.${pair.plan.arbId}.${hedge ? 'h1' : 'p1'}`;
  const count = r.chance(0.7) ? chaosPlacementSendsMax : 1 + r.int(chaosPlacementSendsMax - 1);
  const params = { delayMs: 200 + r.int(1_000), ...(r.chance(0.5) ? { hangMs: 400 } : {}) };
  const fault: FaultSpec = { fault: 'commit_late', match: { clientRef: ref }, count, params };
  if (hedge) pair.faultsB = [fault];
  else pair.faultsA = [fault];
  return true;
}

/**
 * F5. The positive stays pending for 8-30 status polls (~0.4-1.8 s) and is then taken as planned: past the
 * point where the hedge account's claim is fresh by a true clock, but fresh again by a clock stepped back
 * meanwhile, which lets the fast-path hedge go without claiming the account.
 */
function slowPositive(pair: PlannedPair, r: ClassRandom): boolean {
  if (pair.faultsA.length > 0) return false;
  pair.faultsA = [{ fault: 'pending_then_accept', match: { clientRef: `be1.${pair.plan.arbId}.p1` }, params: { pendingPolls: 8 + r.int(23) } }];
  return true;
}

/** F3. The positive is committed and settled at once (mostly void), its answer lost: the executor can only look it up. */
function voidOnLookup(pair: PlannedPair, r: ClassRandom): boolean {
  if (pair.faultsA.length > 0) return false;
  const settleAs: FinalBetStatus = r.chance(0.7) ? 'void' : r.chance(0.5) ? 'won' : 'lost';
  pair.faultsA = [{ fault: 'timeout_after_commit', match: { clientRef: `be1.${pair.plan.arbId}.p1` }, params: { hangMs: 2_000, settleAs } }];
  return true;
}

/**
 * F2. This pair re-uses the betPairId of the pair enqueued just before it (a scanner re-detecting it), on
 * accounts of its own, and both end in an exposure: every hedge attempt is rejected.
 */
function sharePairId(pairs: PlannedPair[], i: number, o: ScenarioOptions, r: ClassRandom): boolean {
  const first = pairs[i - 1];
  const pair = pairs[i] as PlannedPair;
  if (first === undefined || first.plan.invalid || first.plan.faultClass !== undefined || o.accountsPerBook < 2) return false;
  pair.plan.betPairId = first.plan.betPairId;
  pair.data.betPairId = first.plan.betPairId;
  // Another account of the same book ('pa3' → 'pa{3 + 1..N-1 mod N}'), so the two do not block each other's cooldown.
  const other = (account: string, prefix: string) => `${prefix}${(Number(account.slice(2)) + 1 + r.int(o.accountsPerBook - 1)) % o.accountsPerBook}`;
  if (pair.plan.positiveAccount === first.plan.positiveAccount) setAccount(pair, 'positive', other(first.plan.positiveAccount, 'pa'));
  if (pair.plan.hedgeAccount === first.plan.hedgeAccount) setAccount(pair, 'hedge', other(first.plan.hedgeAccount, 'ha'));
  for (const p of [first, pair]) {
    p.faultsA = [];
    p.faultsB = hedgeRejectedEveryTime(p.plan.arbId);
    p.plan.faultClass = 'shared_pair';
  }
  // Both are in flight together: consecutive pairs are enqueued durationMs / pairs apart (16 ms at 2,500 in 40 s).
  return true;
}

function setAccount(pair: PlannedPair, leg: 'positive' | 'hedge', accountId: string): void {
  if (leg === 'positive') pair.plan.positiveAccount = accountId;
  else pair.plan.hedgeAccount = accountId;
  (pair.data[`${leg}Bet`] as Record<string, unknown>).accountId = accountId;
}

/** Re-settlement: once reconciled, one leg's result changes at its bookmaker (to void, or flipped). */
function resettleLater(pair: PlannedPair, r: ClassRandom): boolean {
  if (pair.faultsA.length > 0 || pair.faultsB.length > 0) return false;
  pair.resettle = { leg: r.chance(0.5) ? 'p' : 'h', to: r.chance(0.6) ? 'void' : 'flip' };
  return true;
}

/** A lost settlement chain: once executed, one bet's poll job is removed (as if stalled away or deleted). */
function loseChainLater(pair: PlannedPair, r: ClassRandom): boolean {
  if (pair.faultsA.length > 0 || pair.faultsB.length > 0) return false;
  pair.loseChain = r.chance(0.5) ? 'p' : 'h';
  return true;
}

const nonArbReasons: readonly InvalidReason[] = ['same_side', 'other_event', 'other_market', 'low_odds', 'leg_currency'];

/** F7. Passes the old schema, but is no arbitrage (or carries a leg term the contract does not honour). */
function notAnArb(pair: PlannedPair, r: ClassRandom): boolean {
  const reason = nonArbReasons[r.int(nonArbReasons.length)] as InvalidReason;
  const positive = pair.data.positiveBet as Record<string, unknown>;
  const hedge = pair.data.hedgeBet as Record<string, unknown>;
  switch (reason) {
    case 'same_side': hedge.selection = 'home'; break;
    case 'other_event': hedge.eventId = `${String(hedge.eventId)}-x`; break;
    case 'other_market': hedge.market = 'total_goals_2.5'; break;
    case 'low_odds': positive.odds = '1.010'; hedge.odds = '1.010'; break;
    case 'leg_currency': positive.currency = 'USD'; break;
    default: return false;
  }
  pair.faultsA = [];
  pair.faultsB = [];
  pair.plan.invalid = true;
  pair.plan.invalidReason = reason;
  return true;
}

/**
 * F8. createdAt 2 minutes ahead or in 2099, and a queue delay past arbAgeMsMax: the pair is old when a worker
 * takes it, whatever its stamp says. A third carry an honest createdAt in an RFC 3339 form the old schema
 * refused (lower-case t/z, a space), with no delay: they must run like any other pair.
 */
function futureStamped(pair: PlannedPair, o: ScenarioOptions, r: ClassRandom): boolean {
  // Late in the run a delayed pair would only lengthen the run.
  if ((pair.deliveriesAtMs[0] ?? 0) > 0.8 * o.durationMs) return false;
  const roll = r.int(3);
  if (roll === 2) {
    const forms = ['lower_t', 'lower_z', 'space'] as const;
    pair.createdAt = { kind: 'honest', form: forms[r.int(forms.length)] as (typeof forms)[number] };
    return true;
  }
  pair.createdAt = roll === 0 ? { kind: 'ahead', aheadMs: 120_000 } : { kind: 'fixed', iso: '2099-01-01T00:00:00Z' };
  pair.queueDelayMs = chaosArbAgeMsMax + 1_000 + r.int(2_000);
  pair.plan.refusable = true;
  return true;
}

/** The createdAt text of a stamp at enqueue time `nowMs`, and its value in unix ms. */
export function stampCreatedAt(stamp: CreatedAtStamp, nowMs: number): { text: string; ms: number } {
  switch (stamp.kind) {
    case 'ahead': {
      const ms = nowMs + stamp.aheadMs;
      return { text: new Date(ms).toISOString(), ms };
    }
    case 'fixed': return { text: stamp.iso, ms: Date.parse(stamp.iso) };
    case 'honest': {
      const iso = new Date(nowMs).toISOString();
      const text = stamp.form === 'lower_t' ? iso.replace('T', 't') : stamp.form === 'lower_z' ? iso.replace('Z', 'z') : iso.replace('T', ' ');
      return { text, ms: nowMs };
    }
  }
}

/**
 * Hedge prices (odds milli: planned hedge stake, the smallest whose return covers the positive's 21,000) at
 * which a positive taken for half (the simulator's `partial`: 5,000 of 10,000 at 2.100) rebalances the hedge to
 * a whole-unit stake returning 1 unit short of its share (found by brute force over 1.910-2.090 with
 * src/domain/hedge.ts; test/chaos/scenario.test.ts checks each). All at or above 1.910: the pair stays an arb.
 */
export const roundingShortPrices: ReadonlyArray<readonly [number, number]> = [
  [1_910, 10_995], [1_925, 10_910], [1_950, 10_770], [1_961, 10_709], [1_975, 10_633], [1_990, 10_553], [1_999, 10_506],
];

/** stake_rounding: the positive is taken for half, the hedge priced where its rebalanced stake returns 1 short. */
function roundingShort(pair: PlannedPair, r: ClassRandom): boolean {
  if (pair.faultsA.length > 0 || pair.faultsB.length > 0) return false;
  const [oddsMilli, stakeMinor] = roundingShortPrices[r.int(roundingShortPrices.length)] as readonly [number, number];
  const hedge = pair.data.hedgeBet as Record<string, unknown>;
  hedge.odds = (oddsMilli / 1000).toFixed(3);
  hedge.stakeMinor = stakeMinor;
  pair.faultsA = [{ fault: 'partial', match: { clientRef: `be1.${pair.plan.arbId}.p1` } }];
  return true;
}
