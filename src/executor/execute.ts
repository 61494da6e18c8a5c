// One job from the queue: validate, take the pair's lease, refuse duplicates, run or resume the saga.
import { randomUUID } from 'node:crypto';
import { isPlacementDone, newPairDoc, type PairState } from '../domain/pair.js';
import type { BetPair } from '../domain/types.js';
import { parseBetPair } from '../domain/validation.js';
import type { StreamEntry } from '../store/store.js';
import type { UnreadableJobData } from './raw-job.js';
import { PairRun, type ExecutorDeps } from './run.js';
import { preflightBlocked, preflightPassed, preflightPlan, runSaga } from './saga.js';

export interface JobInput {
  id: string;
  data: unknown;
  /** When the job was enqueued (unix ms): the arb's age when it carries no createdAt. */
  timestampMs: number;
}

export type JobResult =
  | { outcome: 'rejected'; errors: string[] }
  | { outcome: 'duplicate'; arbId: string; state: PairState | 'in_flight' }
  /** The pair is leased by another worker while this job is the pair's own: try again later. */
  | { outcome: 'busy'; arbId: string }
  | { outcome: PairState; arbId: string };

const idPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** Echo of the arbId in a rejection event, only when it is a safe identifier. */
function safeArbId(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const arbId = (raw as Record<string, unknown>).arbId;
  return typeof arbId === 'string' && idPattern.test(arbId) ? arbId : null;
}

function unknownProviders(pair: BetPair, deps: ExecutorDeps): string[] {
  const errors: string[] = [];
  for (const role of ['positive', 'hedge'] as const) {
    const provider = pair[role].provider;
    if (!deps.providers.has(provider)) errors.push(`${role}Bet.provider (${provider}) is not a configured provider`);
  }
  return errors;
}

/** Appends events outside a transition, counted once they are written. */
async function emit(deps: ExecutorDeps, entries: StreamEntry[]): Promise<void> {
  await deps.store.emit(entries);
  deps.metrics?.eventsWritten(entries, 'placement');
}

export async function executeJob(deps: ExecutorDeps, job: JobInput): Promise<JobResult> {
  const { stakeMinorMax, worstCaseMinorMin, arbMarginBpsMax } = deps.config;
  const parsed = parseBetPair(job.data, { stakeMinorMax, worstCaseMinorMin, arbMarginBpsMax });
  const errors = parsed.ok ? unknownProviders(parsed.pair, deps) : parsed.errors;
  if (!parsed.ok || errors.length > 0) {
    await emit(deps, [{ type: 'arb_rejected', data: { arbId: safeArbId(job.data), jobId: job.id, errors } }]);
    deps.log.warn({ arbId: safeArbId(job.data), jobId: job.id, outcome: 'rejected', errors }, 'bet pair rejected: invalid input, nothing placed');
    return { outcome: 'rejected', errors };
  }
  // The arb's age runs from the earlier of the scanner's stamp and the enqueue time: a createdAt in the
  // future cannot make a pair that sat in the queue look young (preflight refuses one too far ahead).
  const pair: BetPair = { ...parsed.pair, enqueuedAtMs: job.timestampMs };
  return claimAndRun(deps, pair, job.id);
}

/**
 * Refuses job data the worker could not read (not JSON, or over jobDataBytesMax): the same `arb_rejected`
 * event as any bad input, with a `reason` field saying which. The caller fails the job as unrecoverable.
 */
export async function rejectUnreadable(deps: ExecutorDeps, jobId: string, data: UnreadableJobData): Promise<void> {
  const errors = [data.error];
  await emit(deps, [{ type: 'arb_rejected', data: { arbId: data.arbId, jobId, reason: data.reason, errors } }]);
  deps.log.warn({ arbId: data.arbId, jobId, reason: data.reason, dataBytes: data.dataBytes, errors }, 'bet pair rejected: unreadable job data, nothing placed');
}

/** Resumes a pair from its journal alone (recovery sweep); nothing happens when it is done or leased. */
export async function resumePair(deps: ExecutorDeps, arbId: string, jobId: string): Promise<JobResult> {
  const loaded = await deps.store.loadPair(arbId);
  if (!loaded) return { outcome: 'duplicate', arbId, state: 'in_flight' };
  return claimAndRun(deps, loaded.doc.pair, jobId, true);
}

