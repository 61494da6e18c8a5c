// The worker process shell: a BullMQ worker on `bet-pairs`, the settlement poller, the recovery sweeps, heartbeat, metrics and clean shutdown.
import { DelayedError, Queue, UnrecoverableError, Worker, type Job, type WorkerOptions as BullWorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { bullKeepJobs, type Config } from '../config.js';
import { instanceName } from '../infra/instance.js';
import { instrumentProviders } from '../metrics/instrumented-provider.js';
import { createWorkerMetrics, withLegWindowProbe, withSettlementProbe, type WorkerMetrics } from '../metrics/worker.js';
import type { Provider } from '../providers/provider.js';
import { measuredProviders } from '../providers/measured.js';
import { CircuitStore } from '../store/circuit.js';
import { createRedis } from '../store/connection.js';
import { WorkerHeartbeat } from '../store/heartbeat.js';
import { keys } from '../store/keys.js';
import { PlacementStatsBuffer, StatsStore } from '../store/stats.js';
import { FencedError, Store, storeRedisOptions } from '../store/store.js';
import { processPoll, type SettlementProbe } from '../settlement/poller.js';
import { BullSettlementScheduler, type PollJobData } from '../settlement/scheduler.js';
import { sweepSettlement } from '../settlement/sweep.js';
import { AccountPoller, batchPortsOf, schedulePolicyOf } from '../settlement/account-poller.js';
import { AccountSettlementStore } from '../settlement/account-store.js';
import { clockFromEnv, type Clock } from '../executor/clock.js';
import { startCircuitBreakers, type CircuitBreakers } from '../executor/circuits.js';
import { crashHookFromEnv } from '../executor/crash.js';
import { testDefectsFromEnv } from '../executor/defects.js';
import { executeJob, rejectUnreadable, resumePair, type JobResult } from '../executor/execute.js';
import { loggedProviders } from '../executor/logged-provider.js';
import { GuardedWorker, UnreadableJobData } from '../executor/raw-job.js';
import type { ExecutorDeps, LegWindowProbe } from '../executor/run.js';

export interface WorkerOptions {
  config: Config;
  redisUrl: string;
  providers: Map<string, Provider>;
  log: Logger;
  probe?: LegWindowProbe;
  settlementProbe?: SettlementProbe;
  /** The worker's clocks (tests step the wall clock); the system's, or the SIGUSR2 test hook, by default. */
  clock?: Clock;
  /** Off in tests that want to see a crashed pair stay put; on in production. */
  recoverySweep?: boolean;
  /** This process's heartbeat (see WorkerHeartbeat in src/store/heartbeat.ts); defaults below. */
  heartbeat?: Partial<HeartbeatOptions>;
}

export interface HeartbeatOptions {
  /** Names the key bet-executor:worker:heartbeat:{workerId}; default host, pid and a random suffix. */
  workerId: string;
  intervalMs: number;
  /** TTL of the key: a few intervals, so one late refresh does not look like a dead worker. */
  ttlMs: number;
}

export const heartbeatIntervalMsDefault = 5_000;
export const heartbeatTtlMsDefault = 15_000;

export interface RunningWorker {
  worker: Worker;
  poller: Worker<PollJobData>;
  /** The per-account settlement poller, when a provider is configured with settlementBatch. */
  accountPoller: AccountPoller | undefined;
  deps: ExecutorDeps;
  /** The circuit breakers' reporter and prober (src/executor/circuits.ts). */
  circuits: CircuitBreakers;
  /** The worker's registry and, when metricsPort is set, the /metrics URL. */
  metrics: WorkerMetrics;
  close(): Promise<void>;
}

const sweepBatchMax = 100;
/** Placement statistics are written at most this often (one MULTI for every call since the last write). */
const placementStatsFlushMs = 250;

export const resumeJobName = 'resume';

/** BullMQ options of the bet-pairs worker (the benchmark's no-op baseline uses the very same). */
export function pairWorkerOptions(config: Config, connection: Redis): BullWorkerOptions {
  return {
    connection,
    concurrency: config.concurrency,
    lockDuration: config.jobLockMs,
    stalledInterval: config.stalledCheckMs,
    maxStalledCount: config.stalledCountMax,
    removeOnComplete: bullKeepJobs(config.jobRetention.completed),
    removeOnFail: bullKeepJobs(config.jobRetention.failed),
  };
}

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { config, log } = options;
  const storeRedis = createRedis(options.redisUrl, storeRedisOptions());
  const queueRedis = createRedis(options.redisUrl, { maxRetriesPerRequest: null });
  storeRedis.on('error', (error) => log.warn({ err: error }, 'redis (store) connection error'));
  queueRedis.on('error', (error) => log.warn({ err: error }, 'redis (queue) connection error'));
  // Bookmakers with batched status are polled per account (one loop, src/settlement/account-poller.ts).
  const batchPorts = batchPortsOf(config, options.providers);
  const accountStore = new AccountSettlementStore(storeRedis);
  const settlement = BullSettlementScheduler.fromConfig(queueRedis, config, batchPorts.size === 0 ? null : {
    store: accountStore, batchProviders: new Set(batchPorts.keys()), policy: schedulePolicyOf(config),
  });
  const metrics = createWorkerMetrics(config);
  const settlementProbe = withSettlementProbe(metrics.recorder, options.settlementProbe);
  // Placement counts and latencies per provider for the operations API (written after each answer, never awaited),
  // and the heartbeat. Both define their scripts now, before the store's client is in use.
  const stats = new StatsStore(storeRedis);
  const circuitStore = new CircuitStore(storeRedis, config.eventsStreamLenMax);
  const workerId = options.heartbeat?.workerId ?? instanceName();
  const heartbeatWriter = new WorkerHeartbeat(storeRedis, {
    workerId,
    intervalMs: options.heartbeat?.intervalMs ?? heartbeatIntervalMsDefault,
    ttlMs: options.heartbeat?.ttlMs ?? heartbeatTtlMsDefault,
    onError: (error) => log.warn({ err: error }, 'worker heartbeat not written'),
  });
  const placementStats = new PlacementStatsBuffer(stats, placementStatsFlushMs, (error) => log.debug({ err: error }, 'placement statistics not recorded'));
  const counted = measuredProviders(loggedProviders(options.providers, log), {
    placement: (provider, outcome, latencyMs, atMs) => placementStats.record(provider, outcome, latencyMs, atMs),
  });
  // Every bookmaker answer also counts toward its circuit (in memory; reported every reportIntervalMs).
  const circuits = startCircuitBreakers({ config, store: circuitStore, providers: instrumentProviders(counted, metrics.recorder), log });
  const deps: ExecutorDeps = {
    config,
    store: new Store(storeRedis, config.eventsStreamLenMax),
    providers: circuits.providers,
    clock: options.clock ?? clockFromEnv(process.env, (offsetMs) => log.warn({ offsetMs }, 'test hook: wall clock stepped')),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    settlement,
    probe: withLegWindowProbe(metrics.recorder, options.probe),
    metrics: metrics.recorder,
    crashPoint: crashHookFromEnv(),
    defects: testDefectsFromEnv(),
    log,
  };
  const queue = new Queue(config.queueName, { connection: queueRedis });
  const workerRedis = createRedis(options.redisUrl, { maxRetriesPerRequest: null });
  workerRedis.on('error', (error) => log.warn({ err: error }, 'redis (worker) connection error'));
  if (deps.defects && deps.defects.size > 0) log.error({ defects: [...deps.defects] }, 'TEST DEFECTS ON: this worker is deliberately unsafe (BET_EXECUTOR_TEST_DEFECT); never use it with real money');
  log.info({ heartbeatKey: heartbeatWriter.key }, 'worker heartbeat');
  const heartbeat = heartbeatWriter.start();
  // Named as its heartbeat: a job's processedBy says which worker took it.
  // Guarded: data that is not JSON or too large reaches processJob as UnreadableJobData (see raw-job.ts).
  const worker = new GuardedWorker(config.queueName, (job, token) => processJob(deps, job, token), { ...pairWorkerOptions(config, workerRedis), name: workerId }, config.jobDataBytesMax);
  worker.on('error', (error) => log.warn({ err: error }, 'bullmq worker error'));
  const pollerRedis = createRedis(options.redisUrl, { maxRetriesPerRequest: null });
  pollerRedis.on('error', (error) => log.warn({ err: error }, 'redis (poller) connection error'));
  const poller = new Worker<PollJobData>(config.settlementQueueName, async (job, token) => {
    try {
      return await processPoll(deps, job, token, settlementProbe);
    } catch (error) {
      if (error instanceof DelayedError) throw error;
      // A poll that met a Redis or bookmaker error is tried again later, never dropped.
      log.error({ jobId: job.id, err: error }, 'settlement poll interrupted; it will be retried');
      await retryLater(deps, job, token);
      throw error;
    }
  }, {
    connection: pollerRedis,
    concurrency: config.settlementConcurrency,
    lockDuration: config.jobLockMs,
    stalledInterval: config.stalledCheckMs,
    maxStalledCount: config.stalledCountMax,
    removeOnComplete: bullKeepJobs(config.jobRetention.completed),
    removeOnFail: bullKeepJobs(config.jobRetention.failed),
  });
  poller.on('error', (error) => log.warn({ err: error }, 'bullmq settlement worker error'));
  const accountPoller = batchPorts.size === 0 ? undefined : new AccountPoller({ deps, store: accountStore, ports: batchPorts, probe: settlementProbe });
  accountPoller?.start();
  const sweep = options.recoverySweep === false ? undefined : setInterval(() => {
    sweepOpenPairs(deps, queue).catch((error: unknown) => log.warn({ err: error }, 'recovery sweep failed'));
  }, config.lockTtlMs);
  sweep?.unref();
  const settlementSweep = options.recoverySweep === false ? undefined : setInterval(() => {
    sweepSettlement(deps, settlement.queue, settlement).catch((error: unknown) => log.warn({ err: error }, 'settlement sweep failed'));
  }, config.settlementSweepMs);
  settlementSweep?.unref();
  await Promise.all([worker.waitUntilReady(), poller.waitUntilReady()]);
  const running: RunningWorker = {
    worker,
    poller,
    accountPoller,
    deps,
    circuits,
    metrics,
    async close() {
      if (sweep) clearInterval(sweep);
      if (settlementSweep) clearInterval(settlementSweep);
      await metrics.close();
      await worker.close();
      await accountPoller?.stop();
      await poller.close();
      await circuits.stop();
      // Alive until its in-flight pairs are done; then gone at once rather than after the key's TTL.
      await heartbeat.stop();
      await placementStats.flush();
      await queue.close();
      await settlement.close();
      storeRedis.disconnect();
      queueRedis.disconnect();
      workerRedis.disconnect();
      pollerRedis.disconnect();
    },
  };
  try {
    await metrics.serve({ redis: storeRedis, queues: [queue, settlement.queue], log });
  } catch (error) {
    await running.close();
    throw error;
  }
  return running;
}

