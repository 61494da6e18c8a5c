// The pair saga: preflight claim → positive → hedge (bounded retries) → settlement scheduled, step by step.
import { parseCircuitScope } from '../domain/circuit.js';
import { exposureAlertData, exposureRecord, type PlacementExposureReason } from '../domain/exposure.js';
import { hedgeStopReason, hedgeTargetReturnMinor, nextHedgeStakeMinor, pairWorstCaseMinor, repriceLossLimitMinor, type PricedStake } from '../domain/hedge.js';
import { currentHedge, legStatusName, newPlacement, type PairDoc, type PairState, type Placement } from '../domain/pair.js';
import { assertNever, isFinalBetStatus } from '../domain/types.js';
import { logExposureAlerts } from '../infra/log.js';
import type { BetView } from '../providers/provider.js';
import { keys } from '../store/keys.js';
import type { BlockReason, PreflightPlan, StreamEntry } from '../store/store.js';
import { resolvePlacement, sendPlacement, type Resolution } from './placement.js';
import { ageBaseMs, legHoldMs, needsSettlement, replacePlacement, requestAudit, type Commit, type ExecutorDeps, type PairRun } from './run.js';
import type { LegRole } from '../domain/types.js';

const stepsMax = 1_000;

/** Runs the saga from wherever the journal stands until the placement is done; returns the final state. */
export async function runSaga(run: PairRun): Promise<PairState> {
  for (let step = 0; step < stepsMax; step++) {
    const state = run.doc.state;
    switch (state) {
      case 'received': await stepPreflight(run); break;
      case 'positive_placing': await stepPositive(run); break;
      case 'hedge_placing': await stepHedge(run); break;
      case 'hedged':
      case 'hedge_failed':
      case 'hedge_in_doubt':
      case 'positive_in_doubt':
        // Every accepted bet is polled for settlement: an unhedged positive, a live hedge of an in-doubt positive.
        if (!needsSettlement(run.doc)) {
          await run.closeDone();
          return state;
        }
        await run.deps.settlement.ensureScheduled(run.doc);
        run.deps.crashPoint('settlement_scheduled_open');
        await run.releaseAndClose();
        run.deps.crashPoint('settlement_scheduled');
        return state;
      case 'blocked':
      case 'positive_failed':
      case 'settled':
        await run.closeDone();
        return state;
      default: return assertNever(state, 'pair state');
    }
  }
  throw new Error(`invariant violated: pair ${run.doc.arbId} did not finish in ${stepsMax} steps`);
}

/** An `arb_blocked` refused by a circuit names it: its scope, the provider, and the account for an account's circuit. */
function circuitNamed(circuit: string | undefined): Record<string, unknown> {
  if (circuit === undefined) return {};
  const parsed = parseCircuitScope(circuit);
  if (!parsed.ok) return { circuit };
  return { circuit, provider: parsed.scope.provider, ...(parsed.scope.kind === 'account' ? { accountId: parsed.scope.accountId } : {}) };
}

function pairRef(doc: PairDoc): Record<string, unknown> {
  return { arbId: doc.arbId, betPairId: doc.pair.betPairId, whitelabel: doc.pair.whitelabel };
}

/**
 * The preflight of a pair whose journal is `doc` (state received): the positive's intent and the hedge as the
 * scanner planned it, journaled together when every guard passes, so that the hedge can leave the moment the
 * positive is taken exactly as planned (no Redis round trip inside the leg window).
 */
export function preflightPlan(deps: ExecutorDeps, doc: PairDoc): PreflightPlan {
  const nowMs = deps.clock.nowMs();
  const positive = newPlacement(doc.pair, 'positive', 1, doc.pair.positive.stakeMinor, doc.pair.positive.oddsMilli, nowMs);
  const plannedHedge = newPlacement(doc.pair, 'hedge', 1, doc.pair.hedge.stakeMinor, doc.pair.hedge.oddsMilli, nowMs, 'planned');
  const passedDoc: PairDoc = { ...doc, state: 'positive_placing', positive, hedges: [plannedHedge], updatedAtMs: nowMs };
  return {
    doc: passedDoc, nowMs,
    cooldownHoldMs: { positive: legHoldMs(deps, doc, 'positive', 'claim'), hedge: legHoldMs(deps, doc, 'hedge', 'claim') },
    ageBaseMs: ageBaseMs(doc), arbAgeMsMax: deps.config.arbAgeMsMax,
    createdAtMs: doc.pair.createdAtMs, createdAtSkewMsMax: deps.config.createdAtSkewMsMax,
    rateLimit: deps.config.rateLimit, audit: [requestAudit(passedDoc, positive), requestAudit(passedDoc, plannedHedge)],
  };
}

