// One measured round each: a BullMQ no-op job (the baseline) and the real executor against the simulated bookmakers.
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { parseConfig, type Config } from '../src/config.js';
import type { LegRole } from '../src/domain/types.js';
import type { LegWindowProbe } from '../src/executor/run.js';
import { pairWorkerOptions } from '../src/app/worker.js';
import { pairFixture } from '../src/rig/pairs.js';
import { newPlacement } from '../src/domain/pair.js';
import { parseBetPair } from '../src/domain/validation.js';
import { closeProviders, providersFromConfig } from '../src/providers/factory.js';
import type { Provider } from '../src/providers/provider.js';
import type { Placement } from '../src/domain/pair.js';
import { startInProcessWorker } from '../src/rig/workers.js';
import { eventsStream } from '../src/store/keys.js';

export type BetPairJob = Record<string, unknown> & { arbId: string };

export interface RoundTarget {
  /** A Redis URL (with its database) that only this round writes queue data to. */
  redisUrl: string;
  concurrency: number;
  count: number;
  bookAUrl: string;
  bookBUrl: string;
  /** CPU ms used so far by the sims' own process; null when they run in this one. */
  simsCpuMs(): number | null;
  /** Executor config on top of the bench's (e.g. journalReplicasMin). */
  configOverrides?: Record<string, unknown>;
}

/** CPU time per job or pair, by process: where the wall time went on a machine with few cores. */
export interface CpuPerItem {
  /** This process: the BullMQ worker and the executor (and the sims when they run inline). */
  nodeMs: number;
  /** The whole redis-server process (INFO cpu). */
  redisMs: number;
  simsMs: number | null;
}

export interface RoundResult {
  /**
   * baseline: a BullMQ no-op job; wire: the same job doing only what reaches the bookmakers (the pair validated, the
   * positive placed, then the hedge: no journal, no cooldown, no event); executor: the real executor.
   */
  kind: 'baseline' | 'wire' | 'executor';
  concurrency: number;
  count: number;
  wallMs: number;
  perItemMs: number;
  perSecond: number;
  cpuPerItem: CpuPerItem;
  /** Leg windows of this round (executor and wire rounds), one per pair. */
  legWindowsMs: number[];
  /** Decision latencies of this round (executor and wire rounds), one per pair: job taken → positive on the socket. */
  decisionsMs: number[];
}

/** How the executor rounds' pairs schedule their settlement after the hedge. */
export type RoundSettlement = 'chains' | 'accounts';

/**
 * The config overrides of a round whose pairs schedule their settlement this way: `accounts` declares both
 * simulated bookmakers batch-capable (their bets are opened on their accounts, no poll chain); `chains` changes nothing.
 */
export function roundSettlementOverrides(settlement: RoundSettlement, bookAUrl: string, bookBUrl: string): Record<string, unknown> {
  if (settlement === 'chains') return {};
  return { providers: { bookA: { url: bookAUrl, settlementBatch: true }, bookB: { url: bookBUrl, settlementBatch: true } } };
}

const addBulkChunk = 500;
const jobName = 'bet-pair';

/** A valid pair on two accounts no other pair uses (no cooldown can block it), as a scanner would enqueue it. */
export function makeBenchPair(tag: string, index: number): BetPairJob {
  return pairFixture(`${tag}-${index}`);
}

/** The executor's configuration for the bench: the given concurrency, limits that never block a unique pair. */
export function benchConfig(target: RoundTarget, queueName: string, overrides: Record<string, unknown> = {}): Config {
  return parseConfig({
    providers: { bookA: { url: target.bookAUrl }, bookB: { url: target.bookBUrl } },
    queueName,
    concurrency: target.concurrency,
    rateLimit: { placementsMax: 1_000_000, windowMs: 60_000 },
    // A whole round is enqueued before it starts: no pair may turn stale while it waits.
    arbAgeMsMax: 600_000,
    pairRecordTtlMs: 3_600_000,
    // Under the journal's TTL, as the config requires.
    settlementDeadlineMs: 1_800_000,
    // Settlement is not measured: the first poll is an hour away.
    settlementPollIntervalMs: 3_600_000,
    settlementPollBackoffMaxMs: 3_600_000,
    ...overrides,
  });
}

