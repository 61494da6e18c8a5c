// What a chaos run collects at the end, from sources that do not trust the executor, for the invariant checks.
import type { SimLogEntry } from '../sim/bookmaker.js';

export interface SimBetFinal {
  clientRef: string;
  ticketId: string;
  accountId: string;
  /** The bookmaker's own final view of the bet (accepted, rejected, pending, or a settled status). */
  status: string;
  stakeMinor: number;
  oddsMilli: number;
  /** When the bet got its (latest) final result at the bookmaker; absent while unsettled. */
  settledAtMs?: number;
  /**
   * When the bookmaker committed the bet, when that is not the time of the log entry naming it: a
   * `commit_late` request is logged when it arrives and committed `delayMs` later.
   */
  committedAtMs?: number;
  /** When the bookmaker took the bet (its acceptedAtMs): later than the request for a bet pending first or committed late. */
  acceptedAtMs?: number;
}

export interface BookSnapshot {
  name: string;
  /** Every placement request received, in order (GET /_sim/bets). */
  log: SimLogEntry[];
  /** Each distinct bet the bookmaker holds, by ticket, as it stands at the end. */
  bets: SimBetFinal[];
}

/** Why the scenario made a pair invalid: a malformed id, or a pair that passes the old schema but is no arb. */
export type InvalidReason = 'bad_id' | 'same_side' | 'other_event' | 'other_market' | 'low_odds' | 'leg_currency';

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
  invalidReason?: InvalidReason;
  /** How many times it was enqueued (duplicates). */
  deliveries: number;
  /** The issue-7 fault class the scenario gave this pair, if any (for reading examples). */
  faultClass?: string;
  /** A valid pair the executor may refuse at intake (arb_rejected) instead of blocking it (a createdAt far ahead). */
  refusable?: boolean;
  /** The job's createdAt as unix ms, when it carried one (runner clock; set at enqueue). */
  createdAtMs?: number;
  /** When its first delivery was added to the queue (runner clock = the simulators' clock). */
  enqueuedAtMs?: number;
}

export interface StreamRow {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

/** One placement as a pair's journal (be:pair:{arbId} field `doc`) records it. */
export interface JournalPlacement {
  role: string;
  attempt: number;
  clientRef: string;
  provider: string;
  status: string;
  ticketId?: string;
}

export interface JournalDoc {
  state: string;
  positive: JournalPlacement | null;
  hedges: JournalPlacement[];
}

/** A period during which the global kill switch was set: Redis times of the SET and the DEL (the machine clock the simulators share). */
export interface KillWindow {
  setAtMs: number;
  clearedAtMs: number;
}

export interface ChaosSnapshot {
  cooldownMs: number;
  /** Tolerance for clock and network jitter in the cooldown check, ms. */
  cooldownToleranceMs: number;
  /** From the first accepted positive to an accepted hedge or an exposure, at most this (ms). */
  hedgeOrAlertDeadlineMs: number;
  /** The executor's max arb age (config arbAgeMsMax) and the slack allowed between its check and the send. */
  arbAgeMsMax: number;
  arbAgeToleranceMs: number;
  /** Kill-switch windows, from the SET to the DEL (Redis time, ms). */
  killWindows: KillWindow[];
  books: BookSnapshot[];
  plans: PairPlan[];
  /** Journal states by arbId (Redis be:pair:{arbId} field `state`); absent = no journal. */
  journalStates: Record<string, string>;
  /** The placements each journal records, by arbId (absent = no journal or no doc). */
  journalDocs: Record<string, JournalDoc>;
  /** Exposure keys present, and the review list's open and resolved entries (id → record), with their records. */
  exposureKeys: Record<string, Record<string, unknown>>;
  reviewOpen: Record<string, Record<string, unknown>>;
  reviewResolved: Record<string, Record<string, unknown>>;
  events: StreamRow[];
  audit: StreamRow[];
  /** BullMQ job counts per queue at the end (waiting, active, delayed, failed, ...). */
  queueCounts: Record<string, Record<string, number>>;
  /** For the naive executor, which keeps no journal/audit/events: checks that need them count as violated. */
  executor: 'ours' | 'naive';
  /** Whether the executor settles pairs (ours does; the naive one never polls or reconciles). */
  settlementExpected?: boolean;
  /** lost_chain: the arbIds whose poll job the runner removed (a bet's settlement chain killed). */
  lostChains?: string[];
}