/**
 * The preflight passed (in the claim's step or its own), its claims made at `sentMonoMs`: the run carries the
 * journaled intent, and the positive may leave without a lookup.
 */
export function preflightPassed(run: PairRun, plan: PreflightPlan, rev: number, sentMonoMs: number): void {
  run.noteCooldownClaimed('positive', sentMonoMs);
  run.noteCooldownClaimed('hedge', sentMonoMs);
  run.doc = plan.doc;
  run.rev = rev;
  const positive = plan.doc.positive;
  if (!positive) throw new Error('invariant violated: a preflight plan without a positive placement');
  run.freshRef = positive.clientRef;
}

/** A guard refused the pair at preflight: journaled as blocked with its reason (the lease goes with it). */
export async function preflightBlocked(run: PairRun, reason: BlockReason, remainingMs: number, circuit?: string): Promise<void> {
  const { doc } = run;
  const remainingSeconds = Math.ceil(remainingMs / 1000);
  await run.commit({
    doc: { ...doc, state: 'blocked', outcomeReason: reason },
    events: [{ type: 'arb_blocked', data: { ...pairRef(doc), reason, remainingSeconds, remainingMs, ...circuitNamed(circuit) } }],
  });
}

async function stepPreflight(run: PairRun): Promise<void> {
  const { deps, doc } = run;
  const sentMonoMs = deps.clock.monoMs();
  const plan = preflightPlan(deps, doc);
  const result = await deps.store.preflight({ ...plan, arbId: doc.arbId, token: run.token, rev: run.rev });
  if (result.kind === 'blocked') return preflightBlocked(run, result.reason, result.remainingMs, result.circuit);
  preflightPassed(run, plan, result.rev, sentMonoMs);
  deps.crashPoint('positive_intent_journaled');
}

async function stepPositive(run: PairRun): Promise<void> {
  const positive = run.doc.positive;
  if (!positive) throw new Error('invariant violated: positive_placing without a positive placement');
  // Fresh: this run journaled the positive itself, so nobody can have sent the planned hedge yet.
  const fresh = run.freshRef === positive.clientRef;
  run.freshRef = null;
  // Test defect hedge_before_acceptance: the planned hedge leaves beside the positive, before any answer.
  const early = run.doc.hedges[0];
  if (fresh && early && run.deps.defects?.has('hedge_before_acceptance')) void sendPlacement(run, early).catch(() => undefined);
  if (fresh) return positiveResolved(run, run.doc.positive ?? positive, await resolvePlacement(run, positive, 'fresh'), null, true);
  // Resumed: what the previous holder sent may still be live (a pending positive whose holds stopped when that
  // worker died, a planned hedge): both accounts are held again before the lookups that find out.
  await run.holdAccount('positive', 'resumed');
  await run.holdAccount('hedge', 'resumed');
  // The planned hedge is possibly sent (it leaves before the positive's acceptance is journaled).
  // Find it first; if it exists, the positive was taken and must not be sent again.
  const planned = run.doc.hedges[0];
  const hedge = planned?.status === 'planned' ? await probePlannedHedge(run, planned) : null;
  const resolution = await resolvePlacement(run, positive, 'resumed', { resend: hedge === null });
  return positiveResolved(run, run.doc.positive ?? positive, resolution, hedge, false);
}

/** What a lookup found of a planned hedge a previous holder may have sent; null when it was certainly never sent. */
async function probePlannedHedge(run: PairRun, planned: Placement): Promise<PossiblySent | null> {
  const resolution = await resolvePlacement(run, planned, 'resumed', { resend: false });
  if (resolution.kind === 'not_placed') return null;
  if (resolution.kind === 'blocked') throw new Error('invariant violated: a lookup-only resolution cannot be blocked');
  return { placement: { ...planned, status: 'sending' }, resolution };
}

/** A planned hedge found sent (accepted, rejected, or unknown) by a resumed pair. */
interface PossiblySent {
  placement: Placement;
  resolution: Exclude<Resolution, { kind: 'not_placed' | 'blocked' }>;
}