function freshTag(prefix: string): string {
  return `${prefix}${randomBytes(4).toString('hex')}`;
}

export async function fillPausedQueue(queue: Queue, pairs: readonly BetPairJob[]): Promise<void> {
  await queue.pause();
  for (let i = 0; i < pairs.length; i += addBulkChunk) {
    await queue.addBulk(pairs.slice(i, i + addBulkChunk).map((data) => ({ name: jobName, data })));
  }
}

/**
 * Resolves when `count` jobs completed on the worker; rejects on the first failed job, on a completed job
 * `check` refuses, or when the round takes longer than its limit.
 */
export function completions(worker: Worker, count: number, check: (result: unknown) => string | null): { done: Promise<void>; detach(): void } {
  let completed = 0;
  let timer: NodeJS.Timeout | undefined;
  let onCompleted: (job: Job, result: unknown) => void = () => undefined;
  let onFailed: (job: Job | undefined, error: Error) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    const limitMs = 60_000 + count * 20;
    timer = setTimeout(() => reject(new Error(`round timed out after ${limitMs} ms: ${completed} of ${count} jobs completed`)), limitMs);
    onCompleted = (job, result) => {
      const problem = check(result);
      if (problem !== null) reject(new Error(`job ${job.id ?? '?'} ended ${problem}`));
      if (++completed === count) resolve();
    };
    onFailed = (job, error) => reject(new Error(`job ${job?.id ?? '?'} failed: ${error.message}`));
    worker.on('completed', onCompleted);
    worker.on('failed', onFailed);
  });
  return {
    done,
    detach() {
      clearTimeout(timer);
      worker.off('completed', onCompleted);
      worker.off('failed', onFailed);
    },
  };
}

export interface CpuSample {
  nodeMs: number;
  redisMs: number;
  simsMs: number | null;
}

export async function sampleCpu(redis: Redis, target: RoundTarget): Promise<CpuSample> {
  const usage = process.cpuUsage();
  const info = await redis.info('cpu');
  const seconds = (name: string): number => Number(new RegExp(`${name}:(\\S+)`).exec(info)?.[1] ?? Number.NaN);
  return {
    nodeMs: (usage.user + usage.system) / 1000,
    redisMs: (seconds('used_cpu_sys') + seconds('used_cpu_user')) * 1000,
    simsMs: target.simsCpuMs(),
  };
}

interface Timing {
  wallMs: number;
  before: CpuSample;
  after: CpuSample;
}

function result(kind: RoundResult['kind'], target: RoundTarget, timing: Timing, legWindowsMs: number[] = [], decisionsMs: number[] = []): RoundResult {
  const { wallMs, before, after } = timing;
  const n = target.count;
  return {
    kind,
    concurrency: target.concurrency,
    count: n,
    wallMs,
    perItemMs: wallMs / n,
    perSecond: (n * 1000) / wallMs,
    cpuPerItem: {
      nodeMs: (after.nodeMs - before.nodeMs) / n,
      redisMs: (after.redisMs - before.redisMs) / n,
      simsMs: after.simsMs === null || before.simsMs === null ? null : (after.simsMs - before.simsMs) / n,
    },
    legWindowsMs,
    decisionsMs,
  };
}

/** Starts the (paused, filled) queue and times it until the waiter says every job completed. */
async function timeDrain(queue: Queue, redis: Redis, target: RoundTarget, done: Promise<void>): Promise<Timing> {
  // Handled below by the await; this keeps an early failure from counting as an unhandled rejection meanwhile.
  done.catch(() => undefined);
  const before = await sampleCpu(redis, target);
  const startMs = performance.now();
  await queue.resume();
  await done;
  const wallMs = performance.now() - startMs;
  return { wallMs, before, after: await sampleCpu(redis, target) };
}

