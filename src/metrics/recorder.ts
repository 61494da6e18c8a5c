// The worker's counters and histograms: events written, placements, bookmaker latency, leg window, poll lateness.
import { performance } from 'node:perf_hooks';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { LegRole } from '../domain/types.js';
import type { LegWindowProbe } from '../executor/run.js';
import type { LookupOutcome, PlaceOutcome } from '../providers/provider.js';
import type { SettlementProbe } from '../settlement/poller.js';
import type { StreamEntry } from '../store/store.js';
import { LabelValues } from './labels.js';
import type { EventPhase, ExecutorMetrics } from './port.js';

export type BookmakerOperation = 'place' | 'lookup' | 'status';
export type BookmakerResult = PlaceOutcome['kind'] | LookupOutcome['kind'];

const legs: readonly LegRole[] = ['positive', 'hedge'];
const placeResults: readonly PlaceOutcome['kind'][] = ['accepted', 'pending', 'rejected', 'in_doubt', 'not_sent'];
const lookupResults: readonly LookupOutcome['kind'][] = ['found', 'not_found', 'unavailable'];
const operations: readonly BookmakerOperation[] = ['place', 'lookup', 'status'];

/** Pairs whose positive was answered and whose hedge has not left yet, kept for the leg window (oldest dropped past it). */
const legWindowPendingMax = 4_096;

/** Buckets in seconds. The leg window's targets are 1 ms (p99 at concurrency 1) and 3 ms (at 16). */
const legWindowBucketsSeconds = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const bookmakerBucketsSeconds = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const pollLatenessBucketsSeconds = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

type PairOutcome = 'executed' | 'failed' | 'blocked' | 'rejected' | 'exposure';

const inDoubtLegs: Readonly<Record<string, { leg: LegRole; providerField: 'positive_provider' | 'hedge_provider' }>> = {
  positive_in_doubt: { leg: 'positive', providerField: 'positive_provider' },
  hedge_in_doubt: { leg: 'hedge', providerField: 'hedge_provider' },
};

function field(data: Record<string, unknown>, name: string): unknown {
  return data[name];
}

/**
 * Implements the executor's metrics port and its two probes (leg window, settlement poll lateness) on one
 * prom-client registry. Labels are bounded (see labels.ts): providers come from the config, reasons from the code.
 */
export class MetricsRecorder implements ExecutorMetrics, LegWindowProbe, SettlementProbe {
  private readonly provider: LabelValues;
  private readonly reason = LabelValues.open(64);
  private readonly duplicateReason = LabelValues.open(8);
  private readonly pairs: Counter<'outcome' | 'reason'>;
  private readonly exposureAlerts: Counter<'phase' | 'reason'>;
  private readonly inDoubt: Counter<'provider' | 'leg'>;
  private readonly duplicates: Counter<'reason'>;
  private readonly resumed: Counter;
  private readonly hedgeRetries: Counter;
  private readonly settled: Counter<'result'>;
  private readonly resettled: Counter;
  private readonly placements: Counter<'provider' | 'leg' | 'result'>;
  private readonly bookmakerRequests: Counter<'provider' | 'operation' | 'result'>;
  private readonly bookmakerDuration: Histogram<'provider' | 'operation'>;
  private readonly legWindow: Histogram;
  private readonly pollLateness: Histogram;
  private readonly positiveAnsweredAtMs = new Map<string, number>();

  constructor(registry: Registry, providers: readonly string[]) {
    const registers = [registry];
    this.provider = LabelValues.fixed(providers);
    this.pairs = new Counter({
      name: 'bet_executor_pairs_total',
      help: 'Pairs by how their placement ended: executed, failed (positive not taken), blocked, rejected (invalid input), exposure (an exposure alert while placing); reason names the rule.',
      labelNames: ['outcome', 'reason'], registers,
    });
    this.exposureAlerts = new Counter({
      name: 'bet_executor_exposure_alerts_total',
      help: 'exposure_alert events written by this process, by phase (placement, settlement) and exposure reason.',
      labelNames: ['phase', 'reason'], registers,
    });
    this.inDoubt = new Counter({
      name: 'bet_executor_placements_in_doubt_total',
      help: 'Placements still unknown at the in-doubt deadline (a positive_in_doubt or hedge_in_doubt exposure), by provider and leg.',
      labelNames: ['provider', 'leg'], registers,
    });
    this.duplicates = new Counter({ name: 'bet_executor_duplicate_jobs_total', help: 'Jobs refused as duplicates of a pair in flight or already processed.', labelNames: ['reason'], registers });
    this.resumed = new Counter({ name: 'bet_executor_pairs_resumed_total', help: 'Pairs taken over from their journal after a worker stopped mid-pair.', registers });
    this.hedgeRetries = new Counter({ name: 'bet_executor_hedge_retries_total', help: 'Further hedge attempts (new client reference) after a rejected, partial or unplaced hedge.', registers });
    this.settled = new Counter({
      name: 'bet_executor_pairs_settled_total',
      help: 'Pairs reconciled after settlement: as_expected, or exposure (the results leave money at risk).',
      labelNames: ['result'], registers,
    });
    this.resettled = new Counter({ name: 'bet_executor_pairs_resettled_total', help: 'Pairs reconciled again after a bookmaker re-settled one of their bets.', registers });
    this.placements = new Counter({
      name: 'bet_executor_placements_total',
      help: 'Placement requests sent to a bookmaker, by provider, leg and result (accepted, pending, rejected, in_doubt: no definite answer, not_sent).',
      labelNames: ['provider', 'leg', 'result'], registers,
    });
    this.bookmakerRequests = new Counter({
      name: 'bet_executor_bookmaker_requests_total',
      help: 'Bookmaker requests by provider, operation (place, lookup, status) and result.',
      labelNames: ['provider', 'operation', 'result'], registers,
    });
    this.bookmakerDuration = new Histogram({
      name: 'bet_executor_bookmaker_request_duration_seconds',
      help: 'Time from sending a bookmaker request to its parsed answer (or its failure), by provider and operation.',
      labelNames: ['provider', 'operation'], buckets: bookmakerBucketsSeconds, registers,
    });
    this.legWindow = new Histogram({
      name: 'bet_executor_leg_window_seconds',
      help: "Leg window: the positive's answer parsed to the hedge request sent (the time only one leg is live).",
      buckets: legWindowBucketsSeconds, registers,
    });
    this.pollLateness = new Histogram({
      name: 'bet_executor_settlement_poll_lateness_seconds',
      help: 'How long after it was due a settlement poll started.',
      buckets: pollLatenessBucketsSeconds, registers,
    });
    this.initSeries(providers);
  }