/** The journal's record of a possibly-sent hedge, as far as its lookups got. */
function possiblySentPlacement(found: PossiblySent): Placement {
  const { placement, resolution } = found;
  switch (resolution.kind) {
    case 'accepted': return acceptedPlacement(placement, resolution.bet);
    case 'rejected': return { ...placement, status: 'rejected', reason: resolution.reason };
    case 'in_doubt': return { ...placement, status: 'in_doubt', reason: `possibly sent: ${resolution.detail}` };
    default: return assertNever(resolution, 'possibly-sent resolution');
  }
}

/** `positive` is the journal's latest view of the placement (resends update its send count). */
async function positiveResolved(run: PairRun, positive: Placement, resolution: Resolution, hedge: PossiblySent | null, fresh: boolean): Promise<void> {
  if (resolution.kind === 'accepted') return positiveAccepted(run, positive, resolution.bet, hedge, fresh);
  if (hedge !== null) {
    // A hedge is (or may be) out while the positive cannot be confirmed: review, naming both.
    const detail = resolution.kind === 'in_doubt' ? resolution.detail : `positive ${resolution.kind} but its planned hedge was sent`;
    const doc: PairDoc = { ...run.doc, state: 'positive_in_doubt', positive: { ...positive, status: 'in_doubt', reason: detail }, hedges: [possiblySentPlacement(hedge)] };
    return flagExposure(run, 'positive_in_doubt', doc, detail, [], [], ['positive', 'hedge']);
  }
  switch (resolution.kind) {
    case 'rejected': return positiveFailed(run, { ...positive, status: 'rejected', reason: resolution.reason }, resolution.reason);
    case 'not_placed': return positiveFailed(run, { ...positive, status: 'not_placed', reason: resolution.detail }, resolution.detail);
    case 'blocked': return positiveBlocked(run, positive, resolution.reason, resolution.circuit);
    case 'in_doubt': return flagExposure(run, 'positive_in_doubt', { ...run.doc, state: 'positive_in_doubt', positive: { ...positive, status: 'in_doubt', reason: resolution.detail }, hedges: cancelledPlanned(run.doc) }, resolution.detail);
    default: return assertNever(resolution, 'resolution');
  }
}

/** The planned hedge of a pair whose positive was never confirmed taken: certainly never sent. */
function cancelledPlanned(doc: PairDoc): Placement[] {
  return doc.hedges.map((h) => (h.status === 'planned' ? { ...h, status: 'not_placed', reason: 'never sent: the positive was not taken' } : h));
}

/** A positive resend refused by the kill switch or staleness: nothing is live (its not_found was trusted). */
async function positiveBlocked(run: PairRun, positive: Placement, reason: string, circuit: string | undefined): Promise<void> {
  const doc: PairDoc = { ...run.doc, state: 'blocked', positive: { ...positive, status: 'not_placed', reason: `resend blocked: ${reason}` }, hedges: cancelledPlanned(run.doc), outcomeReason: reason };
  await run.commit({
    doc,
    events: [{ type: 'arb_blocked', data: { ...pairRef(doc), reason, resumed: true, remainingSeconds: 0, remainingMs: 0, ...circuitNamed(circuit) } }],
  });
}

function acceptedPlacement(placement: Placement, bet: BetView): Placement {
  return { ...placement, status: 'accepted', ticketId: bet.ticketId, acceptedStakeMinor: bet.stakeMinor, acceptedOddsMilli: bet.oddsMilli };
}

function acceptedEvent(doc: PairDoc, placement: Placement): StreamEntry {
  return {
    type: 'bet_accepted',
    data: { ...pairRef(doc), role: placement.role, attempt: placement.attempt, clientRef: placement.clientRef, ticketId: placement.ticketId, stakeMinor: placement.acceptedStakeMinor, oddsMilli: placement.acceptedOddsMilli },
  };
}

function answerAudit(doc: PairDoc, placement: Placement, answer: unknown): StreamEntry {
  return { type: 'bookmaker_answer', data: { arbId: doc.arbId, role: placement.role, attempt: placement.attempt, provider: placement.provider, clientRef: placement.clientRef, answer } };
}

