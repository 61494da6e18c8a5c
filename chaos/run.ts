// One chaos run: real worker processes, a private Redis and two simulated bookmakers, faults injected on a seeded schedule.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parseConfig, type Config } from '../src/config.js';
import { startPrivateRedis, type PrivateRedis } from '../src/infra/redis-server.js';
import { settlementQueueName } from '../src/settlement/scheduler.js';
import { startSimServer, type SimServer } from '../src/sim/server.js';
import { auditStream, eventsStream, keys } from '../src/store/keys.js';
import { readStream } from '../src/store/store.js';
import type { ProcessFault, Scenario } from './scenario.js';
import type { BookSnapshot, ChaosSnapshot, SimBetFinal } from './snapshot.js';

export type ExecutorKind = 'ours' | 'naive';

export interface RunOptions {
  kind: ExecutorKind;
  scenario: Scenario;
  workers: number;
  seed: number;
  quiesceMsMax: number;
  log: (line: string) => void;
}

/** Timings of a chaos run: short, so that leases lapse and cooldowns contend within seconds. */
export function chaosConfig(bookA: string, bookB: string): Config {
  return parseConfig({
    providers: { bookA: { url: bookA }, bookB: { url: bookB } },
    concurrency: 8,
    cooldownMs: 300,
    rateLimit: { placementsMax: 1_000_000, windowMs: 60_000 },
    arbAgeMsMax: 600_000,
    providerTimeoutMs: 250,
    lockTtlMs: 1_000,
    jobLockMs: 1_000,
    stalledCheckMs: 500,
    inDoubtDeadlineMs: 2_500,
    inDoubtPollMs: 50,
    hedgeDeadlineMs: 3_000,
    hedgeRetryBackoffMs: 20,
    settlementPollIntervalMs: 100,
    settlementPollCountMax: 100,
    retryDelayMs: 200,
  });
}

interface Rig {
  redis: PrivateRedis;
  admin: Redis;
  bookA: SimServer;
  bookB: SimServer;
  config: Config;
  configFile: string;
  dir: string;
  workers: Array<ChildProcess | null>;
  logStream: WriteStream;
}

