// The sweep for lost settlement chains: a pair whose polling is under way but one of whose bets has no live
// poll job (stalled into BullMQ's failed set, or gone) raises a `settlement_lost` exposure, and the chain
// is started again. Without it such a pair is never reconciled and nobody is told.
import type { Queue } from 'bullmq';
import { exposureRecord } from '../domain/exposure.js';
import { betsToPoll, type BetToPoll } from '../domain/pair-settlement.js';
import type { PairDoc } from '../domain/pair.js';
import type { ReviewUpdate } from '../domain/review.js';
import type { ExecutorDeps } from '../executor/run.js';
import { logExposureAlerts } from '../infra/log.js';
import { keys } from '../store/keys.js';
import { reviewFor } from './poller.js';
import { settlementJobId, type PollJobData } from './scheduler.js';

/** How the sweep tells a bet polled per account (alive while its account holds it open) from a chained one. */
export interface PerAccountCheck {
  polledPerAccount(bet: BetToPoll): boolean;
  accountBetOpen(bet: BetToPoll): Promise<boolean>;
}

/** Pairs looked at per sweep (the rest wait for the next one). */
export const settlementSweepBatchMax = 200;
const reviewAttemptsMax = 10;

export interface SettlementSweepResult {
  looked: number;
  /** Bets whose poll chain was found dead and started again. */
  restarted: number;
}

/** States of a poll job whose chain is alive (it will poll again, or is polling now). */
const aliveStates = new Set(['delayed', 'waiting', 'active', 'prioritized', 'waiting-children']);

export async function sweepSettlement(deps: ExecutorDeps, queue: Queue<PollJobData>, perAccount?: PerAccountCheck): Promise<SettlementSweepResult> {
  const { store } = deps;
  const due = await store.redis.zrangebyscore(keys.settlePending, '-inf', Date.now(), 'LIMIT', 0, settlementSweepBatchMax);
  let restarted = 0;
  for (const arbId of due) {
    const loaded = await store.loadPair(arbId);
    if (!loaded || loaded.doc.state === 'settled') {
      await store.redis.zrem(keys.settlePending, arbId);
      continue;
    }
    const results = await store.settlementResults(arbId);
    const bets = betsToPoll(loaded.doc);
    const lost: BetToPoll[] = [];
    for (const bet of bets) {
      if (results[bet.clientRef] !== undefined) continue;
      if (perAccount?.polledPerAccount(bet)) {
        // Same race: a poll may record the result and close the bet between the two reads.
        if (!(await perAccount.accountBetOpen(bet)) && (await store.settlementResults(arbId))[bet.clientRef] === undefined) lost.push(bet);
        continue;
      }
      const job = await queue.getJob(settlementJobId(arbId, bet.clientRef));
      const state = job ? await job.getState() : 'missing';
      if (aliveStates.has(state)) continue;
      // The chain may have recorded its result and completed since the results were read: not lost.
      if ((await store.settlementResults(arbId))[bet.clientRef] !== undefined) continue;
      lost.push(bet);
      // A failed (or completed without a result) job keeps its id: it goes, so the chain can start again.
      if (job) await job.remove();
    }
    if (lost.length > 0) {
      await raiseSettlementLost(deps, loaded.doc, lost, results);
      // A fresh chain: the whole poll budget again (the dead one may have been near its end).
      for (const bet of lost) await deps.settlement.restartChain(bet, bets.length, 1);
      await store.audit([{ type: 'settlement_chain_restarted', data: { arbId, clientRefs: lost.map((b) => b.clientRef) } }]);
      restarted += lost.length;
    }
    await store.redis.zadd(keys.settlePending, 'XX', Date.now() + deps.settlement.sweepAfterMs(), arbId);
  }
  return { looked: due.length, restarted };
}

async function raiseSettlementLost(deps: ExecutorDeps, doc: PairDoc, lost: BetToPoll[], results: Record<string, string>): Promise<void> {
  const nowMs = deps.clock.nowMs();
  const statusOf = (ref: string | undefined) => (ref !== undefined ? results[ref] ?? 'unsettled' : 'none');
  const statuses = { positive: statusOf(doc.positive?.clientRef), hedge: statusOf(doc.hedges.find((h) => h.status === 'accepted')?.clientRef) };
  const detail = `settlement polling of ${lost.map((b) => b.clientRef).join(', ')} died (stalled or lost); restarted`;
  const update: ReviewUpdate = {
    at: new Date(nowMs).toISOString(), source: 'settlement_lost', exposure_reason: 'settlement_lost',
    actual_outcome: `${statuses.positive}_${statuses.hedge}`, pnl_minor: null, positive_status: statuses.positive, hedge_status: statuses.hedge,
  };
  for (let attempt = 1; attempt <= reviewAttemptsMax; attempt++) {
    const seen = await deps.store.reviewEntries(doc.arbId);
    const review = reviewFor(deps, doc, { exposureReason: 'settlement_lost', pnlMinor: null }, seen, update, (reason) =>
      exposureRecord(doc, reason, statuses, detail, nowMs, { lost_bets: lost.map((b) => b.clientRef), results }));
    if (!review) return;
    const outcome = await deps.store.writeReview(doc.arbId, review.write, [review.event]);
    if (outcome !== 'moved') {
      if (outcome === 'written') deps.metrics?.eventsWritten([review.event], 'settlement');
      if (outcome === 'written') logExposureAlerts(deps.log, [review.event]);
      return;
    }
  }
  throw new Error(`settlement_lost review of ${doc.arbId} kept racing ${reviewAttemptsMax} times`);
}
