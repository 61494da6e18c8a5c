// Hedge sizing: the stake of the next hedge bet given the accepted positive and hedges already accepted.
import { payoutMinor } from './money.js';
import type { Minor, OddsMilli } from './types.js';

export interface PricedStake {
  stakeMinor: Minor;
  oddsMilli: OddsMilli;
}

/** P&L of the pair when the positive wins (every hedge bet lost). */
export function pnlIfPositiveWinsMinor(positive: PricedStake, hedges: readonly PricedStake[]): Minor {
  const hedgeStake = hedges.reduce((sum, h) => sum + h.stakeMinor, 0);
  return payoutMinor(positive.stakeMinor, positive.oddsMilli) - positive.stakeMinor - hedgeStake;
}

/** P&L of the pair when the hedge wins (the positive lost). */
export function pnlIfHedgeWinsMinor(positive: PricedStake, hedges: readonly PricedStake[]): Minor {
  const hedgeNet = hedges.reduce((sum, h) => sum + payoutMinor(h.stakeMinor, h.oddsMilli) - h.stakeMinor, 0);
  return hedgeNet - positive.stakeMinor;
}

export function pairWorstCaseMinor(positive: PricedStake, hedges: readonly PricedStake[]): Minor {
  return Math.min(pnlIfPositiveWinsMinor(positive, hedges), pnlIfHedgeWinsMinor(positive, hedges));
}

/**
 * Stake of the next hedge bet at `oddsMilli` that best equalises the two outcomes, given the hedge bets
 * already accepted. 0 means the position is already covered. The real-valued solution
 * x = (payout(positive) − Σ payout(hedges)) × 1000 / odds is evaluated at the integers around it with the
 * exact integer P&L; the best worst case wins and a tie goes to the smaller stake (less money out).
 */
export function nextHedgeStakeMinor(positive: PricedStake, accepted: readonly PricedStake[], oddsMilli: OddsMilli, stakeMinorMax: Minor): Minor {
  const covered = accepted.reduce((sum, h) => sum + payoutMinor(h.stakeMinor, h.oddsMilli), 0);
  const missing = payoutMinor(positive.stakeMinor, positive.oddsMilli) - covered;
  if (missing <= 0) return 0;
  const exact = Math.floor((missing * 1000) / oddsMilli); // floor here only picks where to start looking
  let best = 0;
  let bestWorst = pairWorstCaseMinor(positive, accepted);
  for (let candidate = Math.max(0, exact - 1); candidate <= exact + 2; candidate++) {
    const stake = Math.min(candidate, stakeMinorMax);
    const worst = pairWorstCaseMinor(positive, [...accepted, { stakeMinor: stake, oddsMilli }]);
    if (worst > bestWorst || (worst === bestWorst && stake < best)) {
      best = stake;
      bestWorst = worst;
    }
  }
  return best;
}

/** The loss a re-priced hedge may lock in: floor(stake × bps / 10000), rounded so the limit is never exceeded. */
export function repriceLossLimitMinor(positiveStakeMinor: Minor, lossBpsMax: number): Minor {
  return Math.floor((positiveStakeMinor * lossBpsMax) / 10_000);
}
