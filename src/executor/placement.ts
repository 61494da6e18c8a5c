// Resolves one placement to a definite answer: send, then look up by client reference when in doubt.
import type { Placement } from '../domain/pair.js';
import type { BetView, PlaceOutcome, Provider } from '../providers/provider.js';
import type { BlockReason } from '../store/store.js';
import type { PairRun } from './run.js';

export type Resolution =
  | { kind: 'accepted'; bet: BetView }
  | { kind: 'rejected'; reason: string; currentOddsMilli?: number }
  /** Certainly not placed: refused before it left, or a trusted `not_found` with no send left (or allowed). */
  | { kind: 'not_placed'; detail: string }
  /** A resend refused by a guard (kill switch, stale, a circuit) after a trusted `not_found`: nothing is live. */
  | { kind: 'blocked'; reason: BlockReason; circuit?: string }
  /** Still unknown at the deadline: stop and flag for review. */
  | { kind: 'in_doubt'; detail: string };

/** `fresh`: journaled by this run, not sent yet; `resumed`: maybe sent by a previous holder; a promise: on its way. */
export type ResolveStart = 'fresh' | 'resumed' | Promise<PlaceOutcome>;

export interface ResolveOptions {
  /** false: find out only, never send (a planned hedge that a resumed pair may or may not have sent). */
  resend: boolean;
}

type Pending = PlaceOutcome | { kind: 'resumed' };

const pollRoundsMax = 100_000;
/** Claims of one send's account in a row that may each go stale before the request leaves (a slow Redis). */
const claimsPerSendMax = 3;

function fromBet(bet: BetView): PlaceOutcome {
  switch (bet.status) {
    case 'pending': return { kind: 'pending', bet };
    case 'rejected': return { kind: 'rejected', reason: bet.reason ?? 'rejected', bet };
    // A settled bet was accepted first.
    default: return { kind: 'accepted', bet };
  }
}

interface Resolving {
  run: PairRun;
  provider: Provider;
  placement: Placement;
  deadlineMonoMs: number;
  resumed: boolean;
  options: ResolveOptions;
}

/**
 * Drives a placement whose intent is journaled until it is accepted, rejected, certainly not placed, or
 * still in doubt at the deadline. A `not_found` is trusted only lateCommitGraceMs after the last send whose
 * answer was lost (a bookmaker may commit a queued request late); until then the bookmaker is asked again.
 */
export async function resolvePlacement(run: PairRun, placement: Placement, start: ResolveStart, options: ResolveOptions = { resend: true }): Promise<Resolution> {
  const { deps } = run;
  const r: Resolving = {
    run, placement, options, resumed: start === 'resumed',
    provider: run.provider(placement.provider),
    deadlineMonoMs: deps.clock.monoMs() + deps.config.inDoubtDeadlineMs,
  };
  let outcome: Pending = start === 'fresh' ? await sendPlacement(run, placement) : start === 'resumed' ? { kind: 'resumed' } : await start;
  for (let round = 0; round < pollRoundsMax; round++) {
    switch (outcome.kind) {
      case 'accepted': return { kind: 'accepted', bet: outcome.bet };
      case 'rejected': return { kind: 'rejected', reason: outcome.reason, ...(outcome.currentOddsMilli ? { currentOddsMilli: outcome.currentOddsMilli } : {}) };
      case 'not_sent': return { kind: 'not_placed', detail: `not sent: ${outcome.detail}` };
      case 'pending': {
        if (deps.clock.monoMs() > r.deadlineMonoMs) return { kind: 'in_doubt', detail: `still pending at the deadline (ticket ${outcome.bet.ticketId})` };
        // The bookmaker may take it at any moment: the account stays held until a cooldown past the next status answer.
        await run.holdAccount(placement.role, 'pending');
        await deps.sleep(deps.config.inDoubtPollMs);
        const status = await r.provider.status(outcome.bet.ticketId);
        await run.auditCall('bookmaker_status', placement, { ticketId: outcome.bet.ticketId }, status);
        if (status.kind === 'found') outcome = fromBet(status.bet);
        break;
      }
      case 'in_doubt':
      case 'resumed': {
        // Test defect no_lookup_before_resend: a lost answer is re-sent at once, blind, within the send budget.
        if (outcome.kind === 'in_doubt' && deps.defects?.has('no_lookup_before_resend') && r.placement.sendCount < deps.config.placementSendsMax) {
          const journaled = await run.journalResend(r.placement);
          if (journaled.kind === 'ok') {
            r.placement = journaled.placement;
            outcome = await sendPlacement(run, journaled.placement);
            break;
          }
        }
        const next = await lookUp(r, outcome.kind === 'in_doubt' ? outcome.detail : 'resumed');
        if ('resolution' in next) return next.resolution;
        outcome = next.outcome;
        break;
      }
    }
  }
  throw new Error(`invariant violated: placement ${placement.clientRef} not resolved after ${pollRoundsMax} rounds`);
}