/** Baseline: the same payload, concurrency and worker options as the executor, with a processor that returns at once. */
export async function baselineRound(target: RoundTarget): Promise<RoundResult> {
  const config = benchConfig(target, freshTag('bench-noop-'));
  const tag = freshTag('n');
  const pairs = Array.from({ length: target.count }, (_, i) => makeBenchPair(tag, i));
  const queueRedis = new Redis(target.redisUrl, { maxRetriesPerRequest: null });
  const workerRedis = new Redis(target.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(config.queueName, { connection: queueRedis });
  let worker: Worker | undefined;
  try {
    await fillPausedQueue(queue, pairs);
    worker = new Worker(config.queueName, async () => undefined, pairWorkerOptions(config, workerRedis));
    await worker.waitUntilReady();
    const waiter = completions(worker, target.count, () => null);
    const timing = await timeDrain(queue, queueRedis, target, waiter.done.finally(() => waiter.detach()));
    return result('baseline', target, timing);
  } finally {
    await worker?.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    queueRedis.disconnect();
    workerRedis.disconnect();
  }
}

/**
 * The wire floor: the no-op's worker whose processor does only the bookmaker part of a pair, through the executor's
 * own HTTP adapters: the pair validated (parseBetPair), the positive placed, the hedge placed once the positive is
 * accepted. No journal, lease, cooldown, event or settlement: what any executor of this contract pays before its
 * safety, so that the executor's cost can be read as this floor plus what the safety adds.
 */
export async function wireRound(target: RoundTarget, probe: LegWindowRecorder): Promise<RoundResult> {
  const config = benchConfig(target, freshTag('bench-wire-'));
  const tag = freshTag('w');
  const pairs = Array.from({ length: target.count }, (_, i) => makeBenchPair(tag, i));
  const queueRedis = new Redis(target.redisUrl, { maxRetriesPerRequest: null });
  const workerRedis = new Redis(target.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(config.queueName, { connection: queueRedis });
  const providers = providersFromConfig(config);
  let worker: Worker | undefined;
  try {
    await fillPausedQueue(queue, pairs);
    worker = new Worker(config.queueName, (job: Job) => placeWire(job.data, providers, probe), pairWorkerOptions(config, workerRedis));
    await worker.waitUntilReady();
    probe.take();
    probe.start();
    const waiter = completions(worker, target.count, (value) => (value === 'hedged' ? null : `with ${JSON.stringify(value)} instead of hedged`));
    const timing = await timeDrain(queue, queueRedis, target, waiter.done.finally(() => waiter.detach()));
    const { legWindowsMs, decisionsMs } = probe.take();
    if (legWindowsMs.length !== target.count || decisionsMs.length !== target.count) {
      throw new Error(`wire round: ${legWindowsMs.length} leg windows and ${decisionsMs.length} decision latencies for ${target.count} pairs`);
    }
    return result('wire', target, timing, legWindowsMs, decisionsMs);
  } finally {
    probe.stop();
    await worker?.close();
    await closeProviders(providers);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    queueRedis.disconnect();
    workerRedis.disconnect();
  }
}

/** One wire-floor job: validate, place the positive, then the hedge; 'hedged' when both were accepted. */
async function placeWire(raw: unknown, providers: ReadonlyMap<string, Provider>, probe: LegWindowRecorder): Promise<string> {
  const arbId = typeof raw === 'object' && raw !== null ? (raw as { arbId?: unknown }).arbId : undefined;
  if (typeof arbId === 'string') probe.jobTaken(arbId);
  const parsed = parseBetPair(raw);
  if (!parsed.ok) return `invalid: ${parsed.errors.join('; ')}`;
  const pair = parsed.pair;
  const nowMs = Date.now();
  const place = (placement: Placement) => {
    const leg = pair[placement.role];
    const provider = providers.get(leg.provider);
    if (!provider) throw new Error(`no provider ${leg.provider}`);
    return provider.place({
      clientRef: placement.clientRef, accountId: leg.accountId, eventId: leg.eventId, market: leg.market, selection: leg.selection,
      oddsMilli: placement.oddsMilli, stakeMinor: placement.stakeMinor, currency: pair.currency,
    });
  };
  const positive = await place(newPlacement(pair, 'positive', 1, pair.positive.stakeMinor, pair.positive.oddsMilli, nowMs));
  if (positive.kind !== 'accepted') return `positive ${positive.kind}`;
  probe.answerParsed(pair.arbId, 'positive');
  const hedgePlacement = newPlacement(pair, 'hedge', 1, pair.hedge.stakeMinor, pair.hedge.oddsMilli, nowMs);
  probe.requestSent(pair.arbId, 'hedge');
  const hedge = await place(hedgePlacement);
  return hedge.kind === 'accepted' ? 'hedged' : `hedge ${hedge.kind}`;
}

/** undici publishes each request on this channel once its headers and body are written to the socket. */
const bodySentChannel = 'undici:request:bodySent';
/** The positive's client reference (`be1.{arbId}.p1`) in a POST /bets body, found without parsing the JSON. */
const positiveRefPattern = /"clientRef":"be1\.([A-Za-z0-9_-]{1,64})\.p1"/;

interface UndiciRequestLike {
  method?: unknown;
  path?: unknown;
  body?: unknown;
}

/**
 * Times, per pair and with performance.now():
 * - the leg window: the positive's answer parsed → the first hedge request handed to the provider;
 * - the decision latency: the job taken by the worker's processor → the positive request written to the socket
 *   (undici's `undici:request:bodySent` diagnostics channel, published after the body's socket.write).
 */
export class LegWindowRecorder implements LegWindowProbe {
  private positiveAnsweredAtMs = new Map<string, number>();
  private jobTakenAtMs = new Map<string, number>();
  private samplesMs: number[] = [];
  private decisionSamplesMs: number[] = [];
  private readonly onBodySent = (message: unknown): void => {
    const request = (message as { request?: UndiciRequestLike }).request;
    if (request?.method !== 'POST' || typeof request.path !== 'string' || !request.path.endsWith('/bets')) return;
    if (!Buffer.isBuffer(request.body)) return;
    const arbId = positiveRefPattern.exec(request.body.toString('latin1'))?.[1];
    if (arbId === undefined) return;
    const takenAtMs = this.jobTakenAtMs.get(arbId);
    if (takenAtMs === undefined) return;
    this.decisionSamplesMs.push(performance.now() - takenAtMs);
    this.jobTakenAtMs.delete(arbId);
  };

  /** Listens to undici's channel (the decision latency's end) until stop(). */
  start(): void {
    subscribe(bodySentChannel, this.onBodySent);
  }

  stop(): void {
    unsubscribe(bodySentChannel, this.onBodySent);
  }

  jobTaken(arbId: string): void {
    // A job run again (a retry) keeps its first time: the decision latency is the job's, not the attempt's.
    if (!this.jobTakenAtMs.has(arbId)) this.jobTakenAtMs.set(arbId, performance.now());
  }

  answerParsed(arbId: string, role: LegRole): void {
    if (role === 'positive') this.positiveAnsweredAtMs.set(arbId, performance.now());
  }

  requestSent(arbId: string, role: LegRole): void {
    if (role !== 'hedge') return;
    const answeredAtMs = this.positiveAnsweredAtMs.get(arbId);
    if (answeredAtMs === undefined) return;
    this.samplesMs.push(performance.now() - answeredAtMs);
    this.positiveAnsweredAtMs.delete(arbId);
  }

  take(): { legWindowsMs: number[]; decisionsMs: number[] } {
    const taken = { legWindowsMs: this.samplesMs, decisionsMs: this.decisionSamplesMs };
    this.samplesMs = [];
    this.decisionSamplesMs = [];
    this.positiveAnsweredAtMs = new Map();
    this.jobTakenAtMs = new Map();
    return taken;
  }
}

export function outcomeProblem(value: unknown): string | null {
  const outcome = typeof value === 'object' && value !== null ? (value as { outcome?: unknown }).outcome : undefined;
  return outcome === 'hedged' ? null : `with outcome ${JSON.stringify(outcome ?? value)} instead of hedged (arb_executed)`;
}

/** The real executor (startWorker, no recovery sweep, silent log) over loopback HTTP to the two sims. */
export async function executorRound(target: RoundTarget, probe: LegWindowRecorder): Promise<RoundResult> {
  const config = benchConfig(target, freshTag('bench-pairs-'), target.configOverrides);
  const tag = freshTag('x');
  const pairs = Array.from({ length: target.count }, (_, i) => makeBenchPair(tag, i));
  const queueRedis = new Redis(target.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(config.queueName, { connection: queueRedis });
  let running: Awaited<ReturnType<typeof startInProcessWorker>> | undefined;
  try {
    const fromId = await lastStreamId(queueRedis);
    await fillPausedQueue(queue, pairs);
    running = await startInProcessWorker({ config, redisUrl: target.redisUrl, log: pino({ level: 'silent' }), probe, recoverySweep: false });
    probe.take();
    probe.start();
    const waiter = completions(running.worker, target.count, outcomeProblem);
    const timing = await timeDrain(queue, queueRedis, target, waiter.done.finally(() => waiter.detach()));
    const { legWindowsMs, decisionsMs } = probe.take();
    await verifyExecuted(queueRedis, fromId, pairs, legWindowsMs.length, decisionsMs.length);
    return result('executor', target, timing, legWindowsMs, decisionsMs);
  } finally {
    probe.stop();
    await running?.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    queueRedis.disconnect();
  }
}

async function lastStreamId(redis: Redis): Promise<string> {
  const last = await redis.xrevrange(eventsStream, '+', '-', 'COUNT', 1);
  return last[0]?.[0] ?? '0-0';
}

function streamFields(fields: readonly string[]): { type: string; data: { arbId?: unknown } } {
  let type = '';
  let data: { arbId?: unknown } = {};
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'type') type = fields[i + 1] ?? '';
    if (fields[i] === 'data') data = JSON.parse(fields[i + 1] ?? '{}') as { arbId?: unknown };
  }
  return { type, data };
}

/** Every pair of the round must have ended arb_executed, and nothing else: a bench that timed failures is worthless. */
async function verifyExecuted(redis: Redis, fromId: string, pairs: readonly BetPairJob[], legWindows: number, decisions: number): Promise<void> {
  const wanted = new Set(pairs.map((p) => p.arbId));
  const executed = new Set<string>();
  const unexpected = new Map<string, number>();
  let cursor = `(${fromId}`;
  for (;;) {
    const page = await redis.xrange(eventsStream, cursor, '+', 'COUNT', 5_000);
    for (const [id, fields] of page) {
      cursor = `(${id}`;
      const { type, data } = streamFields(fields);
      if (typeof data.arbId !== 'string' || !wanted.has(data.arbId)) continue;
      if (type === 'arb_executed') executed.add(data.arbId);
      else if (type !== 'bet_accepted') unexpected.set(type, (unexpected.get(type) ?? 0) + 1);
    }
    if (page.length < 5_000) break;
  }
  const problems: string[] = [];
  if (executed.size !== wanted.size) problems.push(`${executed.size} of ${wanted.size} pairs reported arb_executed`);
  if (unexpected.size > 0) problems.push(`unexpected events: ${JSON.stringify(Object.fromEntries(unexpected))}`);
  if (legWindows !== wanted.size) problems.push(`${legWindows} leg windows recorded for ${wanted.size} pairs`);
  if (decisions !== wanted.size) problems.push(`${decisions} decision latencies recorded for ${wanted.size} pairs`);
  if (problems.length > 0) throw new Error(`executor round did not execute every pair: ${problems.join('; ')}`);
}