async function positiveAccepted(run: PairRun, positive: Placement, bet: BetView, hedge: PossiblySent | null, fresh: boolean): Promise<void> {
  if (isFinalBetStatus(bet.status)) return positiveAlreadySettled(run, positive, bet, hedge);
  const { deps } = run;
  const { pair } = run.doc;
  const nowMs = deps.clock.nowMs();
  const accepted = acceptedPlacement(positive, bet);
  const target = hedgeTargetReturnMinor(pair.positive, { stakeMinor: bet.stakeMinor, oddsMilli: bet.oddsMilli }, pair.hedge);
  // A resumed pair does not know when the bookmaker took the positive, only that it was after its intent:
  // the hedge deadline runs from there, so a pair resumed late cannot hedge past it without an alert.
  const sentHere = run.sentRefs.has(positive.clientRef);
  const acceptedAtMs = sentHere ? nowMs : Math.min(nowMs, positive.intentAtMs);
  const base = { ...run.doc, state: 'hedge_placing' as const, positive: accepted, positiveAcceptedAtMs: acceptedAtMs, hedgeTargetReturnMinor: target };
  const answered = { events: [acceptedEvent(base, accepted)], audit: [answerAudit(base, accepted, bet)] };
  if (hedge !== null) {
    // A resumed pair found its planned hedge sent: journal what the bookmaker holds. No cooldown claim is
    // needed to record a bet that already exists; only a further send needs one.
    const doc: PairDoc = { ...base, hedges: [hedge.placement] };
    await run.commit({ doc, touch: ['positive', 'hedge'], ...answered });
    return hedgeResolved(run, hedge.placement, hedge.resolution);
  }
  const planned = run.doc.hedges[0];
  // Taken exactly as planned: the planned hedge goes as journaled. Otherwise it was never sent (only an
  // as-planned positive sends it), and the same first reference carries the rebalanced stake.
  const asPlanned = planned?.status === 'planned' && bet.stakeMinor === pair.positive.stakeMinor && bet.oddsMilli === pair.positive.oddsMilli;
  const next: Placement = asPlanned && planned
    ? { ...planned, status: 'sending', intentAtMs: nowMs }
    : newPlacement(pair, 'hedge', 1, nextHedgeStakeMinor(target, [], pair.hedge.oddsMilli, deps.config.stakeMinorMax), pair.hedge.oddsMilli, nowMs);
  const doc: PairDoc = { ...base, hedges: [next] };
  const commit: Commit = { doc, touch: ['positive'], events: answered.events, audit: [...answered.audit, requestAudit(doc, next)] };
  // The fast path needs the hedge account's cooldown still ours (claimed at preflight, not lapsed while
  // the positive was pending or in doubt): otherwise another pair may be betting on that account now.
  if (asPlanned && fresh && run.leaseFresh() && run.cooldownFresh('hedge')) return hedgeAtOnce(run, next, commit);
  if (!(await run.commit({ ...commit, cooldownFor: 'hedge' }))) {
    // The positive is taken but its hedge account is another pair's now, and the hedge was never sent
    // (a resumed pair's lookup proved it): say both, and raise the alert.
    const never: Placement = { ...next, status: 'not_placed', reason: 'never sent: hedge account cooldown taken by another pair' };
    return hedgeFailed(run, { ...doc, hedges: [never] }, 'hedge account cooldown taken by another pair', answered.events, answered.audit, ['positive']);
  }
  if (sentHere) run.positiveAcceptedMonoMs = deps.clock.monoMs();
  // A resumed pair asks the bookmaker first, even though its lookup just found the planned hedge unsent.
  run.freshRef = fresh ? next.clientRef : null;
  deps.crashPoint('positive_journaled');
}

/**
 * A positive found already settled before its hedge left (a void, or a result, seen by a lookup): never
 * hedge blind. A void with nothing else live ends the pair (no money at risk); any other result, or a hedge
 * already out, is an exposure for review. Settlement polls whatever is live.
 */
