// Hedge sizing: the stake of the next hedge bet given the accepted positive and hedges already accepted.
import { payoutMinor, type PricedStake } from './money.js';
import type { Minor, OddsMilli } from './types.js';

export type { PricedStake };

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
 * The return (stake × odds) the hedge must bring: the scanner's planned hedge return, scaled by the share
 * of the positive's planned return the bookmaker actually took (a smaller stake, other odds). When the
 * positive is taken as planned this is exactly the scanner's hedge. Rounded half up: either way the error
 * is under one minor unit, and the stake search below rounds again on purpose.
 */
export function hedgeTargetReturnMinor(plannedPositive: PricedStake, acceptedPositive: PricedStake, plannedHedge: PricedStake): Minor {
  const plannedHedgeReturn = BigInt(payoutMinor(plannedHedge.stakeMinor, plannedHedge.oddsMilli));
  const plannedPositiveReturn = BigInt(payoutMinor(plannedPositive.stakeMinor, plannedPositive.oddsMilli));
  const acceptedPositiveReturn = BigInt(payoutMinor(acceptedPositive.stakeMinor, acceptedPositive.oddsMilli));
  if (plannedPositiveReturn === 0n) return 0;
  const scaled = (2n * plannedHedgeReturn * acceptedPositiveReturn + plannedPositiveReturn) / (2n * plannedPositiveReturn);
  return Number(scaled);
}

/**
 * Stake of the next hedge bet at `oddsMilli` whose return brings the hedge bets already accepted closest
 * to `targetReturnMinor`; 0 when the target is covered. The integers around the real-valued solution
 * (target − covered) × 1000 / odds are compared with the exact (floored) payout; a tie goes to the smaller
 * stake (less money out).
 */
export function nextHedgeStakeMinor(targetReturnMinor: Minor, accepted: readonly PricedStake[], oddsMilli: OddsMilli, stakeMinorMax: Minor): Minor {
  const covered = accepted.reduce((sum, h) => sum + payoutMinor(h.stakeMinor, h.oddsMilli), 0);
  const missing = targetReturnMinor - covered;
  if (missing <= 0) return 0;
  const exact = Math.floor((missing * 1000) / oddsMilli); // floor here only picks where to start looking
  let best = 0;
  let bestGap = missing;
  for (let candidate = Math.max(0, exact - 1); candidate <= exact + 2; candidate++) {
    const stake = Math.min(candidate, stakeMinorMax);
    const gap = Math.abs(missing - payoutMinor(stake, oddsMilli));
    if (gap < bestGap || (gap === bestGap && stake < best)) {
      best = stake;
      bestGap = gap;
    }
  }
  return best;
}

/** The loss a re-priced hedge may lock in: floor(stake × bps / 10000), rounded so the limit is never exceeded. */
export function repriceLossLimitMinor(positiveStakeMinor: Minor, lossBpsMax: number): Minor {
  return Math.floor((positiveStakeMinor * lossBpsMax) / 10_000);
}

/** What the hedge-stop rule looks at before another hedge attempt. */
export interface HedgeAttemptPlan {
  /** 1-based number of the attempt about to be made. */
  attempt: number;
  hedgeAttemptsMax: number;
  /** Time since the positive was accepted. */
  elapsedMs: number;
  hedgeRetryBackoffMs: number;
  hedgeDeadlineMs: number;
  /** The pair's worst case if this attempt is taken in full. */
  worstCaseMinor: Minor;
  /** The loss a re-priced hedge may lock in (repriceLossLimitMinor). */
  lossLimitMinor: Minor;
  oddsMilli: OddsMilli;
}

/**
 * The hedge-stop rule: why no further hedge attempt may be made (attempts, deadline, loss limit), or null
 * when one may. Each reason shows the value beside its limit.
 */
export function hedgeStopReason(plan: HedgeAttemptPlan): string | null {
  if (plan.attempt > plan.hedgeAttemptsMax) return `hedge attempts (${plan.attempt - 1}) reached hedgeAttemptsMax (${plan.hedgeAttemptsMax})`;
  if (plan.elapsedMs + plan.hedgeRetryBackoffMs > plan.hedgeDeadlineMs) {
    return `hedge deadline: elapsed ${plan.elapsedMs} ms + backoff ${plan.hedgeRetryBackoffMs} ms > hedgeDeadlineMs (${plan.hedgeDeadlineMs})`;
  }
  if (plan.worstCaseMinor < -plan.lossLimitMinor) {
    return `re-priced hedge at ${plan.oddsMilli} would lock a loss (${plan.worstCaseMinor}) beyond the limit (-${plan.lossLimitMinor})`;
  }
  return null;
}
