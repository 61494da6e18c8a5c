// Resolves one placement to a definite answer: send, then look up by client reference when in doubt.
import type { Placement } from '../domain/pair.js';
import type { BetView, PlaceOutcome, Provider } from '../providers/provider.js';
import type { PairRun } from './run.js';

export type Resolution =
  | { kind: 'accepted'; bet: BetView }
  | { kind: 'rejected'; reason: string; currentOddsMilli?: number }
  /** The bookmaker says it never took the bet, and the same-reference sends are used up. */
  | { kind: 'not_placed'; detail: string }
  /** Still unknown at the deadline: stop and flag for review. */
  | { kind: 'in_doubt'; detail: string };

type Pending = PlaceOutcome | { kind: 'resumed' };

const pollRoundsMax = 100_000;

function fromBet(bet: BetView): PlaceOutcome {
  switch (bet.status) {
    case 'pending': return { kind: 'pending', bet };
    case 'rejected': return { kind: 'rejected', reason: bet.reason ?? 'rejected', bet };
    // A settled bet was accepted first.
    default: return { kind: 'accepted', bet };
  }
}

/**
 * Drives a placement whose intent is journaled until it is accepted, rejected, definitely not placed, or
 * still in doubt at the deadline. `fresh`: this run journaled the intent and has not sent it yet;
 * `resumed`: the bookmaker is asked by client reference before anything is sent; a promise: the request
 * is already on its way (the hedge sent as soon as the positive was taken).
 */
export async function resolvePlacement(run: PairRun, placement: Placement, start: 'fresh' | 'resumed' | Promise<PlaceOutcome>): Promise<Resolution> {
  const { deps } = run;
  const provider = run.provider(placement.provider);
  const deadlineMs = Math.max(placement.intentAtMs, run.startedAtMs) + deps.config.inDoubtDeadlineMs;
  let outcome: Pending = start === 'fresh' ? await sendPlacement(run, placement) : start === 'resumed' ? { kind: 'resumed' } : await start;
  let current = placement;
  for (let round = 0; round < pollRoundsMax; round++) {
    switch (outcome.kind) {
      case 'accepted': return { kind: 'accepted', bet: outcome.bet };
      case 'rejected': return { kind: 'rejected', reason: outcome.reason, ...(outcome.currentOddsMilli ? { currentOddsMilli: outcome.currentOddsMilli } : {}) };
      case 'pending': {
        if (deps.clock.nowMs() > deadlineMs) return { kind: 'in_doubt', detail: `still pending at the deadline (ticket ${outcome.bet.ticketId})` };
        await deps.sleep(deps.config.inDoubtPollMs);
        const status = await provider.status(outcome.bet.ticketId);
        await run.auditCall('bookmaker_status', placement, { ticketId: outcome.bet.ticketId }, status);
        if (status.kind === 'found') outcome = fromBet(status.bet);
        break;
      }
      case 'in_doubt':
      case 'resumed': {
        const next = await lookUp(run, provider, current, deadlineMs, outcome.kind === 'in_doubt' ? outcome.detail : 'resumed');
        if ('resolution' in next) return next.resolution;
        outcome = next.outcome;
        current = next.placement;
        break;
      }
    }
  }
  throw new Error(`invariant violated: placement ${placement.clientRef} not resolved after ${pollRoundsMax} rounds`);
}

/** One lookup by client reference: found → its state; never received → resend with the same reference. */
async function lookUp(run: PairRun, provider: Provider, placement: Placement, deadlineMs: number, why: string): Promise<{ outcome: Pending; placement: Placement } | { resolution: Resolution }> {
  const { deps } = run;
  const found = await provider.lookupByClientRef(placement.clientRef);
  await run.auditCall('bookmaker_lookup', placement, { clientRef: placement.clientRef, why }, found);
  if (found.kind === 'found') return { outcome: fromBet(found.bet), placement };
  if (found.kind === 'not_found') {
    if (placement.sendCount >= deps.config.placementSendsMax) {
      return { resolution: { kind: 'not_placed', detail: `${why}; never received after ${placement.sendCount} send(s)` } };
    }
    const journaled = await run.journalResend(placement);
    if (!journaled) return { resolution: { kind: 'not_placed', detail: 'account cooldown taken by another pair' } };
    return { outcome: await sendPlacement(run, journaled), placement: journaled };
  }
  if (deps.clock.nowMs() > deadlineMs) {
    return { resolution: { kind: 'in_doubt', detail: `${why}; bookmaker could not tell by the deadline (${found.detail})` } };
  }
  await deps.sleep(deps.config.inDoubtPollMs);
  return { outcome: { kind: 'in_doubt', detail: why }, placement };
}

/** Sends a journaled placement; never without a lease known to be ours. */
export async function sendPlacement(run: PairRun, placement: Placement): Promise<PlaceOutcome> {
  await run.ensureLease();
  const provider = run.provider(placement.provider);
  const { pair } = run.doc;
  const leg = placement.role === 'positive' ? pair.positive : pair.hedge;
  run.deps.probe?.requestSent(run.doc.arbId, placement.role);
  const outcome = await provider.place({
    clientRef: placement.clientRef,
    accountId: leg.accountId,
    eventId: leg.eventId,
    market: leg.market,
    selection: leg.selection,
    oddsMilli: placement.oddsMilli,
    stakeMinor: placement.stakeMinor,
    currency: pair.currency,
  });
  run.deps.probe?.answerParsed(run.doc.arbId, placement.role);
  run.deps.crashPoint(placement.role === 'positive' ? 'positive_answered' : 'hedge_answered');
  if (outcome.kind !== 'accepted' && outcome.kind !== 'rejected') {
    // Answers that end a placement are journaled with the next transition; the others are audited now.
    await run.auditCall('bookmaker_answer', placement, { clientRef: placement.clientRef }, outcome);
  }
  return outcome;
}