async function positiveAlreadySettled(run: PairRun, positive: Placement, bet: BetView, hedge: PossiblySent | null): Promise<void> {
  const accepted = acceptedPlacement(positive, bet);
  const detail = `positive already ${bet.status} at the bookmaker before its hedge was placed`;
  const answered = { events: [acceptedEvent(run.doc, accepted)], audit: [answerAudit(run.doc, accepted, bet)] };
  if (hedge === null && bet.status === 'void') {
    const doc: PairDoc = { ...run.doc, state: 'positive_failed', positive: accepted, hedges: cancelledPlanned(run.doc), outcomeReason: 'positive_void' };
    await run.commit({
      doc,
      touch: ['positive'],
      events: [...answered.events, { type: 'arb_failed', data: { ...pairRef(doc), reason: 'positive_void', positiveBetStatus: 'void', hedgeBetStatus: 'cancelled', error: detail } }],
      audit: answered.audit,
    });
    return;
  }
  const hedges = hedge === null ? cancelledPlanned(run.doc) : [possiblySentPlacement(hedge)];
  const doc: PairDoc = { ...run.doc, state: 'hedge_failed', positive: accepted, hedges, positiveAcceptedAtMs: run.deps.clock.nowMs() };
  return flagExposure(run, 'positive_settled_before_hedge', doc, detail, answered.events, answered.audit, ['positive']);
}

/**
 * The leg-risk fast path: the hedge request leaves as soon as the positive's acceptance is parsed, while
 * the acceptance is journaled alongside. The hedge's intent was journaled at preflight; a worker that
 * dies here is resumed by lookups by client reference, never by a blind resend.
 */
async function hedgeAtOnce(run: PairRun, hedge: Placement, commit: Commit): Promise<void> {
  const sending = sendPlacement(run, hedge);
  try {
    // The hedge is out: journal it even if the account's cooldown was taken meanwhile (it cannot be unsent).
    if (!(await run.commit({ ...commit, cooldownFor: 'hedge' }))) await run.commit(commit);
    run.positiveAcceptedMonoMs = run.deps.clock.monoMs();
  } catch (error) {
    await sending.catch(() => undefined);
    throw error;
  }
  run.deps.crashPoint('positive_journaled');
  const resolution = await resolvePlacement(run, hedge, sending);
  return hedgeResolved(run, currentHedge(run.doc) ?? hedge, resolution);
}

async function positiveFailed(run: PairRun, positive: Placement, error: string): Promise<void> {
  const doc: PairDoc = { ...run.doc, state: 'positive_failed', positive, outcomeReason: 'positive_bet_rejected' };
  const positiveBetStatus = legStatusName(positive);
  await run.commit({
    doc,
    touch: ['positive'],
    events: [
      { type: 'bet_failed', data: { ...pairRef(doc), role: 'positive', attempt: positive.attempt, clientRef: positive.clientRef, status: positiveBetStatus, error } },
      { type: 'arb_failed', data: { ...pairRef(doc), reason: 'positive_bet_rejected', positiveBetStatus, hedgeBetStatus: 'cancelled', error } },
    ],
    audit: [answerAudit(doc, positive, { status: positiveBetStatus, error })],
  });
}

async function stepHedge(run: PairRun): Promise<void> {
  const hedge = currentHedge(run.doc);
  if (!hedge || !run.doc.positive) throw new Error('invariant violated: hedge_placing without placements');
  const fresh = run.freshRef === hedge.clientRef;
  run.freshRef = null;
  // A resumed hedge may still be live (pending, committed late): its account is held again before the lookups.
  if (!fresh) await run.holdAccount('hedge', 'resumed');
  // A resumed hedge past its deadline is looked up, never sent again: not found → the stop rule alerts.
  const inTime = run.hedgeElapsedMs() <= run.deps.config.hedgeDeadlineMs;
  const resolution = await resolvePlacement(run, hedge, fresh ? 'fresh' : 'resumed', { resend: fresh || inTime });
  return hedgeResolved(run, currentHedge(run.doc) ?? hedge, resolution);
}

async function hedgeResolved(run: PairRun, hedge: Placement, resolution: Resolution): Promise<void> {
  switch (resolution.kind) {
    case 'accepted': return hedgeAccepted(run, hedge, resolution.bet);
    case 'rejected':
    case 'not_placed': return hedgeNotTaken(run, hedge, resolution);
    case 'in_doubt': {
      const doc = replacePlacement(run.doc, { ...hedge, status: 'in_doubt', reason: resolution.detail });
      return flagExposure(run, 'hedge_in_doubt', { ...doc, state: 'hedge_in_doubt' }, resolution.detail);
    }
    case 'blocked': throw new Error(`invariant violated: hedge ${hedge.clientRef} blocked by ${resolution.reason}; only a positive resend is guarded`);
    default: return assertNever(resolution, 'resolution');
  }
}

function acceptedHedges(doc: PairDoc): PricedStake[] {
  return doc.hedges
    .filter((h) => h.status === 'accepted')
    .map((h) => ({ stakeMinor: h.acceptedStakeMinor ?? 0, oddsMilli: h.acceptedOddsMilli ?? h.oddsMilli }));
}

