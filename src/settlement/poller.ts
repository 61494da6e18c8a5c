// Settlement polling: each run of a bet's job asks the bookmaker once, then reschedules itself or records the
// result; a re-check job asks once more after the pair was reconciled, and a changed result re-reconciles it.
import { DelayedError, type Job } from 'bullmq';
import { exposureAlertData, exposureRecord, type ExposureRecord } from '../domain/exposure.js';
import type { PairDoc } from '../domain/pair.js';
import { resultsDigest, settlePair, type PairSettlement } from '../domain/pair-settlement.js';
import {
  appendedResolution, reviewDecision, reviewStateOf, updatedOpenRecord,
  type Classification, type ReviewUpdate,
} from '../domain/review.js';
import type { SettlementOutcome } from '../domain/settlement.js';
import { isFinalBetStatus } from '../domain/types.js';
import type { ExecutorDeps } from '../executor/run.js';
import { logExposureAlerts } from '../infra/log.js';
import { keys } from '../store/keys.js';
import type { ReviewEntries, ReviewWrite, StreamEntry } from '../store/store.js';
import { recheckJobName, type PollJobData } from './scheduler.js';

export interface SettlementProbe {
  /** A poll started this long after it was due. */
  pollStarted(latenessMs: number): void;
}

const reconcileAttemptsMax = 10;

export type PollResult =
  | { outcome: 'final'; status: SettlementOutcome; reconciled: boolean }
  | { outcome: 'rechecked'; status: SettlementOutcome | 'unknown'; changed: boolean; reconciled: boolean };

export async function processPoll(deps: ExecutorDeps, job: Job<PollJobData>, token: string | undefined, probe?: SettlementProbe): Promise<PollResult> {
  const { config, store } = deps;
  const data = job.data;
  const recheck = job.name === recheckJobName;
  probe?.pollStarted(deps.clock.nowMs() - data.dueAtMs);
  const provider = deps.providers.get(data.provider);
  const answer = provider ? await provider.status(data.ticketId) : { kind: 'unavailable' as const, detail: `no provider ${data.provider}` };
  await store.audit([{ type: 'bookmaker_status', data: { arbId: data.arbId, role: data.role, clientRef: data.clientRef, ticketId: data.ticketId, poll: data.poll, ...(recheck ? { recheck: true } : {}), answer } }]);
  const found: SettlementOutcome | null = answer.kind === 'found' && isFinalBetStatus(answer.bet.status) ? answer.bet.status : null;
  if (found === null && data.poll < config.settlementPollCountMax) {
    // Not final (or no answer) yet: the same job waits in Redis (no timer in this process) and runs again.
    // BullMQ's delayed set is scored in the host's real time (as the scheduler's first poll is): a stepped
    // worker clock must not shrink or stretch the poll interval.
    const dueAtMs = Date.now() + config.settlementPollIntervalMs;
    await job.updateData({ ...data, poll: data.poll + 1, dueAtMs });
    if (!token) throw new Error('invariant violated: a settlement poll without a job token');
    await job.moveToDelayed(dueAtMs, token);
    throw new DelayedError();
  }
  if (recheck) return recheckResult(deps, data, found);
  const status = found ?? 'timeout';
  const reconciled = await recordFinalResult(deps, data, status, { polls: data.poll });
  return { outcome: 'final', status, reconciled };
}

/** The bet a final result is recorded for: which pair, which bet, and how many bets the pair polls. */
export interface FinalBet {
  arbId: string;
  role: string;
  clientRef: string;
  ticketId: string;
  betsPolled: number;
}

/**
 * Records a bet's final result (or `timeout`) once, with its `bet_settled` event, and reconciles the pair when it
 * was the last one; true when this call reconciled it. Safe to repeat: a recorded result stands.
 */
export async function recordFinalResult(deps: ExecutorDeps, bet: FinalBet, status: SettlementOutcome, extra: Record<string, unknown>): Promise<boolean> {
  const event = { arbId: bet.arbId, role: bet.role, clientRef: bet.clientRef, ticketId: bet.ticketId, status, ...extra };
  const complete = await deps.store.recordBetResult(bet.arbId, bet.clientRef, status, bet.betsPolled, event, deps.config.pairRecordTtlMs);
  return complete ? reconcilePair(deps, bet.arbId) : false;
}

/** A re-check's answer: a result other than the recorded one replaces it and the pair is reconciled again. */
async function recheckResult(deps: ExecutorDeps, data: PollJobData, found: SettlementOutcome | null): Promise<PollResult> {
  const recorded = (await deps.store.settlementResults(data.arbId))[data.clientRef];
  if (found === null || recorded === undefined || found === recorded) {
    if (found === null) deps.log.warn({ arbId: data.arbId, clientRef: data.clientRef, polls: data.poll }, 're-check found no final result; the recorded one stands');
    return { outcome: 'rechecked', status: found ?? 'unknown', changed: false, reconciled: false };
  }
  const event = { arbId: data.arbId, role: data.role, clientRef: data.clientRef, ticketId: data.ticketId, from: recorded, status: found };
  const changed = await deps.store.resettleBet(data.arbId, data.clientRef, recorded, found, event);
  if (changed) deps.log.warn(event, `bet re-settled ${recorded} → ${found}: pair ${data.arbId} reconciled again`);
  // Reconcile even when another check recorded it first: the call is idempotent (the results' digest).
  const reconciled = await reconcilePair(deps, data.arbId);
  return { outcome: 'rechecked', status: found, changed, reconciled };
}

/**
 * Reconciles a pair from the results recorded now: the first time once its bets are all final, again when
 * a result changed since (a re-settled bet). Exactly once per set of results however many calls race here:
 * a pair settled from the same results (their digest) is left alone.
 */
