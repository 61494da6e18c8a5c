// A seeded chaos scenario: the pairs, their bookmaker faults, duplicate deliveries and the process/Redis fault schedule.
import type { FaultSpec } from '../src/sim/faults.js';
import type { PairPlan } from './snapshot.js';
import { prng } from '../src/infra/prng.js';

export interface ScenarioOptions {
  seed: number;
  pairs: number;
  accountsPerBook: number;
  /** Length of the enqueue phase; process and Redis faults fall inside it. */
  durationMs: number;
  workers: number;
  lockTtlMs: number;
}

export interface PlannedPair {
  plan: PairPlan;
  data: Record<string, unknown>;
  /** Faults queued at the positive's bookmaker (bookA) and the hedge's (bookB) before the pair is enqueued. */
  faultsA: FaultSpec[];
  faultsB: FaultSpec[];
  /** When each delivery is enqueued, ms from the start. */
  deliveriesAtMs: number[];
}

export type ProcessFault =
  | { kind: 'kill'; atMs: number; worker: number; restartAfterMs: number }
  | { kind: 'freeze'; atMs: number; worker: number; frozenMs: number }
  | { kind: 'redis_restart'; atMs: number }
  | { kind: 'redis_pause'; atMs: number; pausedMs: number };

export interface Scenario {
  pairs: PlannedPair[];
  processFaults: ProcessFault[];
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
  [0.01, (ref) => [
    { fault: 'timeout_after_commit', match: { clientRef: ref }, params: { hangMs: 2_000 } },
    { fault: 'lookup_error', match: { clientRef: ref }, count: 100_000 },
  ]],
];

const hedgeFaults: Array<[number, (arbId: string) => FaultSpec[]]> = [
  [0.05, (arbId) => [{ fault: 'reject', match: { clientRef: `be1.${arbId}.h1` } }]],
  [0.02, (arbId) => [1, 2, 3, 4].map((n) => ({ fault: 'reject' as const, match: { clientRef: `be1.${arbId}.h${n}` } }))],
  [0.02, (arbId) => [{ fault: 'odds_moved', match: { clientRef: `be1.${arbId}.h1` }, params: { oddsMilli: 2_030 } }]],
  [0.02, (arbId) => [{ fault: 'odds_moved', match: { clientRef: `be1.${arbId}.h1` }, params: { oddsMilli: 1_500 } }]],
  [0.03, (arbId) => [{ fault: 'timeout_after_commit', match: { clientRef: `be1.${arbId}.h1` }, params: { hangMs: 2_000 } }]],
  [0.02, (arbId) => [{ fault: 'partial', match: { clientRef: `be1.${arbId}.h1` } }]],
  [0.02, (arbId) => [{ fault: 'error_500', match: { clientRef: `be1.${arbId}.h1` } }]],
];

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
      plan: { arbId, betPairId: `bp-${i}`, whitelabel: 'wl1', positiveProvider: 'bookA', hedgeProvider: 'bookB', positiveAccount, hedgeAccount, positiveStakeMinor: 10_000, invalid, deliveries },
      data: pairData(arbId, i, positiveAccount, hedgeAccount, invalid),
      faultsA: invalid ? [] : pickFaults(chance, positiveFaults, `be1.${arbId}.p1`),
      faultsB: invalid ? [] : pickFaults(chance, hedgeFaults, arbId),
      deliveriesAtMs,
    });
  }
  return { pairs, processFaults: buildProcessFaults(o, random) };
}

function buildProcessFaults(o: ScenarioOptions, random: () => number): ProcessFault[] {
  const at = (from: number, to: number) => Math.floor(o.durationMs * (from + random() * (to - from)));
  const faults: ProcessFault[] = [];
  const kills = Math.max(2, Math.round(o.durationMs / 5_000));
  for (let k = 0; k < kills; k++) {
    faults.push({ kind: 'kill', atMs: at(0.05, 0.95), worker: Math.floor(random() * o.workers), restartAfterMs: 200 + Math.floor(random() * 800) });
  }
  faults.push({ kind: 'freeze', atMs: at(0.1, 0.4), worker: Math.floor(random() * o.workers), frozenMs: 3 * o.lockTtlMs });
  faults.push({ kind: 'redis_restart', atMs: at(0.45, 0.6) });
  faults.push({ kind: 'redis_pause', atMs: at(0.65, 0.85), pausedMs: 1_500 });
  return faults.sort((a, b) => a.atMs - b.atMs);
}