function targetOf(doc: PairDoc): number {
  if (doc.hedgeTargetReturnMinor === undefined) throw new Error(`invariant violated: ${doc.arbId} hedging without a target return`);
  return doc.hedgeTargetReturnMinor;
}

function positivePriced(doc: PairDoc): PricedStake {
  const p = doc.positive;
  if (!p || p.status !== 'accepted') throw new Error('invariant violated: hedging without an accepted positive');
  return { stakeMinor: p.acceptedStakeMinor ?? 0, oddsMilli: p.acceptedOddsMilli ?? p.oddsMilli };
}

async function hedgeAccepted(run: PairRun, hedge: Placement, bet: BetView): Promise<void> {
  const accepted = acceptedPlacement(hedge, bet);
  const doc = replacePlacement(run.doc, accepted);
  const positive = positivePriced(doc);
  // A hedge taken as requested ends the leg: what its return misses of the target is the rounding of its stake
  // to whole minor units (or of the scanner's planned stake), not a partial acceptance; another bet of a few
  // minor units would be a second bet on a leg already placed (chaos invariant 1).
  const takenInFull = bet.stakeMinor >= hedge.stakeMinor;
  const remaining = takenInFull ? 0 : nextHedgeStakeMinor(targetOf(doc), acceptedHedges(doc), bet.oddsMilli, run.deps.config.stakeMinorMax);
  const events = [acceptedEvent(doc, accepted)];
  const audit = [answerAudit(doc, accepted, bet)];
  if (remaining === 0) {
    const worstCaseMinor = pairWorstCaseMinor(positive, acceptedHedges(doc));
    await run.commit({
      doc: { ...doc, state: 'hedged', outcomeReason: 'executed', hedgedAtMs: run.deps.clock.nowMs() },
      touch: ['hedge'],
      events: [...events, { type: 'arb_executed', data: { ...pairRef(doc), positiveTicket: doc.positive?.ticketId, hedgeTickets: doc.hedges.filter((h) => h.status === 'accepted').map((h) => h.ticketId), worstCaseMinor } }],
      audit,
    });
    run.deps.crashPoint('hedge_journaled');
    return;
  }
  // Partly taken: the rest of the hedge is another attempt, at the same odds, if the limits allow.
  await nextHedgeAttempt(run, doc, bet.oddsMilli, `partial: ${bet.stakeMinor} of ${hedge.stakeMinor} taken`, events, audit);
}

async function hedgeNotTaken(run: PairRun, hedge: Placement, resolution: Extract<Resolution, { kind: 'rejected' | 'not_placed' }>): Promise<void> {
  const reason = resolution.kind === 'rejected' ? resolution.reason : resolution.detail;
  const failed: Placement = { ...hedge, status: resolution.kind === 'rejected' ? 'rejected' : 'not_placed', reason };
  const doc = replacePlacement(run.doc, failed);
  const events: StreamEntry[] = [{ type: 'bet_failed', data: { ...pairRef(doc), role: 'hedge', attempt: hedge.attempt, clientRef: hedge.clientRef, status: legStatusName(failed), error: reason } }];
  const audit = [answerAudit(doc, failed, { status: failed.status, reason })];
  const movedOdds = resolution.kind === 'rejected' ? resolution.currentOddsMilli : undefined;
  await nextHedgeAttempt(run, doc, movedOdds ?? hedge.oddsMilli, reason, events, audit);
}