async function claimAndRun(deps: ExecutorDeps, pair: BetPair, jobId: string, recovery = false): Promise<JobResult> {
  const { store, config } = deps;
  const token = randomUUID();
  const initial = newPairDoc(pair, jobId, deps.clock.nowMs());
  // One Redis step takes the lease, creates the journal and, for a pair seen for the first time, runs the
  // preflight (guards, both accounts claimed, the positive's intent): the positive leaves right after it.
  const plan = preflightPlan(deps, initial);
  const sentMonoMs = deps.clock.monoMs();
  const claim = await store.claim(pair.arbId, token, config.lockTtlMs, initial, config.pairRecordTtlMs, plan);
  const ref = { arbId: pair.arbId, betPairId: pair.betPairId, whitelabel: pair.whitelabel, jobId };
  if (claim.kind === 'busy') {
    // No journal behind the lease (jobId null): nothing shows another job has this pair in hand, so it is not
    // called a duplicate (a duplicate would end the job and lose the pair); the job retries once the lease lapses.
    if (recovery || claim.jobId === jobId || claim.jobId === null) {
      deps.log.debug({ ...ref, heldByJobId: claim.jobId }, 'pair leased by another worker; the job will run again later');
      return { outcome: 'busy', arbId: pair.arbId };
    }
    await emit(deps, [{ type: 'arb_duplicate', data: { ...ref, reason: 'in_flight' } }]);
    deps.log.info({ ...ref, outcome: 'duplicate', reason: 'in_flight' }, 'bet pair outcome');
    return { outcome: 'duplicate', arbId: pair.arbId, state: 'in_flight' };
  }
  // A started claim's run begins from the journaled received state's successor; preflightPassed sets it below.
  const run = new PairRun(deps, claim.kind === 'started' ? initial : claim.doc, claim.kind === 'started' ? 1 : claim.rev, token);
  if (claim.kind === 'existing') {
    if (isPlacementDone(claim.doc.state)) {
      // Nothing is placed again; the saga only makes sure an accepted pair's settlement is scheduled.
      try {
        await runSaga(run);
      } finally {
        await run.stop(true);
      }
      if (!recovery && claim.doc.jobId !== jobId) await emit(deps, [{ type: 'arb_duplicate', data: { ...ref, reason: 'already_processed', state: claim.doc.state } }]);
      deps.log.info({ ...ref, outcome: 'duplicate', reason: 'already_processed', state: claim.doc.state }, 'bet pair outcome');
      return { outcome: 'duplicate', arbId: pair.arbId, state: claim.doc.state };
    }
    // Same journal, unfinished: a crashed or stalled worker left it. Continue from the journal, never redo.
    await emit(deps, [{ type: 'arb_resumed', data: { ...ref, state: claim.doc.state, originalJobId: claim.doc.jobId } }]);
    deps.log.info({ ...ref, state: claim.doc.state, originalJobId: claim.doc.jobId }, 'resuming a pair from its journal');
  }
  deps.log.debug({ ...ref, recovery, stakeMinor: pair.positive.stakeMinor, hedgeStakeMinor: pair.hedge.stakeMinor }, 'pair claimed');
  run.startHeartbeat();
  try {
    deps.crashPoint('claimed');
    if (claim.kind === 'started') {
      preflightPassed(run, plan, claim.rev, sentMonoMs);
      deps.crashPoint('positive_intent_journaled');
    } else if (claim.kind === 'created' && claim.blocked) {
      await preflightBlocked(run, claim.blocked.reason, claim.blocked.remainingMs, claim.blocked.circuit);
    }
    const state = await runSaga(run);
    // One info line per pair with its ids and outcome (the requests and answers are at debug level).
    deps.log.info({ ...ref, outcome: state, reason: run.doc.outcomeReason ?? null }, 'bet pair outcome');
    return { outcome: state, arbId: pair.arbId };
  } finally {
    await run.stop(true);
  }
}