function spawnWorker(rig: Rig, kind: ExecutorKind): ChildProcess {
  const args = kind === 'ours'
    ? ['bin/bet-executor.mjs', 'worker', '--config', rig.configFile]
    : ['--import', 'tsx', 'bench/naive-worker-process.ts', '--config', rig.configFile];
  const child = spawn(process.execPath, args, { env: { ...process.env, REDIS_URL: rig.redis.url, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(rig.logStream, { end: false });
  child.stderr?.pipe(rig.logStream, { end: false });
  return child;
}

async function applyFault(rig: Rig, kind: ExecutorKind, fault: ProcessFault, log: (line: string) => void): Promise<void> {
  switch (fault.kind) {
    case 'kill': {
      const child = rig.workers[fault.worker];
      if (!child) return;
      child.kill('SIGKILL');
      rig.workers[fault.worker] = null;
      log(`fault: SIGKILL worker ${fault.worker}, restart in ${fault.restartAfterMs} ms`);
      setTimeout(() => { rig.workers[fault.worker] = spawnWorker(rig, kind); }, fault.restartAfterMs).unref();
      return;
    }
    case 'freeze': {
      const child = rig.workers[fault.worker];
      if (!child) return;
      child.kill('SIGSTOP');
      log(`fault: SIGSTOP worker ${fault.worker} for ${fault.frozenMs} ms (past its leases)`);
      setTimeout(() => child.kill('SIGCONT'), fault.frozenMs).unref();
      return;
    }
    case 'redis_restart':
      log('fault: redis-server restarted (AOF on)');
      await rig.redis.restart();
      return;
    case 'redis_pause':
      log(`fault: CLIENT PAUSE ${fault.pausedMs} ms`);
      await rig.admin.call('CLIENT', 'PAUSE', String(fault.pausedMs), 'ALL');
      return;
  }
}

async function startRig(seed: number): Promise<Rig> {
  const dir = mkdtempSync(join(tmpdir(), 'bet-executor-chaos-'));
  const redis = await startPrivateRedis({ hz: 50 });
  const admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  admin.on('error', () => undefined);
  const bookA = await startSimServer({ seed, name: 'bookA', settleAfterMs: 300 });
  const bookB = await startSimServer({ seed, name: 'bookB', settleAfterMs: 300 });
  const config = chaosConfig(bookA.url, bookB.url);
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  return { redis, admin, bookA, bookB, config, configFile, dir, workers: [], logStream: createWriteStream(join(dir, 'workers.log')) };
}

async function enqueueAll(rig: Rig, scenario: Scenario, kind: ExecutorKind, log: (line: string) => void): Promise<void> {
  const connection = new Redis(rig.redis.url, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  const queue = new Queue(rig.config.queueName, { connection });
  const deliveries = scenario.pairs.flatMap((p) => p.deliveriesAtMs.map((atMs) => ({ atMs, pair: p })));
  deliveries.sort((a, b) => a.atMs - b.atMs);
  for (const p of scenario.pairs) {
    for (const f of p.faultsA) rig.bookA.bookmaker.addFault(f);
    for (const f of p.faultsB) rig.bookB.bookmaker.addFault(f);
  }
  const faults = [...scenario.processFaults];
  const startMs = Date.now();
  let next = 0;
  while (next < deliveries.length || faults.length > 0) {
    const elapsedMs = Date.now() - startMs;
    while (faults.length > 0 && (faults[0]?.atMs ?? Infinity) <= elapsedMs) await applyFault(rig, kind, faults.shift() as ProcessFault, log);
    const due = [];
    while (next < deliveries.length && (deliveries[next]?.atMs ?? Infinity) <= elapsedMs) due.push(deliveries[next++]);
    // A producer retries until Redis takes the job (Redis may be restarting or paused).
    for (const d of due) await addWithRetry(queue, d?.pair.data ?? {});
    await new Promise((r) => setTimeout(r, 10));
  }
  await queue.close();
  connection.disconnect();
}

async function addWithRetry(queue: Queue, data: Record<string, unknown>): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await queue.add('bet-pair', data);
      return;
    } catch (error) {
      if (attempt >= 100) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Waits until nothing is left to do: queues drained and (ours) no pair open. */
async function quiesce(rig: Rig, kind: ExecutorKind, scenario: Scenario, quiesceMsMax: number): Promise<boolean> {
  const deadline = Date.now() + quiesceMsMax;
  const connection = new Redis(rig.redis.url, { maxRetriesPerRequest: null });
  const queues = [new Queue(rig.config.queueName, { connection }), new Queue(settlementQueueName, { connection })];
  try {
    while (Date.now() < deadline) {
      const counts = await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')));
      const busy = counts.some((c) => Object.values(c).some((n) => n > 0));
      const open = kind === 'ours' ? await connection.zcard(keys.openPairs) : 0;
      const unsettled = kind === 'ours' ? await countUnsettled(connection, scenario) : 0;
      if (!busy && open === 0 && unsettled === 0) return true;
      await new Promise((r) => setTimeout(r, 250));
    }
    return false;
  } finally {
    for (const q of queues) await q.close();
    connection.disconnect();
  }
}

async function countUnsettled(redis: Redis, scenario: Scenario): Promise<number> {
  const pipeline = redis.pipeline();
  const valid = scenario.pairs.filter((p) => !p.plan.invalid);
  for (const p of valid) pipeline.hget(keys.pair(p.plan.arbId), 'state');
  const states = (await pipeline.exec()) ?? [];
  return states.filter(([, s]) => ['received', 'positive_placing', 'hedge_placing', 'hedged', 'hedge_failed', 'hedge_in_doubt'].includes(String(s))).length;
}

function bookSnapshot(book: SimServer): BookSnapshot {
  const log = book.bookmaker.log();
  const tickets = [...new Set(log.map((e) => e.ticketId).filter((t): t is string => t !== undefined))];
  const bets: SimBetFinal[] = [];
  for (const ticketId of tickets) {
    const found = book.bookmaker.status(ticketId);
    if (found.kind !== 'found') continue;
    const b = found.bet;
    bets.push({ clientRef: b.clientRef, ticketId, accountId: b.accountId, status: b.status, stakeMinor: b.stakeMinor, oddsMilli: b.oddsMilli });
  }
  return { name: book.bookmaker.name, log, bets };
}

async function snapshot(rig: Rig, kind: ExecutorKind, scenario: Scenario, settlementExpected: boolean): Promise<ChaosSnapshot> {
  const redis = new Redis(rig.redis.url);
  const journalStates: Record<string, string> = {};
  for (const p of scenario.pairs) {
    const state = await redis.hget(keys.pair(p.plan.arbId), 'state');
    if (state !== null) journalStates[p.plan.arbId] = state;
  }
  const exposureKeys: Record<string, Record<string, unknown>> = {};
  for (const key of await redis.keys('exposure:*')) exposureKeys[key] = JSON.parse((await redis.get(key)) ?? '{}') as Record<string, unknown>;
  const reviewOpen: Record<string, Record<string, unknown>> = {};
  for (const [id, json] of Object.entries(await redis.hgetall(keys.reviewOpen))) reviewOpen[id] = JSON.parse(json) as Record<string, unknown>;
  const queueCounts: Record<string, Record<string, number>> = {};
  for (const name of [rig.config.queueName, settlementQueueName]) {
    const q = new Queue(name, { connection: redis });
    queueCounts[name] = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
    await q.close();
  }
  const result: ChaosSnapshot = {
    cooldownMs: rig.config.cooldownMs,
    cooldownToleranceMs: 5,
    hedgeOrAlertDeadlineMs: rig.config.hedgeDeadlineMs + rig.config.inDoubtDeadlineMs + rig.config.lockTtlMs * 10,
    books: [bookSnapshot(rig.bookA), bookSnapshot(rig.bookB)],
    plans: scenario.pairs.map((p) => p.plan),
    journalStates,
    exposureKeys,
    reviewOpen,
    events: await readStream(redis, eventsStream, 10_000_000),
    audit: await readStream(redis, auditStream, 10_000_000),
    queueCounts,
    executor: kind,
    settlementExpected,
  };
  redis.disconnect();
  return result;
}

/** Runs the scenario against one executor and returns what the checks need. */
export async function runChaos(o: RunOptions): Promise<{ snapshot: ChaosSnapshot; quiesced: boolean; logDir: string }> {
  const rig = await startRig(o.seed);
  try {
    for (let w = 0; w < o.workers; w++) rig.workers.push(spawnWorker(rig, o.kind));
    await waitForWorkers(rig, o.workers);
    await enqueueAll(rig, o.scenario, o.kind, o.log);
    // Every killed worker is back before the end: the restarts are part of the scenario.
    await new Promise((r) => setTimeout(r, 1_500));
    for (let w = 0; w < rig.workers.length; w++) if (rig.workers[w] === null) rig.workers[w] = spawnWorker(rig, o.kind);
    const quiesced = await quiesce(rig, o.kind, o.scenario, o.quiesceMsMax);
    const snap = await snapshot(rig, o.kind, o.scenario, o.kind === 'ours');
    return { snapshot: snap, quiesced, logDir: rig.dir };
  } finally {
    for (const child of rig.workers) child?.kill('SIGKILL');
    rig.admin.disconnect();
    await rig.bookA.close();
    await rig.bookB.close();
    await rig.redis.stop();
    rig.logStream.end();
  }
}

async function waitForWorkers(rig: Rig, count: number): Promise<void> {
  const connection = new Redis(rig.redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue(rig.config.queueName, { connection });
  const deadline = Date.now() + 30_000;
  try {
    while ((await queue.getWorkers()).length < count) {
      if (Date.now() > deadline) throw new Error(`only ${(await queue.getWorkers()).length} of ${count} workers came up; see ${rig.dir}/workers.log`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