/** Another hedge attempt within attempts, deadline and the re-pricing loss limit; otherwise an exposure. */
async function nextHedgeAttempt(run: PairRun, doc: PairDoc, oddsMilli: number, why: string, events: StreamEntry[], audit: StreamEntry[]): Promise<void> {
  const { deps } = run;
  const { config } = deps;
  const attempt = doc.hedges.length + 1;
  const positive = positivePriced(doc);
  const stakeMinor = nextHedgeStakeMinor(targetOf(doc), acceptedHedges(doc), oddsMilli, config.stakeMinorMax);
  const worstCaseMinor = pairWorstCaseMinor(positive, [...acceptedHedges(doc), { stakeMinor, oddsMilli }]);
  const stop = hedgeStopReason({
    attempt, hedgeAttemptsMax: config.hedgeAttemptsMax,
    elapsedMs: run.hedgeElapsedMs(), hedgeRetryBackoffMs: config.hedgeRetryBackoffMs, hedgeDeadlineMs: config.hedgeDeadlineMs,
    worstCaseMinor, lossLimitMinor: repriceLossLimitMinor(positive.stakeMinor, config.hedgeRepriceLossBpsMax), oddsMilli,
  });
  if (stop !== null) {
    return hedgeFailed(run, doc, `${why}; ${stop}`, events, audit);
  }
  // Journal the failed attempt's outcome first, so a crash during the pause loses nothing.
  await run.commit({ doc, events, audit, touch: ['hedge'] });
  await deps.sleep(config.hedgeRetryBackoffMs);
  const hedge = newPlacement(doc.pair, 'hedge', attempt, stakeMinor, oddsMilli, deps.clock.nowMs());
  const next: PairDoc = { ...run.doc, hedges: [...run.doc.hedges, hedge] };
  const ok = await run.commit({
    doc: next,
    cooldownFor: 'hedge',
    events: [{ type: 'hedge_retry', data: { ...pairRef(next), attempt, clientRef: hedge.clientRef, stakeMinor, oddsMilli, worstCaseMinor, why } }],
    audit: [requestAudit(next, hedge)],
  });
  if (!ok) return hedgeFailed(run, run.doc, `${why}; hedge account cooldown taken by another pair`);
  run.freshRef = hedge.clientRef;
}

async function hedgeFailed(run: PairRun, doc: PairDoc, detail: string, events: StreamEntry[] = [], audit: StreamEntry[] = [], touch: LegRole[] = ['hedge']): Promise<void> {
  return flagExposure(run, 'hedge_failed_positive_active', { ...doc, state: 'hedge_failed' }, detail, events, audit, touch);
}

/**
 * The hedge leg's status in an exposure record: what the bookmaker may hold, never "cancelled" while a hedge
 * may be live (accepted, or possibly sent and not found out).
 */
function hedgeStatusName(reason: PlacementExposureReason, doc: PairDoc): string {
  if (doc.hedges.some((h) => h.status === 'accepted')) return reason === 'hedge_in_doubt' ? 'in_doubt' : 'accepted';
  if (doc.hedges.some((h) => h.status === 'in_doubt' || h.status === 'sending' || h.status === 'pending' || h.status === 'planned')) return 'in_doubt';
  if (reason === 'positive_in_doubt' || reason === 'positive_settled_before_hedge') return 'cancelled';
  return 'failed';
}

/** Ends the placement with an exposure: record (TTL), durable review entry and alert, in one step. */
async function flagExposure(run: PairRun, reason: PlacementExposureReason, doc: PairDoc, detail: string, events: StreamEntry[] = [], audit: StreamEntry[] = [], touch: LegRole[] = [reason === 'positive_in_doubt' ? 'positive' : 'hedge']): Promise<void> {
  const { deps } = run;
  const nowMs = deps.clock.nowMs();
  const statuses = { positive: legStatusName(doc.positive), hedge: hedgeStatusName(reason, doc) };
  const record = exposureRecord(doc, reason, statuses, detail, nowMs, {
    hedged_stake_minor: acceptedHedges(doc).reduce((s, h) => s + h.stakeMinor, 0),
    // Every hedge reference with what the journal knows of it: a possibly-sent one is named, never dropped.
    hedges: doc.hedges.map((h) => ({ client_ref: h.clientRef, status: h.status, ticket: h.ticketId ?? null, stake_minor: h.acceptedStakeMinor ?? h.stakeMinor, odds_milli: h.acceptedOddsMilli ?? h.oddsMilli })),
  });
  const pair = doc.pair;
  const key = keys.exposure(pair.whitelabel, pair.positive.provider, pair.betPairId);
  const alert: StreamEntry = { type: 'exposure_alert', data: exposureAlertData(record, key) };
  await run.commit({
    doc: { ...doc, outcomeReason: reason },
    touch,
    events: [...events, alert],
    audit: [...audit, alert],
    exposure: { key, record, ttlMs: deps.config.exposureTtlMs, reviewId: doc.arbId, reviewSetKey: keys.reviewByPair(pair.whitelabel, pair.positive.provider, pair.betPairId) },
  });
  // An exposure is money at risk: say it loudly in the logs too, not only in Redis (once per alert).
  logExposureAlerts(deps.log, [alert]);
}
