// End-to-end test rig: a fresh Redis database, two simulated bookmakers over HTTP, workers, and waits on conditions.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, mkdtempSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { parseConfig, type Config } from '../../src/config.js';
import type { Clock } from '../../src/executor/clock.js';
import type { RunningWorker } from '../../src/app/worker.js';
import { startBooks } from '../../src/rig/books.js';
import { bookmakerSafetyChecks } from '../../src/rig/collect.js';
import { pairFixture, type PairFixture, type PairLegs } from '../../src/rig/pairs.js';
import { waitFor } from '../../src/rig/events.js';
import type { InvariantResult } from '../../src/rig/invariants.js';
import { spawnWorkerProcess, startInProcessWorker, writeConfigFile } from '../../src/rig/workers.js';
import type { SimLogEntry } from '../../src/sim/bookmaker.js';
import type { SimServer, SimServerOptions } from '../../src/sim/server.js';
import { createRedis, redisEnvOf } from '../../src/store/connection.js';
import { auditStream, eventsStream } from '../../src/store/keys.js';
import { readStream } from '../../src/store/store.js';
import { freshRedisUrl } from './redis.js';

export type StreamRow = { id: string; type: string; data: Record<string, unknown> };

/** Fast timings for tests: everything in milliseconds, nothing waits on a long sleep. */
export const fastTimings = {
  cooldownMs: 50,
  // Placement tests leave settlement alone (first poll a minute away); settlement tests set 20 ms.
  settlementPollIntervalMs: 60_000,
  providerTimeoutMs: 200,
  lockTtlMs: 1_000,
  inDoubtDeadlineMs: 1_500,
  inDoubtPollMs: 20,
  // A not_found is trusted this long after a lost answer (the simulator's late commits come sooner).
  lateCommitGraceMs: 300,
  hedgeDeadlineMs: 2_000,
  hedgeRetryBackoffMs: 10,
  jobLockMs: 1_000,
  stalledCheckMs: 300,
  retryDelayMs: 100,
  rateLimit: { placementsMax: 1_000, windowMs: 60_000 },
};

export interface Harness {
  redisUrl: string;
  redis: Redis;
  bookA: SimServer;
  bookB: SimServer;
  config: Config;
  queue: Queue;
  workers: RunningWorker[];
  children: ChildProcess[];
  /** `log`: the worker's logger (silent, or TEST_LOG_LEVEL, by default). */
  startWorker(overrides?: Partial<Config>, options?: { clock?: Clock; log?: Logger }): Promise<RunningWorker>;
  /** A worker as a separate process (`bet-executor worker`), for crash and multi-process tests; `stderrFile` keeps its log. */
  spawnWorker(env?: Record<string, string>, options?: { stderrFile?: string }): ChildProcess;
  enqueue(data: unknown, jobId?: string): Promise<string>;
  events(): Promise<StreamRow[]>;
  audit(): Promise<StreamRow[]>;
  waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs?: number): Promise<T>;
  waitForEvent(arbId: string, types: string[], timeoutMs?: number): Promise<StreamRow>;
  /** The safety checks on both simulators' logs (one accepted bet per client ref and leg, no hedge before its positive). */
  safetyChecks(): InvariantResult[];
  close(): Promise<void>;
}

/** Simulator options for both books, plus per-book extras (keys) and extra provider config (credentials references). */
export interface HarnessSimOptions {
  /** The Redis to use (a rig topology's URL or Sentinel target); default a fresh database of the run's server. */
  redisUrl?: string;
  dedupe?: boolean;
  settleAfterMs?: number | null;
  bookA?: Partial<SimServerOptions>;
  bookB?: Partial<SimServerOptions>;
  providers?: { bookA?: Record<string, unknown>; bookB?: Record<string, unknown> };
}

