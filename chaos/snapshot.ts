// What a chaos run collects at the end, from sources that do not trust the executor, for the invariant checks.
import type { SimLogEntry } from '../src/sim/bookmaker.js';

export interface SimBetFinal {
  clientRef: string;
  ticketId: string;
  accountId: string;
  /** The bookmaker's own final view of the bet (accepted, rejected, pending, or a settled status). */
  status: string;
  stakeMinor: number;
  oddsMilli: number;
}

export interface BookSnapshot {
  name: string;
  /** Every placement request received, in order (GET /_sim/bets). */
  log: SimLogEntry[];
  /** Each distinct bet the bookmaker holds, by ticket, as it stands at the end. */
  bets: SimBetFinal[];
}

export interface PairPlan {
  arbId: string;
  betPairId: string;
  whitelabel: string;
  positiveProvider: string;
  hedgeProvider: string;
  positiveAccount: string;
  hedgeAccount: string;
  positiveStakeMinor: number;
  /** Whether the scenario made it invalid on purpose (it must be rejected, nothing placed). */
  invalid: boolean;
  /** How many times it was enqueued (duplicates). */
  deliveries: number;
}

export interface StreamRow {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

export interface ChaosSnapshot {
  cooldownMs: number;
  /** Tolerance for clock and network jitter in the cooldown check, ms. */
  cooldownToleranceMs: number;
  /** From the first accepted positive to an accepted hedge or an exposure, at most this (ms). */
  hedgeOrAlertDeadlineMs: number;
  books: BookSnapshot[];
  plans: PairPlan[];
  /** Journal states by arbId (Redis be:pair:{arbId} field `state`); absent = no journal. */
  journalStates: Record<string, string>;
  /** Exposure keys present and review-list entries (ids = exposure keys), with their records. */
  exposureKeys: Record<string, Record<string, unknown>>;
  reviewOpen: Record<string, Record<string, unknown>>;
  events: StreamRow[];
  audit: StreamRow[];
  /** BullMQ job counts per queue at the end (waiting, active, delayed, failed, ...). */
  queueCounts: Record<string, Record<string, number>>;
  /** For the naive executor, which keeps no journal/audit/events: checks that need them count as violated. */
  executor: 'ours' | 'naive';
  /** Whether the executor settles pairs (ours does; the naive one never polls or reconciles). */
  settlementExpected?: boolean;
}
