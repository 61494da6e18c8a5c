// The audit's private world, built from the rig (src/rig: the Redis, the two simulated bookmakers, worker processes,
// the event feed) plus an alerter with a local receiver; worker processes of the executor under test are grouped by
// queue so that scenarios that kill or freeze workers do not disturb each other. Everything is read back from
// sources that do not trust the executor.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startLocalAlerter, type LocalAlerter } from '../alerter/local.js';
import { parseConfig, type Config } from '../config.js';
import { freePort, type PrivateRedis } from '../infra/redis-server.js';
import { startBooks } from '../rig/books.js';
import { EventFeed, waitFor, type StreamRow } from '../rig/events.js';
import { startRedisTopology } from '../rig/redis.js';
import { spawnWorkerProcess } from '../rig/workers.js';
import type { SimServer } from '../sim/server.js';
import { auditStream, keys } from '../store/keys.js';

export type ExecutorKind = 'ours' | 'naive';
export type { StreamRow };

export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Timings the audit always shortens (they decide how long a scenario waits, not what is safe). Everything
 * else, the cooldown, the exposure TTL, the rate limit, the hedge and send budgets, the stake and arb limits,
 * is the operator's own value (or the default), so the audit checks what will run.
 */
export const auditTimings = {
  providerTimeoutMs: 300,
  lockTtlMs: 1_000,
  jobLockMs: 1_000,
  stalledCheckMs: 300,
  // Long enough to outlast a worker restart, a freeze past the lease, or a Redis outage of the scenarios: past
  // them a pending or resumed pair is flagged for review instead of finished, which is right but not the subject.
  inDoubtDeadlineMs: 10_000,
  inDoubtPollMs: 20,
  lateCommitGraceMs: 300,
  hedgeDeadlineMs: 15_000,
  hedgeRetryBackoffMs: 10,
  retryDelayMs: 100,
  settlementPollIntervalMs: 50,
  settlementPollCountMax: 40,
  settlementSweepMs: 1_000,
  shutdownTimeoutMs: 3_000,
} as const;

/** Operator config keys the audit replaces or drops (with the reason shown in the report). */
export const replacedKeys = ['providers', 'queueName', 'settlementQueueName', 'metricsPort', 'metricsHost'] as const;

export interface WorkerGroup {
  name: string;
  config: Config;
  queue: Queue;
  procs: ChildProcess[];
  /** Starts one worker process of the executor under test; `env` on top of the audit's own environment. */
  spawn(env?: Record<string, string>): Promise<ChildProcess>;
  /** Waits until `n` workers are registered on the queue. */
  waitForWorkers(n: number, timeoutMs?: number): Promise<void>;
  enqueue(data: unknown, jobId?: string): Promise<string>;
  /** arbIds enqueued on this group's queue. */
  arbIds: Set<string>;
  /** The /metrics URLs of the live processes that serve one (ours only). */
  metricsUrls: Map<ChildProcess, string>;
}