export async function reconcilePair(deps: ExecutorDeps, arbId: string): Promise<boolean> {
  for (let attempt = 1; attempt <= reconcileAttemptsMax; attempt++) {
    const loaded = await deps.store.loadPair(arbId);
    if (!loaded) throw new Error(`invariant violated: settling ${arbId} without a journal`);
    const results = (await deps.store.settlementResults(arbId)) as Record<string, SettlementOutcome>;
    const { doc } = loaded;
    if (doc.state === 'settled' && resultsDigest(doc.settlement?.results ?? {}) === resultsDigest(results)) return false;
    const first = doc.state !== 'settled';
    // Re-checks are scheduled before the first reconciliation is written: none is lost to a crash between.
    if (first) await deps.settlement.scheduleRechecks(doc);
    const settlement = settlePair(doc, results, deps.clock.nowMs());
    const seen = await deps.store.reviewEntries(arbId);
    const write = settledWrite(deps, doc, settlement, seen);
    const outcome = await deps.store.reconcile({ arbId, rev: loaded.rev, from: doc.state, ...write });
    if (outcome === 'settled') {
      deps.metrics?.eventsWritten(write.events, 'settlement');
      logExposureAlerts(deps.log, write.events);
      return true;
    }
  }
  throw new Error(`reconciliation of ${arbId} kept racing ${reconcileAttemptsMax} times`);
}

function settledWrite(deps: ExecutorDeps, doc: PairDoc, settlement: PairSettlement, seen: ReviewEntries): { doc: PairDoc; events: StreamEntry[]; review: ReviewWrite | null } {
  const nowMs = deps.clock.nowMs();
  const first = doc.state !== 'settled';
  const settledDoc: PairDoc = { ...doc, state: 'settled', settlement, updatedAtMs: nowMs };
  const pair = doc.pair;
  const ref = { arbId: doc.arbId, betPairId: pair.betPairId, whitelabel: pair.whitelabel };
  const data: Record<string, unknown> = {
    ...ref, placement: settlement.placement, positiveStatus: settlement.positiveStatus, hedgeStatus: settlement.hedgeStatus,
    actualOutcome: settlement.actualOutcome, exposureReason: settlement.exposureReason, pnlMinor: settlement.pnlMinor, currency: pair.currency,
    reconciliation: settlement.reconciliation,
  };
  if (!first && doc.settlement) {
    const before = doc.settlement;
    data.previous = { actualOutcome: before.actualOutcome, exposureReason: before.exposureReason, pnlMinor: before.pnlMinor };
  }
  const events: StreamEntry[] = [{ type: first ? 'arb_settled' : 'arb_resettled', data }];
  const update: ReviewUpdate = {
    at: new Date(nowMs).toISOString(), source: first ? 'settlement' : 'resettlement',
    exposure_reason: settlement.exposureReason, actual_outcome: settlement.actualOutcome, pnl_minor: settlement.pnlMinor,
    positive_status: String(settlement.positiveStatus), hedge_status: String(settlement.hedgeStatus),
  };
  const review = reviewFor(deps, doc, { exposureReason: settlement.exposureReason, pnlMinor: settlement.pnlMinor }, seen, update, (reason) =>
    exposureRecord(doc, reason, { positive: String(settlement.positiveStatus), hedge: String(settlement.hedgeStatus) }, `settled: ${settlement.actualOutcome}`, nowMs, {
      pnl_minor: settlement.pnlMinor,
      currency: pair.currency,
      settled_at: new Date(nowMs).toISOString(),
      results: settlement.results,
      reconciliation: settlement.reconciliation,
    }));
  if (review) events.push(review.event);
  return { doc: settledDoc, events, review: review?.write ?? null };
}

type JsonRecord = Record<string, unknown>;

function parsed(json: string): JsonRecord | null {
  return json === '' ? null : (JSON.parse(json) as JsonRecord);
}

/**
 * The review write and its event for an arb's new classification (src/domain/review.ts decides): a new
 * entry, the open one updated, the update appended to a resolution that stands, or nothing.
 */
export function reviewFor(
  deps: ExecutorDeps, doc: PairDoc, now: Classification, seen: ReviewEntries, update: ReviewUpdate,
  recordFor: (reason: string) => ExposureRecord,
): { write: ReviewWrite; event: StreamEntry } | null {
  const open = parsed(seen.open);
  const resolution = parsed(seen.resolved);
  const decision = reviewDecision(reviewStateOf(open, resolution), now);
  if (decision.action === 'none') return null;
  const pair = doc.pair;
  const key = keys.exposure(pair.whitelabel, pair.positive.provider, pair.betPairId);
  let json: JsonRecord;
  switch (decision.action) {
    case 'open':
      json = { ...recordFor(now.exposureReason ?? 'unknown'), updates: [update] };
      break;
    case 'update_open': {
      const current = open as JsonRecord;
      json = updatedOpenRecord(current, recordFor(now.exposureReason ?? String(current.exposure_reason)), update);
      break;
    }
    case 'append_resolved':
      json = appendedResolution(resolution as JsonRecord, update);
      break;
  }
  // The event carries the open record, or for a resolution that stands the record the person resolved, updated.
  const eventRecord = decision.action === 'append_resolved'
    ? { ...recordFor(now.exposureReason ?? String(((resolution as JsonRecord).record as JsonRecord | undefined)?.exposure_reason)), resolution_stands: true }
    : json;
  return {
    write: {
      action: decision.action, key, json: JSON.stringify(json), ttlMs: deps.config.exposureTtlMs,
      reviewSetKey: keys.reviewByPair(pair.whitelabel, pair.positive.provider, pair.betPairId), seen,
    },
    event: { type: decision.event, data: exposureAlertData(eventRecord as ExposureRecord, key) },
  };
}
