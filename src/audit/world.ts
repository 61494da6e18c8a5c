// The audit's private world: a redis-server, two simulated bookmakers, an alerter with a local receiver, and
// worker processes of the executor under test, grouped by queue so that scenarios that kill or freeze
// workers do not disturb each other. Everything is read back from sources that do not trust the executor.
import { spawn, type ChildProcess } from 'node:child_process';
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
import { freePort, startPrivateRedis, type PrivateRedis } from '../infra/redis-server.js';
import { startSimServer, type SimServer } from '../sim/server.js';
import { auditStream, eventsStream } from '../store/keys.js';
import { readStream } from '../store/store.js';

export type ExecutorKind = 'ours' | 'naive';
export type StreamRow = { id: string; type: string; data: Record<string, unknown> };

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
  redis?: PrivateRedis;
  withAlerter?: boolean;
}

export class WaitTimeout extends Error {}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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

export async function startWorld(options: WorldOptions): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'bet-executor-audit-'));
  const redis = options.redis ?? await startPrivateRedis({ hz: 50 });
  const admin = new Redis(redis.url);
  const bookA = await startSimServer({ seed: 1, name: 'bookA', settleAfterMs: null });
  const bookB = await startSimServer({ seed: 2, name: 'bookB', settleAfterMs: null });
  const alerter = options.withAlerter === false ? null : await startLocalAlerter({ redisUrl: redis.url, dir, consumerGroup: 'audit-alerter', log: pino({ level: 'silent' }) });
  const groups: WorkerGroup[] = [];
  const jobsByArb = new Map<string, Array<{ queue: Queue; id: string }>>();
  const queueConnections: Redis[] = [];
  let closed = false;

  const world: World = {
    redis, admin, bookA, bookB, alerter, dir, executor: options.executor, baseRaw: options.baseRaw,
    async group(name, overrides = {}, groupOptions = {}) {
      const queueName = groupOptions.queueName ?? `audit-${name}`;
      const config = auditConfig(options.baseRaw, { bookA: bookA.url, bookB: bookB.url }, { queueName, settlementQueueName: `${queueName}-settle`, ...overrides });
      const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
      queueConnections.push(connection);
      const queue = new Queue(config.queueName, { connection });
      const group: WorkerGroup = {
        name, config, queue, procs: [], metricsUrls: new Map(), arbIds: new Set(),
        async spawn(env = {}) {
          const port = await freePort();
          const configFile = join(dir, `${name}-${group.procs.length}.json`);
          writeFileSync(configFile, JSON.stringify({ ...config, metricsPort: port }));
          const args = options.executor === 'ours'
            ? [join(packageRoot, 'bin/bet-executor.mjs'), 'worker', '--config', configFile]
            : ['--import', 'tsx', join(packageRoot, 'bench/naive-worker-process.ts'), '--config', configFile];
          const logFd = openSync(join(dir, `${name}-${group.procs.length}.log`), 'a');
          const child = spawn(process.execPath, args, {
            cwd: packageRoot,
            env: { ...process.env, REDIS_URL: redis.url, LOG_LEVEL: 'warn', ...env },
            stdio: ['ignore', logFd, logFd],
          });
          closeSync(logFd);
          group.procs.push(child);
          if (options.executor === 'ours') group.metricsUrls.set(child, `http://127.0.0.1:${port}/metrics`);
          return child;
        },
        async waitForWorkers(n, timeoutMs = 20_000) {
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
    events: () => readStream(admin, eventsStream),
    audit: () => readStream(admin, auditStream),
    async jobsFinished(arbId) {
      const jobs = jobsByArb.get(arbId) ?? [];
      if (jobs.length === 0) return false;
      const states = await Promise.all(jobs.map((j) => j.queue.getJobState(j.id)));
      return states.every((state) => state === 'completed' || state === 'failed');
    },
    async waitFor(what, probe, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe();
        if (value !== undefined && value !== null && value !== false) return value as never;
        if (closed) throw new WaitTimeout(`world closed while waiting for ${what}`);
        if (Date.now() > deadline) throw new WaitTimeout(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await sleep(25);
      }
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
      await bookA.close();
      await bookB.close();
      await admin.quit().catch(() => admin.disconnect());
      if (!options.redis) await redis.stop();
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
