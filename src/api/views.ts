// The API's JSON views of a pair's journal: plain fields, integer money and odds, times in unix ms.
import { currentHedge, type PairDoc, type Placement } from '../domain/pair.js';
import type { LegInput } from '../domain/types.js';

export interface LegView {
  provider: string;
  accountId: string;
  selection: string;
  status: string;
  clientRef: string | null;
  ticketId: string | null;
  stakeMinor: number;
  oddsMilli: number;
  acceptedStakeMinor: number | null;
  acceptedOddsMilli: number | null;
}

function legView(leg: LegInput, placement: Placement | null | undefined): LegView {
  return {
    provider: leg.provider,
    accountId: leg.accountId,
    selection: leg.selection,
    status: placement?.status ?? 'none',
    clientRef: placement?.clientRef ?? null,
    ticketId: placement?.ticketId ?? null,
    stakeMinor: placement?.stakeMinor ?? leg.stakeMinor,
    oddsMilli: placement?.oddsMilli ?? leg.oddsMilli,
    acceptedStakeMinor: placement?.acceptedStakeMinor ?? null,
    acceptedOddsMilli: placement?.acceptedOddsMilli ?? null,
  };
}

export function pairSummary(doc: PairDoc, state: string, rev: number) {
  const { pair } = doc;
  return {
    arbId: doc.arbId,
    betPairId: pair.betPairId,
    whitelabel: pair.whitelabel,
    currency: pair.currency,
    state,
    rev,
    eventId: pair.positive.eventId,
    market: pair.positive.market,
    journaledAtMs: doc.createdAtMs,
    updatedAtMs: doc.updatedAtMs,
    createdAtMs: pair.createdAtMs,
    positive: legView(pair.positive, doc.positive),
    hedge: legView(pair.hedge, currentHedge(doc)),
    hedgeAttempts: doc.hedges.length,
    legWindowMs: doc.hedgedAtMs !== undefined && doc.positiveAcceptedAtMs !== undefined ? Math.max(0, doc.hedgedAtMs - doc.positiveAcceptedAtMs) : null,
    outcomeReason: doc.outcomeReason ?? null,
    settlement: doc.settlement
      ? { pnlMinor: doc.settlement.pnlMinor, exposureReason: doc.settlement.exposureReason, actualOutcome: doc.settlement.actualOutcome, settledAtMs: doc.settlement.settledAtMs }
      : null,
  };
}

/** States after which nothing more is written for a pair except a review's resolution (kept in the review list). */
const quietStates = new Set(['blocked', 'positive_failed', 'settled']);
/** Worker clocks and Redis time may differ by this much; the audit window is widened by it on both sides. */
export const AUDIT_SKEW_MS = 60_000;

/** The span of the audit stream (stream ids are Redis ms) in which a pair's entries lie. */
export function auditWindow(doc: PairDoc, state: string): { fromMs: number; toMs: number | null } {
  const fromMs = Math.max(0, doc.createdAtMs - AUDIT_SKEW_MS);
  return { fromMs, toMs: quietStates.has(state) ? doc.updatedAtMs + AUDIT_SKEW_MS : null };
}
