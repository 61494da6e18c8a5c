// The pair saga: preflight claim → positive → hedge (bounded retries) → settlement scheduled, step by step.
import { exposureAlertData, exposureRecord, type PlacementExposureReason } from '../domain/exposure.js';
import { hedgeTargetReturnMinor, nextHedgeStakeMinor, pairWorstCaseMinor, repriceLossLimitMinor, type PricedStake } from '../domain/hedge.js';
import { currentHedge, legStatusName, newPlacement, type PairDoc, type PairState, type Placement } from '../domain/pair.js';
import { assertNever } from '../domain/types.js';
import type { BetView } from '../providers/provider.js';
import { keys } from '../store/keys.js';
import type { StreamEntry } from '../store/store.js';
import { resolvePlacement, sendPlacement, type Resolution } from './placement.js';
import { replacePlacement, requestAudit, type Commit, type PairRun } from './run.js';
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
        // Every accepted bet is polled for settlement, an unhedged positive too.
        await run.deps.settlement.ensureScheduled(run.doc);
        await run.releaseAndClose();
        run.deps.crashPoint('settlement_scheduled');
        return state;
      case 'blocked':
      case 'positive_failed':
      case 'positive_in_doubt':
      case 'settled':
        return state;
      default: return assertNever(state, 'pair state');
    }
  }
  throw new Error(`invariant violated: pair ${run.doc.arbId} did not finish in ${stepsMax} steps`);
}

function pairRef(doc: PairDoc): Record<string, unknown> {
  return { arbId: doc.arbId, betPairId: doc.pair.betPairId, whitelabel: doc.pair.whitelabel };
}

async function stepPreflight(run: PairRun): Promise<void> {
  const { deps, doc } = run;
  const nowMs = deps.clock.nowMs();
  const positive = newPlacement(doc.pair, 'positive', 1, doc.pair.positive.stakeMinor, doc.pair.positive.oddsMilli, nowMs);
  // The hedge as the scanner planned it, journaled now so that it can leave the moment the positive is
  // taken exactly as planned (no Redis round trip inside the leg window).
  const plannedHedge = newPlacement(doc.pair, 'hedge', 1, doc.pair.hedge.stakeMinor, doc.pair.hedge.oddsMilli, nowMs, 'planned');
  const passedDoc: PairDoc = { ...doc, state: 'positive_placing', positive, hedges: [plannedHedge], updatedAtMs: nowMs };
  const result = await deps.store.preflight({
    arbId: doc.arbId, token: run.token, rev: run.rev, doc: passedDoc, nowMs,
    cooldownMs: deps.config.cooldownMs, createdAtMs: doc.pair.createdAtMs, arbAgeMsMax: deps.config.arbAgeMsMax,
    rateLimit: deps.config.rateLimit, audit: [requestAudit(passedDoc, positive), requestAudit(passedDoc, plannedHedge)],
  });
  if (result.kind === 'passed') {
    run.noteCooldownClaimed('positive', nowMs);
    run.noteCooldownClaimed('hedge', nowMs);
    run.doc = passedDoc;
    run.rev = result.rev;
    run.freshRef = positive.clientRef;
    deps.crashPoint('positive_intent_journaled');
    return;
  }
  const remainingSeconds = Math.ceil(result.remainingMs / 1000);
  await run.commit({
    doc: { ...doc, state: 'blocked', outcomeReason: result.reason },
    events: [{ type: 'arb_blocked', data: { ...pairRef(doc), reason: result.reason, remainingSeconds, remainingMs: result.remainingMs } }],
  });
}

async function stepPositive(run: PairRun): Promise<void> {
  const positive = run.doc.positive;
  if (!positive) throw new Error('invariant violated: positive_placing without a positive placement');
  // Fresh: this run journaled the positive itself, so nobody can have sent the planned hedge yet.
  const fresh = run.freshRef === positive.clientRef;
  const resolution = await resolvePlacement(run, positive, fresh ? 'fresh' : 'resumed');
  run.freshRef = null;
  return positiveResolved(run, run.doc.positive ?? positive, resolution, fresh);
}

