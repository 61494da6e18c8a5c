// The pair state machine: states, the legal transitions, and the journal document a transition writes.
import type { PairSettlement } from './pair-settlement.js';
import type { BetPair, LegRole, Minor, OddsMilli } from './types.js';
import { assertNever } from './types.js';

export type PairState =
  | 'received'
  | 'blocked'
  | 'positive_placing'
  | 'positive_failed'
  | 'positive_in_doubt'
  | 'hedge_placing'
  | 'hedged'
  | 'hedge_failed'
  | 'hedge_in_doubt'
  | 'settled';

/** Who may follow whom. A self-transition journals progress inside a state (a resend, a new attempt). */
export const pairTransitions: Readonly<Record<PairState, readonly PairState[]>> = {
  received: ['blocked', 'positive_placing'],
  blocked: [],
  // → blocked: a positive resend refused by the kill switch or staleness (nothing live).
  positive_placing: ['positive_placing', 'blocked', 'positive_failed', 'positive_in_doubt', 'hedge_placing', 'hedge_failed'],
  positive_failed: [],
  positive_in_doubt: ['settled'],
  hedge_placing: ['hedge_placing', 'hedged', 'hedge_failed', 'hedge_in_doubt'],
  hedged: ['settled'],
  hedge_failed: ['settled'],
  hedge_in_doubt: ['settled'],
  settled: [],
};

/** States in which the placement saga has nothing more to do (settlement may still follow). */
export const placementDoneStates: readonly PairState[] = [
  'blocked', 'positive_failed', 'positive_in_doubt', 'hedged', 'hedge_failed', 'hedge_in_doubt', 'settled',
];

export function isPlacementDone(state: PairState): boolean {
  return placementDoneStates.includes(state);
}

export function assertTransition(from: PairState, to: PairState): void {
  if (!pairTransitions[from].includes(to)) {
    throw new Error(`invariant violated: illegal pair transition ${from} → ${to}`);
  }
}

/**
 * Status of one placement (one client reference) as the journal knows it. `planned`: the first hedge,
 * journaled at preflight and sent the moment the positive is taken exactly as planned, before that
 * acceptance is journaled. So once the positive may have been taken, a `planned` hedge is *possibly sent*:
 * a resumed pair looks it up before anything else. `not_placed`: certainly never taken (also a planned
 * hedge a lookup proved was never sent).
 */
export type PlacementStatus = 'planned' | 'sending' | 'pending' | 'accepted' | 'rejected' | 'not_placed' | 'in_doubt';

export interface Placement {
  role: LegRole;
  /** 1-based attempt number of this leg; each attempt has its own client reference. */
  attempt: number;
  clientRef: string;
  provider: string;
  accountId: string;
  stakeMinor: Minor;
  oddsMilli: OddsMilli;
  /** Same-reference sends so far (journaled before each send). */
  sendCount: number;
  status: PlacementStatus;
  intentAtMs: number;
  ticketId?: string;
  acceptedStakeMinor?: Minor;
  acceptedOddsMilli?: OddsMilli;
  reason?: string;
}

export interface PairDoc {
  version: 1;
  arbId: string;
  /** BullMQ id of the job that created the journal. */
  jobId: string;
  pair: BetPair;
  state: PairState;
  positive: Placement | null;
  hedges: Placement[];
  /** The return (stake × odds) the hedge bets must bring, fixed when the positive is accepted. */
  hedgeTargetReturnMinor?: Minor;
  /** Positive acceptance time: the hedge deadline runs from here. */
  positiveAcceptedAtMs?: number;
  /** When the hedge was fully taken (journaled as hedged): hedgedAtMs − positiveAcceptedAtMs is the leg window. */
  hedgedAtMs?: number;
  /** Set when the pair is settled: results, classification and realised P&L. */
  settlement?: PairSettlement;
  /** Why the pair ended where it did (block reason, failure text, exposure reason). */
  outcomeReason?: string;
  createdAtMs: number;
  updatedAtMs: number;
}

/** Deterministic client reference of a placement: the same on every retry and on every worker. */
export function clientRefFor(arbId: string, role: LegRole, attempt: number): string {
  const letter = role === 'positive' ? 'p' : 'h';
  return `be1.${arbId}.${letter}${attempt}`;
}

export function newPairDoc(pair: BetPair, jobId: string, nowMs: number): PairDoc {
  return {
    version: 1,
    arbId: pair.arbId,
    jobId,
    pair,
    state: 'received',
    positive: null,
    hedges: [],
    createdAtMs: nowMs,
    updatedAtMs: nowMs,
  };
}

export function newPlacement(pair: BetPair, role: LegRole, attempt: number, stakeMinor: Minor, oddsMilli: OddsMilli, nowMs: number, status: PlacementStatus = 'sending'): Placement {
  const leg = role === 'positive' ? pair.positive : pair.hedge;
  return {
    role,
    attempt,
    clientRef: clientRefFor(pair.arbId, role, attempt),
    provider: leg.provider,
    accountId: leg.accountId,
    stakeMinor,
    oddsMilli,
    sendCount: 1,
    status,
    intentAtMs: nowMs,
  };
}

export function currentHedge(doc: PairDoc): Placement | undefined {
  return doc.hedges[doc.hedges.length - 1];
}

/** The journal's view of a pair for the events: the seed's status names. */
export function legStatusName(placement: Placement | null | undefined): string {
  if (!placement) return 'cancelled';
  switch (placement.status) {
    case 'accepted': return 'accepted';
    case 'rejected': return 'rejected';
    case 'not_placed': return 'error';
    case 'in_doubt': return 'in_doubt';
    case 'sending': return 'sending';
    case 'pending': return 'pending';
    case 'planned': return 'planned';
    default: return assertNever(placement.status, 'placement status');
  }
}