/** One lookup by client reference: found → its state; a trusted never-received → resend with the same reference. */
async function lookUp(r: Resolving, why: string): Promise<{ outcome: Pending } | { resolution: Resolution }> {
  const { run } = r;
  const { deps } = run;
  const found = await r.provider.lookupByClientRef(r.placement.clientRef);
  await run.auditCall('bookmaker_lookup', r.placement, { clientRef: r.placement.clientRef, why }, found);
  if (found.kind === 'found') return { outcome: fromBet(found.bet) };
  const trusted = found.kind === 'not_found' && deps.clock.monoMs() >= run.notFoundTrustedFromMonoMs(r.placement, r.resumed);
  if (trusted) return resendOrStop(r, why);
  if (deps.clock.monoMs() > r.deadlineMonoMs) {
    const unknown = found.kind === 'not_found' ? `not_found within lateCommitGraceMs (${deps.config.lateCommitGraceMs}) of a lost answer` : found.detail;
    return { resolution: { kind: 'in_doubt', detail: `${why}; bookmaker could not tell by the deadline (${unknown})` } };
  }
  // An untrusted not_found is asked again only once it can be trusted (fewer calls to a bookmaker that may rate-limit).
  const untilTrustedMs = found.kind === 'not_found' ? run.notFoundTrustedFromMonoMs(r.placement, r.resumed) - deps.clock.monoMs() : 0;
  await deps.sleep(Math.max(deps.config.inDoubtPollMs, Math.min(untilTrustedMs, r.deadlineMonoMs - deps.clock.monoMs() + 1)));
  return { outcome: { kind: 'in_doubt', detail: why } };
}

/** The bookmaker certainly never took this reference: send it again if sends and guards allow. */
async function resendOrStop(r: Resolving, why: string): Promise<{ outcome: Pending } | { resolution: Resolution }> {
  const { run, placement } = r;
  if (!r.options.resend) return { resolution: { kind: 'not_placed', detail: `${why}; never received` } };
  if (placement.sendCount >= run.deps.config.placementSendsMax) {
    return { resolution: { kind: 'not_placed', detail: `${why}; never received after ${placement.sendCount} send(s)` } };
  }
  const journaled = await run.journalResend(placement);
  if (journaled.kind === 'cooldown_conflict') return { resolution: { kind: 'not_placed', detail: 'account cooldown taken by another pair' } };
  if (journaled.kind === 'blocked') return { resolution: { kind: 'blocked', reason: journaled.reason, ...(journaled.circuit ? { circuit: journaled.circuit } : {}) } };
  r.placement = journaled.placement;
  r.resumed = false;
  return { outcome: await sendPlacement(run, journaled.placement) };
}

/** Sends a journaled placement; never without a lease known to be ours. */
export async function sendPlacement(run: PairRun, placement: Placement): Promise<PlaceOutcome> {
  for (let round = 0; ; round++) {
    await run.ensureLease();
    // A send delayed past its account claim's lead (a slow lease renewal, a paused Redis, a frozen process) claims
    // the account again first: the claim must cover this request until a cooldown after it could be taken (a late
    // commit of a lost answer included, even if this worker dies meanwhile), and another pair may have bet on the
    // account since. Refused, or never fresh in time → certainly not sent.
    for (let claims = 0; !run.cooldownFresh(placement.role); claims++) {
      if (claims === claimsPerSendMax) return { kind: 'not_sent', detail: `account claim went stale ${claims} times before the request left` };
      if (!(await run.reclaimCooldown(placement.role))) return { kind: 'not_sent', detail: 'account cooldown taken by another pair before the request left' };
    }
    if (run.deps.config.journalReplicasMin === 0) break;
    // The intent (and any claim just made) on journalReplicasMin replicas before the request leaves; the wait
    // may outlast the lease's or the claim's freshness, which are then checked again.
    await run.ensureJournalReplicated(placement);
    if (run.leaseFresh() && run.cooldownFresh(placement.role)) break;
    if (round === claimsPerSendMax) return { kind: 'not_sent', detail: `lease or account claim went stale ${round + 1} times while the replicas acknowledged the journal` };
  }
  const provider = run.provider(placement.provider);
  const { pair } = run.doc;
  const leg = placement.role === 'positive' ? pair.positive : pair.hedge;
  run.sentRefs.add(placement.clientRef);
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
  run.deps.metrics?.placementAnswered(placement.provider, placement.role, outcome.kind);
  if (outcome.kind === 'in_doubt') run.noteUncertainSend(placement.clientRef);
  run.deps.crashPoint(placement.role === 'positive' ? 'positive_answered' : 'hedge_answered');
  if (outcome.kind !== 'accepted' && outcome.kind !== 'rejected') {
    // Answers that end a placement are journaled with the next transition; the others are audited now.
    await run.auditCall('bookmaker_answer', placement, { clientRef: placement.clientRef }, outcome);
  }
  return outcome;
}
