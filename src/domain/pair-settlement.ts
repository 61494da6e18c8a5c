// Settlement of a placed pair: which bets to poll, and the settled pair (classification, P&L, exposure) once they are final.
import type { PairDoc, PairState, Placement } from './pair.js';
import { pairPnlMinor, reconcile, type SettledBet, type SettlementOutcome } from './settlement.js';
import type { FinalBetStatus, LegRole, Minor } from './types.js';
import { invariant } from './types.js';

export interface BetToPoll {
  arbId: string;
  role: LegRole;
  clientRef: string;
  provider: string;
  ticketId: string;
  /** The bookmaker account the bet is on: a batch-capable bookmaker is polled per account. */
  accountId?: string;
  /** When the bet's event is expected to end, when the scanner said (the adaptive schedule polls from then). */
  expectedEndAtMs?: number;
}

export interface PairSettlement {
  /** Final status of every polled bet by client reference (`timeout` when polling gave up). */
  results: Record<string, SettlementOutcome>;
  /** `in_doubt`: the positive was never known accepted (a positive_in_doubt pair), so it is not polled. */
  positiveStatus: SettlementOutcome | 'none' | 'in_doubt';
  hedgeStatus: SettlementOutcome | 'failed' | 'in_doubt';
  /** Realised P&L over every bet of both legs; null when a result is unknown (a timeout, a positive in doubt). */
  pnlMinor: Minor | null;
  exposureReason: string | null;
  actualOutcome: string;
  settledAtMs: number;
  /** How the placement ended (the pair's state before it was settled): decides the classification rules. */
  placement?: PairState;
  /** 1 for the first reconciliation, 2 and up after a bet was re-settled. */
  reconciliation?: number;
}

/** The results a reconciliation was computed from, in one canonical string (reconcile.lua computes the same). */
export function resultsDigest(results: Readonly<Record<string, string>>): string {
  return Object.entries(results).map(([clientRef, status]) => `${clientRef}=${status}`).sort().join(',');
}

/** How the pair's placement ended; a settled pair remembers it (older journals: from the outcome reason). */
export function placementStateOf(doc: PairDoc): PairState {
  if (doc.state !== 'settled') return doc.state;
  return doc.settlement?.placement ?? (doc.outcomeReason === 'executed' ? 'hedged' : 'hedge_failed');
}

function accepted(placements: readonly (Placement | null)[]): Placement[] {
  return placements.filter((p): p is Placement => p !== null && p.status === 'accepted' && p.ticketId !== undefined);
}

/** Every accepted bet of the pair: the positive and each accepted hedge bet (an unhedged positive too). */
export function betsToPoll(doc: PairDoc): BetToPoll[] {
  return accepted([doc.positive, ...doc.hedges]).map((p) => ({
    arbId: doc.arbId,
    role: p.role,
    clientRef: p.clientRef,
    provider: p.provider,
    ticketId: p.ticketId as string,
    accountId: p.accountId,
    ...(doc.pair.expectedEndAtMs === undefined ? {} : { expectedEndAtMs: doc.pair.expectedEndAtMs }),
  }));
}

function settledBets(bets: readonly Placement[], results: Record<string, SettlementOutcome>): SettledBet[] | null {
  const out: SettledBet[] = [];
  for (const bet of bets) {
    const status = results[bet.clientRef];
    if (status === undefined || status === 'timeout') return null;
    out.push({ stakeMinor: bet.acceptedStakeMinor ?? 0, oddsMilli: bet.acceptedOddsMilli ?? bet.oddsMilli, status: status as FinalBetStatus });
  }
  return out;
}

/**
 * Classifies a pair whose polled bets are all final. A hedged pair is reconciled by the seed's rules;
 * a pair that already carries a placement exposure (hedge failed / in doubt) keeps that reason, and
 * settlement only adds the positive's real outcome and the P&L to its review record. A settled pair is
 * classified again (a bet was re-settled) by the rules of its placement, as the next reconciliation.
 */
export function settlePair(doc: PairDoc, results: Record<string, SettlementOutcome>, nowMs: number): PairSettlement {
  const placement = placementStateOf(doc);
  const reconciliation = doc.state === 'settled' ? (doc.settlement?.reconciliation ?? 1) + 1 : 1;
  return { ...classify({ ...doc, state: placement }, results, nowMs), placement, reconciliation };
}

function classify(doc: PairDoc, results: Record<string, SettlementOutcome>, nowMs: number): PairSettlement {
  const bets = accepted([doc.positive, ...doc.hedges]);
  for (const bet of bets) invariant(results[bet.clientRef] !== undefined, `result of ${bet.clientRef} before settling ${doc.arbId}`);
  const positiveStatus = doc.positive && results[doc.positive.clientRef] !== undefined ? results[doc.positive.clientRef] as SettlementOutcome : 'none';
  const settled = settledBets(bets, results);
  const pnlMinor = settled === null ? null : pairPnlMinor(settled);
  const firstHedge = bets.find((b) => b.role === 'hedge');
  if (doc.state === 'hedged') {
    invariant(firstHedge !== undefined && positiveStatus !== 'none', `hedged pair ${doc.arbId} has both bets`);
    const hedgeStatus = results[firstHedge.clientRef] as SettlementOutcome;
    const verdict = reconcile({ positiveStatus, hedgeStatus });
    return {
      results, positiveStatus, hedgeStatus, pnlMinor,
      exposureReason: verdict.exposure ? verdict.reason : null,
      actualOutcome: verdict.actualOutcome,
      settledAtMs: nowMs,
    };
  }
  if (doc.state === 'positive_in_doubt') {
    // The positive may be live but was never learned: the P&L of the hedge alone is not the pair's.
    const hedgeStatus = firstHedge ? results[firstHedge.clientRef] as SettlementOutcome : 'failed';
    return {
      results, positiveStatus: 'in_doubt', hedgeStatus, pnlMinor: null,
      exposureReason: doc.outcomeReason ?? 'positive_in_doubt',
      actualOutcome: `in_doubt_${hedgeStatus}`,
      settledAtMs: nowMs,
    };
  }
  const hedgeStatus = doc.state === 'hedge_in_doubt' ? 'in_doubt' : 'failed';
  return {
    results, positiveStatus, hedgeStatus, pnlMinor,
    exposureReason: doc.outcomeReason ?? 'hedge_failed_positive_active',
    actualOutcome: `${positiveStatus}_${hedgeStatus}`,
    settledAtMs: nowMs,
  };
}