export async function createHarness(overrides: Record<string, unknown> = {}, sim: HarnessSimOptions = {}): Promise<Harness> {
  const redisUrl = sim.redisUrl ?? await freshRedisUrl();
  const redis = createRedis(redisUrl);
  redis.on('error', () => undefined); // a failover test kills the primary under it; commands still fail loudly
  const books = await startBooks({ seed: 1, settleAfterMs: sim.settleAfterMs ?? null, ...(sim.dedupe === false ? { dedupe: false } : {}), ...(sim.bookA ? { bookA: sim.bookA } : {}), ...(sim.bookB ? { bookB: sim.bookB } : {}) });
  const { bookA, bookB } = books;
  const config = parseConfig({
    providers: { bookA: { url: bookA.url, ...sim.providers?.bookA }, bookB: { url: bookB.url, ...sim.providers?.bookB } },
    concurrency: 8,
    ...fastTimings,
    ...overrides,
  });
  const queueRedis = createRedis(redisUrl, { maxRetriesPerRequest: null });
  queueRedis.on('error', () => undefined);
  const queue = new Queue(config.queueName, { connection: queueRedis });
  const workers: RunningWorker[] = [];
  const children: ChildProcess[] = [];
  const configFile = writeConfigFile(mkdtempSync(join(tmpdir(), 'bet-executor-test-')), config);

  const harness: Harness = {
    redisUrl, redis, bookA, bookB, config, queue, workers, children,
    async startWorker(workerOverrides = {}, options = {}) {
      const workerConfig = parseConfig({ ...config, ...workerOverrides });
      const running = await startInProcessWorker({
        ...options,
        config: workerConfig,
        redisUrl,
        log: options.log ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      });
      workers.push(running);
      return running;
    },
    spawnWorker(env = {}, options = {}) {
      const stderr = options.stderrFile ? openSync(options.stderrFile, 'a') : process.env.TEST_LOG_LEVEL ? 'inherit' : 'ignore';
      const child = spawnWorkerProcess({ configFile, env: { ...redisEnvOf(redisUrl), LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn', ...env }, stdio: ['ignore', 'ignore', stderr] });
      if (typeof stderr === 'number') closeSync(stderr); // the child holds its own copy
      children.push(child);
      return child;
    },
    async enqueue(data, jobId) {
      const job = await queue.add('bet-pair', data, jobId ? { jobId } : {});
      return job.id ?? '';
    },
    events: () => readStream(redis, eventsStream),
    audit: () => readStream(redis, auditStream),
    waitFor: (what, probe, timeoutMs) => waitFor(what, probe, timeoutMs),
    async waitForEvent(arbId, types, timeoutMs) {
      return harness.waitFor(`${types.join('|')} for ${arbId}`, async () => (await harness.events()).find((e) => e.data.arbId === arbId && types.includes(e.type)), timeoutMs);
    },
    safetyChecks: () => bookmakerSafetyChecks(books.all),
    async close() {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.close()));
      await queue.close();
      queueRedis.disconnect();
      await books.close();
      redis.disconnect();
    },
  };
  return harness;
}

let counter = 0;

/** Enqueues a pair and waits for its first outcome, which must be arb_executed (the start of most settlement tests). */
export async function executed(h: Harness, pair: { arbId: string }, timeoutMs = 20_000): Promise<void> {
  await h.enqueue(pair);
  const end = await h.waitForEvent(pair.arbId, ['arb_executed', 'exposure_alert', 'arb_failed', 'arb_blocked'], timeoutMs);
  assert.equal(end.type, 'arb_executed', JSON.stringify(end.data));
}

/** A valid bet pair on two fresh accounts of bookA/bookB (no cooldown shared unless asked); override any field. */
export function makePair(overrides: Record<string, unknown> = {}, legs: PairLegs = {}): PairFixture {
  counter++;
  return pairFixture(`${randomUUID().slice(0, 8)}-${counter}`, legs, overrides);
}

export function eventsFor(events: StreamRow[], arbId: string): StreamRow[] {
  return events.filter((e) => e.data.arbId === arbId);
}

/**
 * A pair resumed after its worker died ends executed and closed (its settlement scheduled), with the safety checks
 * clean and each leg sent under its first reference only (p1, h1): nothing placed twice. Returns each leg's requests.
 */
export async function assertExecutedOnceAfterCrash(h: Harness, arbId: string): Promise<{ positive: SimLogEntry[]; hedge: SimLogEntry[] }> {
  await h.waitFor('pair finished and settlement scheduled', async () => {
    const events = eventsFor(await h.events(), arbId);
    return events.some((e) => e.type === 'arb_executed') && (await h.redis.zscore('be:pairs:open', arbId)) === null;
  }, 20_000);
  assertSafetyChecks(h);
  const positive = h.bookA.bookmaker.log().filter((e) => e.clientRef.includes(arbId));
  const hedge = h.bookB.bookmaker.log().filter((e) => e.clientRef.includes(arbId));
  assert.deepEqual([...new Set(positive.map((e) => e.clientRef))], [`be1.${arbId}.p1`]);
  assert.deepEqual([...new Set(hedge.map((e) => e.clientRef))], [`be1.${arbId}.h1`]);
  return { positive, hedge };
}

/** Asserts the rig's bookmaker-side safety checks (the chaos invariants 1 and 2) over everything the harness's simulators saw. */
export function assertSafetyChecks(h: Harness): void {
  for (const r of h.safetyChecks()) assert.equal(r.violations, 0, `#${r.id} ${r.name}: ${r.examples.join('; ')}`);
}
