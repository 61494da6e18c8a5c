// The Provider port: what the executor needs from a bookmaker (place, look up by client ref, status).
import type { BetStatus, Minor, OddsMilli } from '../domain/types.js';

export interface PlaceRequest {
  /** Deterministic idempotency key; every retry of the same placement reuses it. */
  clientRef: string;
  accountId: string;
  eventId: string;
  market: string;
  selection: string;
  oddsMilli: OddsMilli;
  stakeMinor: Minor;
  currency: string;
}

/** A bet as the bookmaker knows it. */
export interface BetView {
  ticketId: string;
  clientRef: string;
  accountId: string;
  status: BetStatus;
  /** Odds and stake the bookmaker actually took (may differ from the request: odds moved, partial). */
  oddsMilli: OddsMilli;
  stakeMinor: Minor;
  reason?: string;
}

export type PlaceOutcome =
  | { kind: 'accepted'; bet: BetView }
  | { kind: 'pending'; bet: BetView }
  | { kind: 'rejected'; reason: string; currentOddsMilli?: OddsMilli; bet?: BetView }
  /** Timeout, connection reset or 5xx: the bookmaker may or may not have taken the bet. Look it up. */
  | { kind: 'in_doubt'; detail: string }
  /** The request never left (connection refused, host unknown): certainly not placed, safe to retry. */
  | { kind: 'not_sent'; detail: string };

export type LookupOutcome =
  | { kind: 'found'; bet: BetView }
  /** The bookmaker says it never received this client reference. */
  | { kind: 'not_found' }
  /** The bookmaker could not tell (error, timeout). */
  | { kind: 'unavailable'; detail: string };

/** Standing of one of our accounts at the bookmaker (`GET /accounts/:accountId`, under the account's key). */
export type AccountStatus = 'active' | 'limited' | 'suspended';

export type AccountStatusOutcome =
  | { kind: 'found'; status: AccountStatus }
  /** No answer about the account: refused credentials (the detail says so), an error, a timeout. */
  | { kind: 'unavailable'; detail: string };

/** Statuses of several tickets in one request: the bets the bookmaker knows, and the tickets it does not. */
export type StatusBatchOutcome =
  | { kind: 'answered'; bets: BetView[]; notFound: string[] }
  | { kind: 'unavailable'; detail: string };

/** One page of an account's settlement feed: bets settled (or re-settled) after the cursor, and the next cursor. */
export type SettledPageOutcome =
  | { kind: 'answered'; bets: BetView[]; cursor: string; more: boolean }
  | { kind: 'unavailable'; detail: string };

/**
 * Batched settlement status (see src/sim/PROTOCOL.md): what a bookmaker with Betfair's listClearedOrders or
 * Pinnacle's bets-by-id list offers. Used only for providers configured with `settlementBatch: true`.
 */
export interface SettlementBatchPort {
  statuses(ticketIds: readonly string[]): Promise<StatusBatchOutcome>;
  /** cursor null: from the start of the account's feed. */
  settledSince(accountId: string, cursor: string | null, limit: number): Promise<SettledPageOutcome>;
}

export interface Provider {
  readonly name: string;
  /** Batched settlement status, when the adapter speaks it (whether the bookmaker does is the config's word). */
  readonly batch?: SettlementBatchPort;
  place(request: PlaceRequest): Promise<PlaceOutcome>;
  lookupByClientRef(clientRef: string): Promise<LookupOutcome>;
  status(ticketId: string): Promise<LookupOutcome>;
  /**
   * The account's standing, asked under the key its placements use: places nothing, so an account's circuit can be
   * probed with it. Optional: without it an account's circuit is only ever closed by an operator.
   */
  accountStatus?(accountId: string): Promise<AccountStatusOutcome>;
  close(): Promise<void>;
}