/** `positive` is the journal's latest view of the placement (resends update its send count). */
async function positiveResolved(run: PairRun, positive: Placement, resolution: Resolution, fresh: boolean): Promise<void> {
  switch (resolution.kind) {
    case 'accepted': return positiveAccepted(run, positive, resolution.bet, fresh);
    case 'rejected': return positiveFailed(run, { ...positive, status: 'rejected', reason: resolution.reason }, resolution.reason);
    case 'not_placed': return positiveFailed(run, { ...positive, status: 'not_placed', reason: resolution.detail }, resolution.detail);
    case 'in_doubt': return flagExposure(run, 'positive_in_doubt', { ...run.doc, state: 'positive_in_doubt', positive: { ...positive, status: 'in_doubt', reason: resolution.detail } }, resolution.detail);
    default: return assertNever(resolution, 'resolution');
  }
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

async function positiveAccepted(run: PairRun, positive: Placement, bet: BetView, fresh: boolean): Promise<void> {
  const { deps } = run;
  const { pair } = run.doc;
  const nowMs = deps.clock.nowMs();
  const accepted = acceptedPlacement(positive, bet);
  const target = hedgeTargetReturnMinor(pair.positive, { stakeMinor: bet.stakeMinor, oddsMilli: bet.oddsMilli }, pair.hedge);
  const planned = run.doc.hedges[0];
  // Taken exactly as planned: the planned hedge goes as journaled. Otherwise it was never sent (only an
  // as-planned positive sends it), and the same first reference carries the rebalanced stake.
  const asPlanned = planned?.status === 'planned' && bet.stakeMinor === pair.positive.stakeMinor && bet.oddsMilli === pair.positive.oddsMilli;
  const hedge: Placement = asPlanned && planned
    ? { ...planned, status: 'sending', intentAtMs: nowMs }
    : newPlacement(pair, 'hedge', 1, nextHedgeStakeMinor(target, [], pair.hedge.oddsMilli, deps.config.stakeMinorMax), pair.hedge.oddsMilli, nowMs);
  const doc: PairDoc = { ...run.doc, state: 'hedge_placing', positive: accepted, hedges: [hedge], positiveAcceptedAtMs: nowMs, hedgeTargetReturnMinor: target };
  const commit: Commit = { doc, touch: ['positive'], events: [acceptedEvent(doc, accepted)], audit: [answerAudit(doc, accepted, bet), requestAudit(doc, hedge)] };
  // The fast path needs the hedge account's cooldown still ours (claimed at preflight, not lapsed while
  // the positive was pending or in doubt): otherwise another pair may be betting on that account now.
  if (asPlanned && fresh && run.leaseFresh() && run.cooldownFresh('hedge')) return hedgeAtOnce(run, hedge, commit);
  if (!(await run.commit({ ...commit, cooldownFor: 'hedge' }))) {
    // The positive is taken but its hedge account is another pair's now: say both, and raise the alert.
    return hedgeFailed(run, { ...doc, hedges: [] }, 'hedge account cooldown taken by another pair', commit.events ?? [], [answerAudit(doc, accepted, bet)], ['positive']);
  }
  // A resumed as-planned pair may have sent the hedge before it died: ask the bookmaker first.
  run.freshRef = asPlanned && !fresh ? null : hedge.clientRef;
  deps.crashPoint('positive_journaled');
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
  const resolution = await resolvePlacement(run, hedge, run.freshRef === hedge.clientRef ? 'fresh' : 'resumed');
  run.freshRef = null;
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
  const remaining = nextHedgeStakeMinor(targetOf(doc), acceptedHedges(doc), bet.oddsMilli, run.deps.config.stakeMinorMax);
  const events = [acceptedEvent(doc, accepted)];
  const audit = [answerAudit(doc, accepted, bet)];
  if (remaining === 0) {
    const worstCaseMinor = pairWorstCaseMinor(positive, acceptedHedges(doc));
    await run.commit({
      doc: { ...doc, state: 'hedged', outcomeReason: 'executed' },
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
  const lossLimitMinor = repriceLossLimitMinor(positive.stakeMinor, config.hedgeRepriceLossBpsMax);
  const elapsedMs = deps.clock.nowMs() - (doc.positiveAcceptedAtMs ?? 0);
  let stop: string | null = null;
  if (attempt > config.hedgeAttemptsMax) stop = `hedge attempts (${attempt - 1}) reached hedgeAttemptsMax (${config.hedgeAttemptsMax})`;
  else if (elapsedMs + config.hedgeRetryBackoffMs > config.hedgeDeadlineMs) stop = `hedge deadline: elapsed ${elapsedMs} ms + backoff > hedgeDeadlineMs (${config.hedgeDeadlineMs})`;
  else if (worstCaseMinor < -lossLimitMinor) stop = `re-priced hedge at ${oddsMilli} would lock a loss (${worstCaseMinor}) beyond the limit (-${lossLimitMinor})`;
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

/** Ends the placement with an exposure: record (TTL), durable review entry and alert, in one step. */
async function flagExposure(run: PairRun, reason: PlacementExposureReason, doc: PairDoc, detail: string, events: StreamEntry[] = [], audit: StreamEntry[] = [], touch: LegRole[] = [reason === 'positive_in_doubt' ? 'positive' : 'hedge']): Promise<void> {
  const { deps } = run;
  const nowMs = deps.clock.nowMs();
  const statuses = {
    positive: legStatusName(doc.positive),
    hedge: reason === 'positive_in_doubt' ? 'cancelled' : reason === 'hedge_in_doubt' ? 'in_doubt' : 'failed',
  };
  const record = exposureRecord(doc, reason, statuses, detail, nowMs, { hedged_stake_minor: acceptedHedges(doc).reduce((s, h) => s + h.stakeMinor, 0) });
  const pair = doc.pair;
  const key = keys.exposure(pair.whitelabel, pair.positive.provider, pair.betPairId);
  const alert: StreamEntry = { type: 'exposure_alert', data: exposureAlertData(record, key) };
  await run.commit({
    doc: { ...doc, outcomeReason: reason },
    touch,
    events: [...events, alert],
    audit: [...audit, alert],
    exposure: { key, record, ttlMs: deps.config.exposureTtlMs, reviewKeyByPair: keys.reviewByPair(pair.whitelabel, pair.positive.provider, pair.betPairId) },
  });
  // An exposure is money at risk: say it loudly in the logs too, not only in Redis.
  deps.log.error({ exposure: record, exposureKey: key }, `EXPOSURE ALERT ${reason}: pair ${doc.arbId} needs manual review`);
}