export interface World {
  redis: PrivateRedis;
  admin: Redis;
  bookA: SimServer;
  bookB: SimServer;
  alerter: LocalAlerter | null;
  executor: ExecutorKind;
  dir: string;
  baseRaw: Record<string, unknown>;
  group(name: string, overrides?: Record<string, unknown>, options?: { queueName?: string }): Promise<WorkerGroup>;
  events(): Promise<StreamRow[]>;
  audit(): Promise<StreamRow[]>;
  /** Whether every job enqueued for the arb has finished (completed or failed) in BullMQ: no event will follow it. */
  jobsFinished(arbId: string): Promise<boolean>;
  waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export interface WorldOptions {
  baseRaw: Record<string, unknown>;
  executor: ExecutorKind;
  withAlerter?: boolean;
}

export class WaitTimeout extends Error {}

/** How long worker processes may take to come up: a wait, not a judgment (generous for a loaded machine). */
const workerStartMsMax = 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A stream read incrementally; each read polls after the previous one (concurrent scenarios never read twice). */
function streamReader(redis: Redis, stream?: string): () => Promise<StreamRow[]> {
  const feed = new EventFeed(redis, stream);
  let last: Promise<unknown> = Promise.resolve();
  return async () => {
    const poll = last.then(() => feed.poll());
    last = poll.catch(() => undefined);
    await poll;
    return [...feed.rows];
  };
}

/** The operator's config with the simulators as providers, the audit's short timings and the group's queues. */
export function auditConfig(baseRaw: Record<string, unknown>, books: { bookA: string; bookB: string }, overrides: Record<string, unknown>): Config {
  const raw: Record<string, unknown> = { ...baseRaw };
  for (const key of replacedKeys) delete raw[key];
  return parseConfig({
    ...raw,
    ...auditTimings,
    providers: { bookA: { url: books.bookA }, bookB: { url: books.bookB } },
    ...overrides,
  });
}

/**
 * A group that does not set its own circuitBreaker reports no outcomes (`enabled: false`; the rest of the
 * operator's breaker settings kept): circuits are shared per bookmaker through Redis, and the deliberate 500s,
 * timeouts and lost answers of the other scenarios, bunched on a loaded machine, are not a sick bookmaker; they
 * opened bookA's circuit and blocked unrelated items `circuit_open`. The circuit scenario's group sets its own
 * (on bookmakers of its own), and the operator's setting is judged from their config
 * (recommendation.circuit-breaker).
 */
function quietCircuits(baseRaw: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  if (overrides.circuitBreaker !== undefined) return {};
  const operator = typeof baseRaw.circuitBreaker === 'object' && baseRaw.circuitBreaker !== null ? baseRaw.circuitBreaker : {};
  return { circuitBreaker: { ...operator, enabled: false } };
}

export async function startWorld(options: WorldOptions): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'bet-executor-audit-'));
  const topology = await startRedisTopology({ kind: 'single', hz: 50 });
  const redis = topology.primary as PrivateRedis;
  const admin = new Redis(redis.url);
  const { bookA, bookB, close: closeBooks } = await startBooks({ seed: 1, settleAfterMs: null, bookB: { seed: 2 } });
  const alerter = options.withAlerter === false ? null : await startLocalAlerter({ redisUrl: redis.url, dir, consumerGroup: 'audit-alerter', log: pino({ level: 'silent' }) });
  const groups: WorkerGroup[] = [];
  const jobsByArb = new Map<string, Array<{ queue: Queue; id: string }>>();
  const queueConnections: Redis[] = [];
  let closed = false;

  const world: World = {
    redis, admin, bookA, bookB, alerter, dir, executor: options.executor, baseRaw: options.baseRaw,
    async group(name, overrides = {}, groupOptions = {}) {
      const queueName = groupOptions.queueName ?? `audit-${name}`;
      const config = auditConfig(options.baseRaw, { bookA: bookA.url, bookB: bookB.url }, { queueName, settlementQueueName: `${queueName}-settle`, ...quietCircuits(options.baseRaw, overrides), ...overrides });
      const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
      queueConnections.push(connection);
      const queue = new Queue(config.queueName, { connection });
      const group: WorkerGroup = {
        name, config, queue, procs: [], metricsUrls: new Map(), arbIds: new Set(),
        async spawn(env = {}) {
          const port = await freePort();
          const configFile = join(dir, `${name}-${group.procs.length}.json`);
          writeFileSync(configFile, JSON.stringify({ ...config, metricsPort: port }));
          const logFd = openSync(join(dir, `${name}-${group.procs.length}.log`), 'a');
          const child = spawnWorkerProcess({
            configFile, cwd: packageRoot, env: { ...topology.env, ...env }, stdio: ['ignore', logFd, logFd],
            ...(options.executor === 'ours'
              ? { script: [join(packageRoot, 'bin/bet-executor.mjs'), 'worker', '--config', configFile] }
              : { nodeArgs: ['--import', 'tsx'], script: [join(packageRoot, 'bench/naive-worker-process.ts'), '--config', configFile] }),
          });
          closeSync(logFd);
          group.procs.push(child);
          if (options.executor === 'ours') group.metricsUrls.set(child, `http://127.0.0.1:${port}/metrics`);
          return child;
        },
        async waitForWorkers(n, timeoutMs = workerStartMsMax) {
          await world.waitFor(`${n} worker(s) on ${queueName}`, async () => (await queue.getWorkers()).length >= n, timeoutMs);
        },
        async enqueue(data, jobId) {
          const arbId = (data as { arbId?: unknown }).arbId;
          if (typeof arbId === 'string') group.arbIds.add(arbId);
          const job = await queue.add('bet-pair', data, jobId ? { jobId } : {});
          if (typeof arbId === 'string' && job.id) jobsByArb.set(arbId, [...(jobsByArb.get(arbId) ?? []), { queue, id: job.id }]);
          return job.id ?? '';
        },
      };
      groups.push(group);
      return group;
    },
    events: streamReader(admin),
    audit: streamReader(admin, auditStream),
    async jobsFinished(arbId) {
      const jobs = jobsByArb.get(arbId) ?? [];
      if (jobs.length === 0) return false;
      const states = await Promise.all(jobs.map((j) => j.queue.getJobState(j.id)));
      if (!states.every((state) => state === 'completed' || state === 'failed')) return false;
      // A job can end while its pair goes on (fenced out under load, the pair resumed by the recovery sweep under a
      // job of the executor's own): a pair still open in the journal, or leased, is not over. The naive executor
      // writes neither, so for it the jobs alone decide.
      const [open, leased] = await Promise.all([admin.zscore(keys.openPairs, arbId), admin.exists(keys.lease(arbId))]);
      return open === null && leased === 0;
    },
    async waitFor(what, probe, timeoutMs = 15_000) {
      return waitFor(what, async () => {
        if (closed) throw new WaitTimeout(`world closed while waiting for ${what}`);
        return probe();
      }, timeoutMs, 25) as never;
    },
    async close() {
      closed = true;
      const exits: Array<Promise<unknown>> = [];
      for (const group of groups) {
        for (const child of group.procs) {
          if (child.exitCode === null && child.signalCode === null) {
            exits.push(once(child, 'exit'));
            child.kill('SIGKILL');
          }
        }
      }
      await Promise.all(exits);
      await Promise.all(groups.map((g) => g.queue.close().catch(() => undefined)));
      await Promise.all(queueConnections.map((connection) => connection.quit().catch(() => connection.disconnect())));
      await alerter?.close().catch(() => undefined);
      await closeBooks();
      await admin.quit().catch(() => admin.disconnect());
      await topology.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Waits for a child process to exit; resolves its signal or code. */
export async function exitOf(child: ChildProcess, timeoutMs: number): Promise<string> {
  if (child.exitCode !== null || child.signalCode !== null) return child.signalCode ?? `code ${child.exitCode}`;
  const timer = sleep(timeoutMs).then(() => 'still running');
  const exited = once(child, 'exit').then(([code, signal]) => (signal as string | null) ?? `code ${code as number}`);
  return Promise.race([exited, timer]);
}