  /** Known series start at zero, so rates and rules see them before the first event. */
  private initSeries(providers: readonly string[]): void {
    this.pairs.inc({ outcome: 'executed', reason: 'none' }, 0);
    this.settled.inc({ result: 'as_expected' }, 0);
    this.settled.inc({ result: 'exposure' }, 0);
    for (const provider of providers) {
      for (const leg of legs) {
        this.inDoubt.inc({ provider, leg }, 0);
        for (const result of placeResults) this.placements.inc({ provider, leg, result }, 0);
      }
      for (const operation of operations) {
        this.bookmakerDuration.zero({ provider, operation });
        for (const result of operation === 'place' ? placeResults : lookupResults) this.bookmakerRequests.inc({ provider, operation, result }, 0);
      }
    }
  }

  eventsWritten(entries: readonly StreamEntry[], phase: EventPhase): void {
    for (const entry of entries) this.eventWritten(entry, phase);
  }

  private eventWritten(entry: StreamEntry, phase: EventPhase): void {
    const { data } = entry;
    switch (entry.type) {
      case 'arb_executed': return this.pair('executed', 'none');
      case 'arb_failed': return this.pair('failed', field(data, 'reason'));
      case 'arb_blocked': return this.pair('blocked', field(data, 'reason'));
      case 'arb_rejected': return this.pair('rejected', 'invalid_input');
      case 'exposure_alert': return this.exposureAlert(data, phase);
      case 'arb_duplicate': this.duplicates.inc({ reason: this.duplicateReason.of(field(data, 'reason')) }); return;
      case 'arb_resumed': this.resumed.inc(); return;
      case 'hedge_retry': this.hedgeRetries.inc(); return;
      case 'arb_settled': this.settled.inc({ result: field(data, 'exposureReason') == null ? 'as_expected' : 'exposure' }); return;
      case 'arb_resettled': this.resettled.inc(); return;
      default: return;
    }
  }

  private pair(outcome: PairOutcome, reason: unknown): void {
    this.pairs.inc({ outcome, reason: this.reason.of(reason) });
  }

  private exposureAlert(data: Record<string, unknown>, phase: EventPhase): void {
    const reason = this.reason.of(field(data, 'exposure_reason'));
    this.exposureAlerts.inc({ phase, reason });
    if (phase !== 'placement') return;
    // An exposure while placing ends the pair's placement: it is the pair's outcome.
    this.pair('exposure', reason);
    const inDoubt = inDoubtLegs[reason];
    if (inDoubt) {
      const record = field(data, 'record');
      const provider = typeof record === 'object' && record !== null ? (record as Record<string, unknown>)[inDoubt.providerField] : undefined;
      this.inDoubt.inc({ provider: this.provider.of(provider), leg: inDoubt.leg });
    }
  }

  placementAnswered(provider: string, leg: LegRole, result: PlaceOutcome['kind']): void {
    this.placements.inc({ provider: this.provider.of(provider), leg, result });
  }

  bookmakerAnswered(provider: string, operation: BookmakerOperation, result: BookmakerResult, seconds: number): void {
    const name = this.provider.of(provider);
    this.bookmakerDuration.observe({ provider: name, operation }, seconds);
    this.bookmakerRequests.inc({ provider: name, operation, result });
  }

  answerParsed(arbId: string, role: LegRole): void {
    if (role !== 'positive') return;
    if (this.positiveAnsweredAtMs.size >= legWindowPendingMax) {
      // A positive that was not taken never sends its hedge: its entry is dropped here, oldest first.
      const oldest = this.positiveAnsweredAtMs.keys().next();
      if (oldest.done !== true) this.positiveAnsweredAtMs.delete(oldest.value);
    }
    this.positiveAnsweredAtMs.set(arbId, performance.now());
  }

  requestSent(arbId: string, role: LegRole): void {
    if (role !== 'hedge') return;
    const answeredAtMs = this.positiveAnsweredAtMs.get(arbId);
    if (answeredAtMs === undefined) return;
    this.legWindow.observe((performance.now() - answeredAtMs) / 1000);
    this.positiveAnsweredAtMs.delete(arbId);
  }

  pollStarted(latenessMs: number): void {
    this.pollLateness.observe(Math.max(0, latenessMs) / 1000);
  }
}