async function processJob(deps: ExecutorDeps, job: Job, token: string | undefined): Promise<JobResult | { outcome: 'fenced' }> {
  if (deps.probe?.jobTaken) {
    const arbId = (job.data as { arbId?: unknown } | null)?.arbId;
    if (typeof arbId === 'string') deps.probe.jobTaken(arbId);
  }
  const jobId = job.id ?? 'unknown';
  // The retention is ours, whatever the producer asked (a scanner's removeOnComplete: false would keep every
  // job for ever): BullMQ reads these options from the job when it finishes it.
  job.opts.removeOnComplete = bullKeepJobs(deps.config.jobRetention.completed);
  job.opts.removeOnFail = bullKeepJobs(deps.config.jobRetention.failed);
  if (job.data instanceof UnreadableJobData) {
    // Refused once and failed as unrecoverable: to the failed set with the reason, never delivered again.
    // (A Redis error while announcing it throws first, and the job is retried like any other.)
    const data = job.data;
    await rejectUnreadable(deps, jobId, data).catch(async (error: unknown) => {
      deps.log.error({ jobId, err: error }, 'job interrupted; it will be retried');
      await retryLater(deps, job, token);
      throw error;
    });
    // The failed set keeps a stub, not the junk (possibly megabytes) that was refused.
    await job.updateData({ refused: data.reason, dataBytes: data.dataBytes, arbId: data.arbId } as never).catch((error: unknown) => {
      deps.log.warn({ jobId, err: error }, 'refused job data not replaced by its stub; it goes with the failed job');
    });
    throw new UnrecoverableError(`${data.reason}: ${data.error}`);
  }
  let result: JobResult;
  try {
    result = job.name === resumeJobName
      ? await resumePair(deps, String((job.data as { arbId?: unknown }).arbId), jobId)
      : await executeJob(deps, { id: jobId, data: job.data, timestampMs: job.timestamp });
  } catch (error) {
    if (error instanceof FencedError) {
      // Another worker holds the pair now (this one was too slow or frozen); it finishes the pair.
      deps.log.warn({ jobId, err: error }, 'fenced out of a pair; leaving it to the lease holder');
      return { outcome: 'fenced' };
    }
    // Redis or another infrastructure error: nothing more was placed (every placement is journaled
    // first). Try the job again later; the journal resumes it exactly where it stopped.
    deps.log.error({ jobId, err: error }, 'job interrupted; it will be retried from the journal');
    await retryLater(deps, job, token);
    throw error;
  }
  if (result.outcome === 'busy') await retryLater(deps, job, token);
  return result;
}

