// Settlement: what a settled bet returns, the pair's realised P&L, and the reconciliation verdict.
import { payoutMinor, type PricedStake } from './money.js';
import { assertNever, invariant, type FinalBetStatus, type Minor, type OddsMilli } from './types.js';

/** How a leg's settlement polling ended: a final status, or the poll budget ran out. */
export type SettlementOutcome = FinalBetStatus | 'timeout';

/** The outcome every arb is placed for; stored beside the actual one in the exposure record. */
export const expectedOutcome = 'arb_profit';

export type ExposureReason =
  | 'settlement_timeout'
  | 'positive_void_hedge_active'
  | 'hedge_void_positive_active'
  | `partial_settlement_${FinalBetStatus}_${FinalBetStatus}`
  | 'both_lost_unexpected'
  | 'both_won_unexpected';

/** "{positive}_{hedge}", e.g. "won_lost", "void_timeout". */
export type ActualOutcome = `${SettlementOutcome}_${SettlementOutcome}`;

export type Reconciliation =
  | { exposure: false; actualOutcome: ActualOutcome }
  | { exposure: true; reason: ExposureReason; actualOutcome: ActualOutcome };

/**
 * Money a settled bet gives back, stake included. Roundings, each against us on purpose:
 * - won: floor(stake × odds / 1000) (see payoutMinor).
 * - half_won: half = floor(stake / 2) is paid at odds, the other stake − half is refunded. With an
 *   odd stake the extra unit is refunded rather than paid at odds (> 1), the lower of the two.
 * - half_lost: half the stake is lost, floor(stake / 2) is refunded; the odd unit counts as lost.
 * - void: the stake back; lost: nothing.
 */
export function legReturnMinor(stakeMinor: Minor, oddsMilli: OddsMilli, status: FinalBetStatus): Minor {
  invariant(Number.isSafeInteger(stakeMinor) && stakeMinor >= 0, `stakeMinor (${stakeMinor}) is an integer >= 0`);
  const halfMinor = Math.floor(stakeMinor / 2); // floor: see the rounding notes above
  switch (status) {
    case 'won':
      return payoutMinor(stakeMinor, oddsMilli);
    case 'lost':
      return 0;
    case 'void':
      return stakeMinor;
    case 'half_won':
      return payoutMinor(halfMinor, oddsMilli) + (stakeMinor - halfMinor);
    case 'half_lost':
      return halfMinor;
    default:
      return assertNever(status, 'final bet status');
  }
}

/** Profit (positive) or loss (negative) of one settled bet: its return minus its stake. */
export function legPnlMinor(stakeMinor: Minor, oddsMilli: OddsMilli, status: FinalBetStatus): Minor {
  return legReturnMinor(stakeMinor, oddsMilli, status) - stakeMinor;
}

export interface SettledBet extends PricedStake {
  status: FinalBetStatus;
}

/**
 * Realised P&L of a pair: the sum over every settled bet of both legs (a leg may have been placed
 * as several bets, e.g. a partial acceptance plus a top-up). Summed in BigInt, checked on the way out.
 */
export function pairPnlMinor(bets: readonly SettledBet[]): Minor {
  let totalMinor = 0n;
  for (const bet of bets) totalMinor += BigInt(legPnlMinor(bet.stakeMinor, bet.oddsMilli, bet.status));
  const result = Number(totalMinor);
  invariant(Number.isSafeInteger(result), `pair P&L (${totalMinor}) is a safe integer`);
  return result;
}

function isHalf(status: FinalBetStatus): boolean {
  return status === 'half_won' || status === 'half_lost';
}

/**
 * Classifies a pair once both legs have finished polling. The rules and their order are the audited
 * seed's: a timeout first (we cannot know the result), then the void rules, then any half result,
 * then both lost / both won. Both void, or one won and one lost, is the expected, unexposed end.
 */
export function reconcile(input: { positiveStatus: SettlementOutcome; hedgeStatus: SettlementOutcome }): Reconciliation {
  const { positiveStatus: p, hedgeStatus: h } = input;
  const actualOutcome: ActualOutcome = `${p}_${h}`;
  const exposed = (reason: ExposureReason): Reconciliation => ({ exposure: true, reason, actualOutcome });
  if (p === 'timeout' || h === 'timeout') return exposed('settlement_timeout');
  if (p === 'void' && h === 'void') return { exposure: false, actualOutcome };
  if (p === 'void') return exposed('positive_void_hedge_active');
  if (h === 'void') return exposed('hedge_void_positive_active');
  if (isHalf(p) || isHalf(h)) return exposed(`partial_settlement_${p}_${h}`);
  if (p === 'lost' && h === 'lost') return exposed('both_lost_unexpected');
  if (p === 'won' && h === 'won') return exposed('both_won_unexpected');
  return { exposure: false, actualOutcome };
}
