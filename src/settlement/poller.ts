// Settlement polling: each run of a bet's job asks the bookmaker once, then reschedules itself or records the result.
import { DelayedError, type Job } from 'bullmq';
import { exposureAlertData, exposureRecord } from '../domain/exposure.js';
import type { PairDoc } from '../domain/pair.js';
import { settlePair, type PairSettlement } from '../domain/pair-settlement.js';
import type { SettlementOutcome } from '../domain/settlement.js';
import { isFinalBetStatus } from '../domain/types.js';
import type { ExecutorDeps } from '../executor/run.js';
import { keys } from '../store/keys.js';
import type { StreamEntry } from '../store/store.js';
import type { PollJobData } from './scheduler.js';

export interface SettlementProbe {
  /** A poll started this long after it was due. */
  pollStarted(latenessMs: number): void;
}

const reconcileAttemptsMax = 10;

export type PollResult = { outcome: 'final'; status: SettlementOutcome; reconciled: boolean };

export async function processPoll(deps: ExecutorDeps, job: Job<PollJobData>, token: string | undefined, probe?: SettlementProbe): Promise<PollResult> {
  const { config, store } = deps;
  const data = job.data;
  probe?.pollStarted(deps.clock.nowMs() - data.dueAtMs);
  const provider = deps.providers.get(data.provider);
  const answer = provider ? await provider.status(data.ticketId) : { kind: 'unavailable' as const, detail: `no provider ${data.provider}` };
  await store.audit([{ type: 'bookmaker_status', data: { arbId: data.arbId, role: data.role, clientRef: data.clientRef, ticketId: data.ticketId, poll: data.poll, answer } }]);
  let status: SettlementOutcome | null = answer.kind === 'found' && isFinalBetStatus(answer.bet.status) ? answer.bet.status : null;
  if (status === null && data.poll >= config.settlementPollCountMax) status = 'timeout';
  if (status === null) {
    // Not final yet: the same job waits in Redis (no timer in this process) and runs the next poll.
    // BullMQ's delayed set is scored in the host's real time (as the scheduler's first poll is): a stepped
    // worker clock must not shrink or stretch the poll interval.
    const dueAtMs = Date.now() + config.settlementPollIntervalMs;
    await job.updateData({ ...data, poll: data.poll + 1, dueAtMs });
    if (!token) throw new Error('invariant violated: a settlement poll without a job token');
    await job.moveToDelayed(dueAtMs, token);
    throw new DelayedError();
  }
  const event = { arbId: data.arbId, role: data.role, clientRef: data.clientRef, ticketId: data.ticketId, status, polls: data.poll };
  const complete = await store.recordBetResult(data.arbId, data.clientRef, status, data.betsPolled, event, config.pairRecordTtlMs);
  const reconciled = complete ? await reconcilePair(deps, data.arbId) : false;
  return { outcome: 'final', status, reconciled };
}

/** Reconciles a pair whose bets are all final; exactly once however many final polls race here. */
export async function reconcilePair(deps: ExecutorDeps, arbId: string): Promise<boolean> {
  for (let attempt = 1; attempt <= reconcileAttemptsMax; attempt++) {
    const loaded = await deps.store.loadPair(arbId);
    if (!loaded) throw new Error(`invariant violated: settling ${arbId} without a journal`);
    if (loaded.doc.state === 'settled') return false;
    const results = (await deps.store.settlementResults(arbId)) as Record<string, SettlementOutcome>;
    const settlement = settlePair(loaded.doc, results, deps.clock.nowMs());
    const outcome = await deps.store.reconcile({ arbId, rev: loaded.rev, ...settledWrite(deps, loaded.doc, settlement) });
    if (outcome === 'settled') {
      if (settlement.exposureReason) deps.log.error({ arbId, exposureReason: settlement.exposureReason }, `EXPOSURE ALERT ${settlement.exposureReason}: pair ${arbId} needs manual review`);
      return true;
    }
    if (outcome === 'already') return false;
  }
  throw new Error(`reconciliation of ${arbId} kept racing ${reconcileAttemptsMax} times`);
}

function settledWrite(deps: ExecutorDeps, doc: PairDoc, settlement: PairSettlement) {
  const nowMs = deps.clock.nowMs();
  const settledDoc: PairDoc = { ...doc, state: 'settled', settlement, updatedAtMs: nowMs };
  const pair = doc.pair;
  const ref = { arbId: doc.arbId, betPairId: pair.betPairId, whitelabel: pair.whitelabel };
  const events: StreamEntry[] = [{
    type: 'arb_settled',
    data: { ...ref, placement: doc.state, positiveStatus: settlement.positiveStatus, hedgeStatus: settlement.hedgeStatus, actualOutcome: settlement.actualOutcome, exposureReason: settlement.exposureReason, pnlMinor: settlement.pnlMinor, currency: pair.currency },
  }];
  if (!settlement.exposureReason) return { doc: settledDoc, events };
  const key = keys.exposure(pair.whitelabel, pair.positive.provider, pair.betPairId);
  const record = exposureRecord(doc, settlement.exposureReason, { positive: String(settlement.positiveStatus), hedge: String(settlement.hedgeStatus) }, `settled: ${settlement.actualOutcome}`, nowMs, {
    pnl_minor: settlement.pnlMinor,
    currency: pair.currency,
    settled_at: new Date(nowMs).toISOString(),
    results: settlement.results,
  });
  // A placement exposure was alerted already; settlement completes its record. A new one is alerted now.
  if (doc.state === 'hedged') events.push({ type: 'exposure_alert', data: exposureAlertData(record, key) });
  else events.push({ type: 'exposure_updated', data: exposureAlertData(record, key) });
  return {
    doc: settledDoc,
    events,
    exposure: { key, record, ttlMs: deps.config.exposureTtlMs, reviewId: doc.arbId, reviewSetKey: keys.reviewByPair(pair.whitelabel, pair.positive.provider, pair.betPairId) },
  };
}
