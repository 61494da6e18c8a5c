// Core value types of a bet pair: integer money (minor units), integer odds (thousandths), statuses.

/** Decimal odds × 1000, an integer > 1000 (2.050 → 2050). */
export type OddsMilli = number;
/** Money in the currency's minor unit (cents), an integer. */
export type Minor = number;

export type LegRole = 'positive' | 'hedge';

/** Status of a bet as a bookmaker reports it. */
export type BetStatus = 'pending' | 'accepted' | 'rejected' | 'won' | 'lost' | 'void' | 'half_won' | 'half_lost';
export type FinalBetStatus = 'won' | 'lost' | 'void' | 'half_won' | 'half_lost';
export const finalBetStatuses: readonly FinalBetStatus[] = ['won', 'lost', 'void', 'half_won', 'half_lost'];

export function isFinalBetStatus(status: string): status is FinalBetStatus {
  return (finalBetStatuses as readonly string[]).includes(status);
}

/** One leg of a validated bet pair; provider and whitelabel already defaulted from the pair. */
export interface LegInput {
  betId: string;
  accountId: string;
  provider: string;
  whitelabel: string;
  eventId: string;
  market: string;
  selection: string;
  oddsMilli: OddsMilli;
  stakeMinor: Minor;
}

/** A validated bet pair (an arb). */
export interface BetPair {
  arbId: string;
  betPairId: string;
  whitelabel: string;
  provider: string;
  currency: string;
  /** Unix ms when the scanner found the arb; null when the job did not say. */
  createdAtMs: number | null;
  /** Unix ms when the job was enqueued (BullMQ's timestamp); the arb's age runs from the earlier of the two. */
  enqueuedAtMs?: number;
  /** Unix ms when the event is expected to end (the scanner's optional `expectedEndAt`): settlement polls from then. */
  expectedEndAtMs?: number;
  positive: LegInput;
  hedge: LegInput;
}

export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}

/** A broken invariant is a bug: crash loudly. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`invariant violated: ${message}`);
}