/**
 * Hands the job back to run again later, never to BullMQ's failed set (a failed job is a lost pair when
 * it has no journal yet). When Redis cannot even take the delay, the job keeps this worker's lock until
 * the lock lapses, and BullMQ's stalled-job check puts it back in the queue.
 */
async function retryLater<T>(deps: ExecutorDeps, job: Job<T>, token: string | undefined): Promise<never | void> {
  if (!token) return;
  try {
    await job.moveToDelayed(Date.now() + deps.config.retryDelayMs, token);
  } catch (error) {
    deps.log.error({ jobId: job.id, err: error }, 'could not delay the job; it will come back as a stalled job');
  }
  throw new DelayedError();
}

/** Finds pairs left unfinished with no lease (a worker died and its job is gone) and queues their resumption. */
export async function sweepOpenPairs(deps: ExecutorDeps, queue: Queue): Promise<number> {
  const olderThanMs = deps.clock.nowMs() - 2 * deps.config.lockTtlMs;
  const arbIds = await deps.store.openPairsBefore(olderThanMs, sweepBatchMax);
  let queued = 0;
  for (const arbId of arbIds) {
    if ((await deps.store.redis.exists(keys.lease(arbId))) === 1) continue;
    const loaded = await deps.store.loadPair(arbId);
    if (!loaded) {
      await deps.store.closeOpen(arbId);
      continue;
    }
    const jobId = `resume-${arbId}-${loaded.rev}`;
    // A finished resume job of this revision (one fenced out before it wrote anything: a stall, a failover)
    // would make this add a no-op while BullMQ keeps it, and the pair would stay open for ever: remove it first.
    const previous = await queue.getJob(jobId);
    if (previous && ((await previous.isCompleted()) || (await previous.isFailed()))) await previous.remove();
    await queue.add(resumeJobName, { arbId }, { jobId, removeOnComplete: bullKeepJobs(deps.config.jobRetention.completed), removeOnFail: bullKeepJobs(deps.config.jobRetention.failed) });
    queued++;
  }
  return queued;
}
