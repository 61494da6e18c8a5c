// One chaos run: real worker processes, a private Redis and two simulated bookmakers, faults injected on a seeded schedule.
import { createWriteStream, mkdtempSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { configSchema, parseConfig, type Config } from '../src/config.js';
import { isFinalBetStatus, type FinalBetStatus } from '../src/domain/types.js';
import { startBooks, type Books } from '../src/rig/books.js';
import { bookSnapshot, executorRecords } from '../src/rig/collect.js';
import { TcpProxy } from '../src/rig/proxy.js';
import { failOver, startRedisTopology, type FailoverResult, type RedisTopology } from '../src/rig/redis.js';
import type { ChaosSnapshot, KillWindow, PairPlan } from '../src/rig/snapshot.js';
import { WorkerPool, waitForQueueWorkers, writeConfigFile, type WorkerProcessOptions } from '../src/rig/workers.js';
import { createRedis } from '../src/store/connection.js';
import { auditStream, eventsStream, keys } from '../src/store/keys.js';
import { chaosArbAgeMsMax, crashCycle, journalGapLatencyMs, partitionedWorker, stampCreatedAt, type ChaosTopology, type PlannedPair, type ProcessFault, type Resettlement, type Scenario } from './scenario.js';

export type ExecutorKind = 'ours' | 'naive';

/**
 * How a clock_step fault steps a worker's clock: `worker`, the executor's own test hook (SIGUSR2 with
 * BET_EXECUTOR_TEST_HOOKS=1; a worker without it dies of the signal and is restarted); `preload`, the chaos
 * preload that steps the whole process's Date.now() (chaos/clock-step-preload.mjs), for any executor.
 */
export type ClockHook = 'worker' | 'preload';

export interface RunOptions {
  kind: ExecutorKind;
  scenario: Scenario;
  workers: number;
  seed: number;
  quiesceMsMax: number;
  clockHook?: ClockHook;
  /** Also write the snapshot as JSON beside the worker logs (snapshot.json), to study a run's violations. */
  dumpSnapshot?: boolean;
  /** Redis topology (default single); sentinel runs the scenario's failover and partition faults. */
  topology?: ChaosTopology;
  /** false: the simulators do not deduplicate client references (a resend is a second bet). */
  dedupe?: boolean;
  /** The executor's journalReplicasMin (sentinel runs; default 0). */
  journalReplicasMin?: number;
  /** Circuit breakers of a sick-bookmaker run (unset: the config's defaults). */
  circuits?: ChaosCircuits;
  /** Sentinel runs: how long the replica's link is black-holed before each failover's kill (default 500 ms). */
  replicaLagMs?: number;
  log: (line: string) => void;
}

/** Sentinel runs: Sentinel timings short enough for several failovers in a run of a minute. */
export const chaosSentinelTimings = { downAfterMs: 1_000, failoverTimeoutMs: 3_000 };
/** Sentinel runs: the producer (standing in for the scanner) waits for this long for a replica to hold each job. */
const producerWaitMs = 500;

/**
 * Accepted bets settle this long after acceptance at the simulators: longer than any placement flow
 * (hedge deadline + in-doubt deadline + a resumption), so that a hedge sent after its positive was settled
 * means the executor looked the positive up, found it settled, and hedged anyway (F3), not that the
 * chaos run compressed an event into milliseconds.
 */
export const chaosSettleAfterMs = 10_000;
/**
 * Slack of the age check: BullMQ stamps the job a moment after the runner notes its enqueue time, and a
 * send with no journaled intent (the naive executor) is timed on its arrival at the bookmaker.
 */
export const arbAgeToleranceMs = 200;
const selfExitRestartMs = 300;
const restartStaggerMs = 400;

/**
 * Config keys the chaos run sets when this executor's config knows them (added by issue-7 fixes):
 * a late commit comes at most 1.2 s after its request, inside the grace; a re-settled result is
 * changed within ~1 s of the pair's reconciliation, inside the re-check delay.
 */
const optionalChaosKeys: Record<string, number> = { lateCommitGraceMs: 1_500, resettlementCheckDelayMs: 3_000, settlementSweepMs: 500 };

/** Timings of a chaos run: short, so that leases lapse and cooldowns contend within seconds. */
/**
 * Circuit breakers of a `--sick-bookmaker` run, scaled to a run of seconds (the defaults count over 30 s and cool
 * off for 30 s): `on` trips on half of at least 5 outcomes in 5 s and probes after 1 s; `off` reports nothing.
 */
export const chaosCircuits = {
  on: { enabled: true, windowMs: 5_000, failureRatio: 0.5, minVolume: 5, coolOffMs: 1_000, coolOffMsMax: 4_000, reportIntervalMs: 50, probeIntervalMs: 100 },
  off: { enabled: false },
} as const;
export type ChaosCircuits = keyof typeof chaosCircuits;

export function chaosConfig(bookA: string, bookB: string, o: { arbAgeMsMax?: number; lateCommits?: boolean; journalReplicasMin?: number; circuits?: ChaosCircuits } = {}): Config {
  const known = new Set(Object.keys(configSchema.shape));
  // Without the late_commit class no bet commits after its answer was lost: a short grace (an account's
  // claim holds through it, so a long one would leave few pairs placed in a run of a few seconds).
  const keys = o.lateCommits === false ? { ...optionalChaosKeys, lateCommitGraceMs: 300 } : optionalChaosKeys;
  const optional = Object.fromEntries(Object.entries(keys).filter(([key]) => known.has(key)));
  return parseConfig({
    providers: { bookA: { url: bookA }, bookB: { url: bookB } },
    concurrency: 8,
    cooldownMs: 300,
    rateLimit: { placementsMax: 1_000_000, windowMs: 60_000 },
    arbAgeMsMax: o.arbAgeMsMax ?? 600_000,
    providerTimeoutMs: 250,
    lockTtlMs: 1_000,
    jobLockMs: 1_000,
    stalledCheckMs: 500,
    inDoubtDeadlineMs: 2_500,
    inDoubtPollMs: 50,
    hedgeDeadlineMs: 3_000,
    hedgeRetryBackoffMs: 20,
    settlementPollIntervalMs: 1_000,
    settlementPollCountMax: 60,
    retryDelayMs: 200,
    ...(o.journalReplicasMin ? { journalReplicasMin: o.journalReplicasMin } : {}),
    ...(o.circuits ? { circuitBreaker: chaosCircuits[o.circuits] } : {}),
    ...optional,
  });
}

interface Rig {
  redis: RedisTopology;
  admin: Redis;
  books: Books;
  config: Config;
  configFile: string;
  dir: string;
  kind: ExecutorKind;
  clockHook: ClockHook;
  /** Whether the scenario steps worker clocks (the test hooks are switched on only then). */
  clockSteps: boolean;
  /** One slot per worker process; the last is the crash worker when the scenario has one (ours). */
  pool: WorkerPool;
  crashSlot: number | null;
  crashes: number;
  selfExits: number;
  killWindows: KillWindow[];
  /** Fault steps still running in the background (a kill switch to clear, a kill to deliver, a failover). */
  pending: Array<Promise<void>>;
  /** Sentinel runs: one proxy per data server that the partitioned worker's connections go through. */
  partitionProxies: TcpProxy[];
  replicaLagMs: number;
  failovers: FailoverResult[];
  /** What the sentinel faults did (failovers, partitions), for the report. */
  notes: string[];
  logStream: WriteStream;
  log: (line: string) => void;
}

const preloadPath = fileURLToPath(new URL('./clock-step-preload.mjs', import.meta.url));

/** How a slot's process starts: ours or the naive executor, its clock hook, and the crash point of the crash worker. */
function workerProcess(rig: Rig, slot: number): WorkerProcessOptions {
  const preload = rig.clockHook === 'preload' ? ['--import', preloadPath] : [];
  const nodeArgs = rig.kind === 'ours' ? preload : ['--import', 'tsx', ...preload];
  const script = rig.kind === 'ours' ? undefined : ['bench/naive-worker-process.ts', '--config', rig.configFile];
  const env: Record<string, string> = { ...rig.redis.env };
  if (rig.kind === 'ours' && rig.clockHook === 'worker' && rig.clockSteps) env.BET_EXECUTOR_TEST_HOOKS = '1';
  if (slot === partitionedWorker && rig.partitionProxies.length > 0) {
    // Every address the Sentinels report is dialled through this worker's proxy of that server.
    env.REDIS_SENTINEL_NAT_MAP = rig.partitionProxies.map((p) => `${p.target.host}:${p.target.port}>127.0.0.1:${p.port}`).join(',');
  }
  if (slot === rig.crashSlot) {
    env.BET_EXECUTOR_TEST_HOOKS = '1';
    env.BET_EXECUTOR_CRASH_AT = crashCycle[rig.crashes % crashCycle.length] as string;
  }
  return { configFile: rig.configFile, env, nodeArgs, ...(script ? { script } : {}) };
}

/** A worker that ended by itself (its crash hook, a signal it does not handle) is restarted like a killed one. */
function onSelfExit(rig: Rig, slot: number, code: number | null, signal: NodeJS.Signals | null): number {
  if (slot === rig.crashSlot) rig.crashes += 1;
  else {
    rig.selfExits += 1;
    rig.log(`worker ${slot} exited by itself (${signal ?? `code ${code}`}); restart in ${selfExitRestartMs} ms`);
  }
  return selfExitRestartMs;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function applyFault(rig: Rig, fault: ProcessFault, log: (line: string) => void): Promise<void> {
  switch (fault.kind) {
    case 'kill':
      if (rig.pool.kill(fault.worker, fault.restartAfterMs)) log(`fault: SIGKILL worker ${fault.worker}, restart in ${fault.restartAfterMs} ms`);
      return;
    case 'freeze':
      if (rig.pool.freeze(fault.worker, fault.frozenMs)) log(`fault: SIGSTOP worker ${fault.worker} for ${fault.frozenMs} ms (past its leases)`);
      return;
    case 'redis_restart':
      log('fault: redis-server restarted (AOF on)');
      await rig.redis.primary?.restart();
      return;
    case 'redis_pause':
      log(`fault: CLIENT PAUSE ${fault.pausedMs} ms`);
      await rig.admin.call('CLIENT', 'PAUSE', String(fault.pausedMs), 'ALL');
      return;
    case 'failover':
      log(`fault: Sentinel failover (replica link black-holed ${rig.replicaLagMs} ms, then SIGKILL the primary)`);
      rig.pending.push(failOver(rig.redis, { lagMs: rig.replicaLagMs, log }).then((r) => {
        rig.failovers.push(r);
        rig.notes.push(`failover ${rig.failovers.length}: ${r.from.port} → ${r.to.port}, promoted after ${r.promotedAfterMs} ms, ${r.lostBytes} acknowledged replication byte(s) lost`);
      }));
      return;
    case 'partition':
      // In the background: it waits for the worker to be warm, and for heldMs.
      rig.pending.push(partition(rig, fault.worker, fault.heldMs, log));
      return;
    case 'clock_step': return stepClock(rig, fault.worker, log);
    case 'kill_switch': return setKillSwitch(rig, fault.heldMs, log);
    case 'sick_bookmaker':
      log(`fault: bookB sick (every request 500) for ${fault.heldMs} ms`);
      rig.books.bookB.bookmaker.setSickness({ mode: 'error_500' });
      rig.pending.push(sleep(fault.heldMs).then(() => {
        rig.books.bookB.bookmaker.setSickness(null);
        log('fault: bookB recovered');
      }));
      return;
    case 'kill_in_pause':
      log(`fault: CLIENT PAUSE ${fault.pausedMs} ms, SIGKILL every worker after ${fault.killAfterMs} ms of it, restart in ${fault.restartAfterMs} ms`);
      await rig.admin.call('CLIENT', 'PAUSE', String(fault.pausedMs), 'ALL');
      rig.pending.push(sleep(fault.killAfterMs).then(() => {
        // Restarts staggered: node processes starting together on two cores stall everything for a while,
        // the simulators too (they time requests as they handle them).
        for (let slot = 0; slot < rig.pool.size; slot++) if (slot !== rig.crashSlot) rig.pool.kill(slot, fault.restartAfterMs + slot * restartStaggerMs);
      }));
      return;
  }
}

/** Redis time (ms) through the admin connection. */
async function redisNowMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/**
 * Black-holes every connection of the partitioned worker to the data servers (it still reaches the
 * Sentinels) for heldMs, past its leases, then heals: what it wrote meanwhile arrives late and must be fenced.
 * Counts the leases held when it was cut off and the pairs other workers resumed meanwhile.
 */
/** The partitioned worker must have run this long (booted, taking pairs) before it is cut off; waited for at most partitionWarmMsMax. */
const partitionWarmMs = 4_000;
const partitionWarmMsMax = 15_000;

async function partition(rig: Rig, slot: number, heldMs: number, log: (line: string) => void): Promise<void> {
  if (slot !== partitionedWorker || rig.partitionProxies.length === 0) return;
  // A worker (re)started moments ago holds no lease yet: wait until it has run a while (a kill may have just hit it).
  for (let waitedMs = 0; waitedMs < partitionWarmMsMax && (rig.pool.child(slot) === null || Date.now() - (rig.pool.spawnedAtMs[slot] ?? 0) < partitionWarmMs); waitedMs += 100) await sleep(100);
  const connections = rig.partitionProxies.reduce((n, p) => n + p.connections, 0);
  const leases = await countKeys(rig.admin, 'lock:arb:*');
  for (const proxy of rig.partitionProxies) proxy.blackhole();
  const fromMs = await redisNowMs(rig.admin);
  log(`fault: worker ${slot} partitioned from Redis for ${heldMs} ms (${connections} connection(s) black-holed; ${leases} lease(s) held by all workers)`);
  await sleep(heldMs);
  for (const proxy of rig.partitionProxies) proxy.pass();
  const toMs = await redisNowMs(rig.admin);
  const resumed = (await rig.admin.xrange(eventsStream, String(fromMs), String(toMs))).filter(([, f]) => f[1] === 'arb_resumed').length;
  rig.notes.push(`partition of worker ${slot}: ${heldMs} ms, ${connections} connection(s) black-holed, ${leases} lease(s) held by all workers at the cut, ${resumed} pair(s) resumed by other workers meanwhile`);
  log(`fault: worker ${slot} partition healed (${resumed} pair(s) resumed by others meanwhile)`);
}

async function countKeys(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  for (let page = 0; page < 1_000; page++) {
    const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    n += found.length;
    cursor = next;
    if (cursor === '0') break;
  }
  return n;
}

/** A worker younger than this may not have installed its clock hook yet (a signal would kill it). */
const clockHookReadyMs = 4_000;

function stepClock(rig: Rig, slot: number, log: (line: string) => void): void {
  const child = rig.pool.child(slot);
  if (!child) return;
  if (Date.now() - (rig.pool.spawnedAtMs[slot] ?? 0) < clockHookReadyMs) {
    log(`fault: clock step of worker ${slot} skipped (started less than ${clockHookReadyMs} ms ago)`);
    return;
  }
  if (rig.kind === 'naive' && rig.clockHook === 'worker') {
    log(`fault: clock step of worker ${slot} skipped (the naive executor has no clock hook; --clock-hook preload steps it)`);
    return;
  }
  child.kill('SIGUSR2');
  log(`fault: SIGUSR2 worker ${slot} (wall clock step, ${rig.clockHook} hook)`);
}

/** Runs one command and reads Redis time in the same transaction: the time (ms, floored) the command took effect. */
async function atRedisTime(redis: Redis, command: (multi: ReturnType<Redis['multi']>) => void): Promise<number> {
  const multi = redis.multi();
  command(multi);
  multi.time();
  const replies = await multi.exec();
  const time = replies?.at(-1)?.[1] as [string, string] | undefined;
  if (time === undefined) throw new Error('kill switch transaction aborted');
  return Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
}

/**
 * Sets the global kill switch as `bet-executor kill set` does (key and audit entry), and clears it heldMs
 * later. Both moments are Redis times taken in the same transaction as the SET and the DEL, the clock the
 * executor's journal rows carry: a send journaled at or before the set passed its check before it.
 */
async function setKillSwitch(rig: Rig, heldMs: number, log: (line: string) => void): Promise<void> {
  const setAtMs = await atRedisTime(rig.admin, (m) => m.set(keys.killGlobal, 'chaos'));
  await rig.admin.xadd(auditStream, '*', 'type', 'kill_switch_set', 'data', JSON.stringify({ key: keys.killGlobal, reason: 'chaos', atMs: setAtMs, by: 'chaos' }));
  log(`fault: kill switch ${keys.killGlobal} set for ${heldMs} ms`);
  rig.pending.push(sleep(heldMs).then(async () => {
    const clearedAtMs = await atRedisTime(rig.admin, (m) => m.del(keys.killGlobal));
    await rig.admin.xadd(auditStream, '*', 'type', 'kill_switch_cleared', 'data', JSON.stringify({ key: keys.killGlobal, atMs: clearedAtMs, by: 'chaos' }));
    rig.killWindows.push({ setAtMs, clearedAtMs });
    log(`fault: kill switch ${keys.killGlobal} cleared`);
  }));
}

async function startRig(o: RunOptions): Promise<Rig> {
  const { seed, kind, scenario, log } = o;
  const clockHook = o.clockHook ?? 'worker';
  const dir = mkdtempSync(join(tmpdir(), 'bet-executor-chaos-'));
  const sentinel = o.topology === 'sentinel';
  const redis = await startRedisTopology({ hz: 50, ...(sentinel ? { kind: 'sentinel', replicas: 1, ...chaosSentinelTimings } : {}) });
  const admin = createRedis(redis.url, { maxRetriesPerRequest: null });
  admin.on('error', () => undefined);
  const partitionProxies = sentinel ? await Promise.all(redis.dataServers.map((s) => TcpProxy.start({ host: '127.0.0.1', port: s.port }))) : [];
  const latencyMs = scenario.classes.includes('journal_gap') ? journalGapLatencyMs : 0;
  const books = await startBooks({ seed, settleAfterMs: chaosSettleAfterMs, bookA: { latencyMs }, ...(o.dedupe === false ? { dedupe: false } : {}) });
  const config = chaosConfig(books.bookA.url, books.bookB.url, {
    ...(scenario.classes.includes('future_stamped') ? { arbAgeMsMax: chaosArbAgeMsMax } : {}),
    lateCommits: scenario.classes.includes('late_commit'),
    ...(o.journalReplicasMin ? { journalReplicasMin: o.journalReplicasMin } : {}),
    ...(o.circuits ? { circuits: o.circuits } : {}),
  });
  const logStream = createWriteStream(join(dir, 'workers.log'));
  const rig: Rig = {
    redis, admin, books, config, configFile: writeConfigFile(dir, config), dir, kind, clockHook, clockSteps: scenario.classes.includes('clock_step'),
    pool: new WorkerPool({ spawnOptions: (slot) => workerProcess(rig, slot), logStream, onSelfExit: (slot, code, signal) => onSelfExit(rig, slot, code, signal) }),
    crashSlot: null, crashes: 0, selfExits: 0, killWindows: [], pending: [], logStream, log,
    partitionProxies, replicaLagMs: o.replicaLagMs ?? 500, failovers: [], notes: [],
  };
  return rig;
}

/** One run's copy of a planned pair: the job data and plan get the enqueue time and createdAt stamp. */
interface RunPair {
  planned: PlannedPair;
  plan: PairPlan;
  data: Record<string, unknown>;
}

async function enqueueAll(rig: Rig, scenario: Scenario, pairs: RunPair[], tick: () => Promise<unknown>, log: (line: string) => void): Promise<void> {
  const connection = createRedis(rig.redis.url, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  const queue = new Queue(rig.config.queueName, { connection });
  const deliveries = pairs.flatMap((p) => p.planned.deliveriesAtMs.map((atMs, n) => ({ atMs, pair: p, first: n === 0 })));
  deliveries.sort((a, b) => a.atMs - b.atMs);
  for (const p of scenario.pairs) {
    for (const f of p.faultsA) rig.books.bookA.bookmaker.addFault(f);
    for (const f of p.faultsB) rig.books.bookB.bookmaker.addFault(f);
  }
  const faults = [...scenario.processFaults];
  const startMs = Date.now();
  let next = 0;
  let tickedAtMs = 0;
  while (next < deliveries.length || faults.length > 0) {
    const elapsedMs = Date.now() - startMs;
    while (faults.length > 0 && (faults[0]?.atMs ?? Infinity) <= elapsedMs) await applyFault(rig, faults.shift() as ProcessFault, log);
    const due = [];
    while (next < deliveries.length && (deliveries[next]?.atMs ?? Infinity) <= elapsedMs) due.push(deliveries[next++]);
    for (const d of due) if (d) await deliver(queue, d.pair, d.first, rig.redis.kind === 'sentinel');
    if (Date.now() - tickedAtMs >= 200) {
      await tick();
      tickedAtMs = Date.now();
    }
    await sleep(10);
  }
  await Promise.all(rig.pending);
  await queue.close();
  connection.disconnect();
}

/** Adds one delivery; the first stamps the enqueue time (and createdAt, when the scenario gives one). */
async function deliver(queue: Queue, pair: RunPair, first: boolean, replicated: boolean): Promise<void> {
  if (first) {
    const nowMs = Date.now();
    pair.plan.enqueuedAtMs = nowMs;
    if (pair.planned.createdAt) {
      const stamp = stampCreatedAt(pair.planned.createdAt, nowMs);
      pair.data.createdAt = stamp.text;
      pair.plan.createdAtMs = stamp.ms;
    }
  }
  // A producer retries until Redis takes the job (Redis may be restarting or paused).
  await addWithRetry(queue, pair.data, pair.planned.queueDelayMs, replicated);
}

/**
 * replicated (sentinel runs): the producer, standing in for the scanner, adds the job again until a replica
 * holds it (WAIT 1); an added job a failover loses would be a pair the executor never saw. A second add is a
 * duplicate delivery, which the executor takes as such.
 */
async function addWithRetry(queue: Queue, data: Record<string, unknown>, delayMs: number | undefined, replicated: boolean): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await queue.add('bet-pair', data, delayMs === undefined ? {} : { delay: delayMs });
      if (replicated && Number(await ((await queue.client) as unknown as Redis).call('WAIT', 1, producerWaitMs)) < 1) throw new Error('job not on a replica');
      return;
    } catch (error) {
      if (attempt >= 100) throw error;
      await sleep(100);
    }
  }
}

/**
 * Re-settlement: watches the events stream and, when a marked pair is reconciled (arb_settled), changes
 * one leg's result at its bookmaker, as a bookmaker re-closing a market would (won → void, a corrected result).
 */
class Resettler {
  private lastId = '0-0';
  private readonly done = new Set<string>();
  changed = 0;

  constructor(private readonly rig: Rig, private readonly targets: Map<string, Resettlement>) {}

  /** Reads new events; true when it changed a result this time. */
  async tick(): Promise<boolean> {
    if (this.targets.size === 0 || this.done.size === this.targets.size) return false;
    let changedNow = false;
    for (let page = 0; page < 100; page++) {
      const rows = await this.rig.admin.xrange(eventsStream, `(${this.lastId}`, '+', 'COUNT', 5_000);
      for (const [id, fields] of rows) {
        this.lastId = id;
        if (fields[1] !== 'arb_settled') continue;
        const arbId = (JSON.parse(fields[3] ?? '{}') as { arbId?: unknown }).arbId;
        if (typeof arbId === 'string' && this.apply(arbId)) changedNow = true;
      }
      if (rows.length < 5_000) break;
    }
    return changedNow;
  }

  private apply(arbId: string): boolean {
    const target = this.targets.get(arbId);
    if (target === undefined || this.done.has(arbId)) return false;
    this.done.add(arbId);
    const bookmaker = (target.leg === 'p' ? this.rig.books.bookA : this.rig.books.bookB).bookmaker;
    const found = bookmaker.lookupByClientRef(`be1.${arbId}.${target.leg}1`);
    if (found.kind !== 'found' || !isFinalBetStatus(found.bet.status)) return false;
    bookmaker.settle(found.bet.ticketId, changedResult(found.bet.status, target.to));
    this.changed += 1;
    return true;
  }
}

/**
 * lost_chain: once a target pair is executed, removes one bet's poll job from the settlement queue while it
 * waits (delayed or waiting), as a job stalled into the failed set or deleted would leave it: the chain is dead.
 */
class ChainKiller {
  private lastId = '0-0';
  /** Executed targets whose job is not removed yet, with the ticks tried. */
  private readonly due = new Map<string, number>();
  readonly killed: string[] = [];
  private readonly queue: Queue;

  constructor(private readonly rig: Rig, private readonly targets: Map<string, 'p' | 'h'>, connection: Redis) {
    this.queue = new Queue(rig.config.settlementQueueName, { connection });
  }

  async tick(): Promise<boolean> {
    if (this.targets.size === 0) return false;
    for (let page = 0; page < 100; page++) {
      const rows = await this.rig.admin.xrange(eventsStream, `(${this.lastId}`, '+', 'COUNT', 5_000);
      for (const [id, fields] of rows) {
        this.lastId = id;
        if (fields[1] !== 'arb_executed') continue;
        const arbId = (JSON.parse(fields[3] ?? '{}') as { arbId?: unknown }).arbId;
        if (typeof arbId === 'string' && this.targets.has(arbId) && !this.killed.includes(arbId)) this.due.set(arbId, 0);
      }
      if (rows.length < 5_000) break;
    }
    let killedNow = false;
    for (const [arbId, tries] of this.due) {
      const jobId = `settle-${arbId}-${this.targets.get(arbId) ?? 'p'}1`;
      const job = await this.queue.getJob(jobId);
      const state = job ? await job.getState() : 'missing';
      if ((state === 'delayed' || state === 'waiting') && (await this.queue.remove(jobId)) === 1) {
        this.killed.push(arbId);
        this.due.delete(arbId);
        killedNow = true;
      } else if (state === 'completed' || tries >= 100) {
        this.due.delete(arbId);
      } else {
        this.due.set(arbId, tries + 1);
      }
    }
    return killedNow || this.due.size > 0;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

function changedResult(status: FinalBetStatus, to: Resettlement['to']): FinalBetStatus {
  if (to === 'void') return status === 'void' ? 'won' : 'void';
  if (status === 'won') return 'lost';
  if (status === 'lost') return 'won';
  return 'void';
}

/** Waits until nothing is left to do: queues drained and (ours) no pair open. */
async function quiesce(rig: Rig, pairs: RunPair[], quiesceMsMax: number, tick: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + quiesceMsMax;
  const connection = createRedis(rig.redis.url, { maxRetriesPerRequest: null });
  const queues = [new Queue(rig.config.queueName, { connection }), new Queue(rig.config.settlementQueueName, { connection })];
  let last = 'nothing read yet';
  try {
    while (Date.now() < deadline) {
      // A result changed just now needs the executor's re-check (a delayed job) before anything is quiet.
      if (await tick()) {
        await sleep(250);
        continue;
      }
      const counts = await Promise.all(queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')));
      const busy = counts.some((c) => Object.values(c).some((n) => n > 0));
      const open = rig.kind === 'ours' ? await connection.zcard(keys.openPairs) : 0;
      const unsettled = rig.kind === 'ours' ? await countUnsettled(connection, pairs) : 0;
      if (!busy && open === 0 && unsettled === 0) return true;
      last = `jobs ${JSON.stringify(counts)}, open pairs ${open}${open > 0 ? ` ${await describeOpen(connection)}` : ''}, unsettled pairs ${unsettled}`;
      await sleep(250);
    }
    rig.notes.push(`not quiet after ${quiesceMsMax} ms: ${last}`);
    return false;
  } finally {
    for (const q of queues) await q.close();
    connection.disconnect();
  }
}

/** The first open pairs, each with its journal state and revision and whether a lease is held: why a run is not quiet. */
async function describeOpen(redis: Redis): Promise<string> {
  const arbIds = await redis.zrange(keys.openPairs, 0, 4);
  const described = await Promise.all(arbIds.map(async (arbId) => {
    const [state, rev] = await redis.hmget(keys.pair(arbId), 'state', 'rev');
    const leased = (await redis.exists(keys.lease(arbId))) === 1;
    return `${arbId} (${state ?? 'no journal'} rev ${rev ?? '-'}${leased ? ', leased' : ''})`;
  }));
  return `[${described.join(', ')}]`;
}

async function countUnsettled(redis: Redis, pairs: RunPair[]): Promise<number> {
  const pipeline = redis.pipeline();
  const valid = pairs.filter((p) => !p.plan.invalid);
  for (const p of valid) pipeline.hget(keys.pair(p.plan.arbId), 'state');
  const states = (await pipeline.exec()) ?? [];
  return states.filter(([, s]) => ['received', 'positive_placing', 'hedge_placing', 'hedged', 'hedge_failed', 'hedge_in_doubt'].includes(String(s))).length;
}

/** The `commit_late` delay per client reference: such a bet is committed that long after its request. */
function lateCommitDelays(scenario: Scenario): Map<string, number> {
  const delays = new Map<string, number>();
  for (const p of scenario.pairs) {
    for (const f of [...p.faultsA, ...p.faultsB]) {
      if (f.fault === 'commit_late' && f.match?.clientRef !== undefined) delays.set(f.match.clientRef, f.params?.delayMs ?? 0);
    }
  }
  return delays;
}

async function snapshot(rig: Rig, scenario: Scenario, pairs: RunPair[]): Promise<ChaosSnapshot> {
  const redis = createRedis(rig.redis.url);
  const plans = pairs.map((p) => p.plan);
  const lateDelays = lateCommitDelays(scenario);
  const result: ChaosSnapshot = {
    cooldownMs: rig.config.cooldownMs,
    cooldownToleranceMs: 5,
    hedgeOrAlertDeadlineMs: rig.config.hedgeDeadlineMs + rig.config.inDoubtDeadlineMs + rig.config.lockTtlMs * 10,
    arbAgeMsMax: rig.config.arbAgeMsMax,
    arbAgeToleranceMs,
    killWindows: rig.killWindows,
    books: rig.books.all.map((book) => bookSnapshot(book, lateDelays)),
    plans,
    ...(await executorRecords(redis, plans, [rig.config.queueName, rig.config.settlementQueueName])),
    executor: rig.kind,
    settlementExpected: rig.kind === 'ours',
  };
  redis.disconnect();
  return result;
}

export interface RunResult {
  snapshot: ChaosSnapshot;
  quiesced: boolean;
  logDir: string;
  /** Results changed at the simulators after reconciliation (resettle class). */
  resettled: number;
  /** Lives of the journal_gap crash worker that ended at a crash point. */
  crashes: number;
  /** Sentinel failovers that completed. */
  failovers: number;
  /** What the sentinel faults did. */
  notes: string[];
}

/** Runs the scenario against one executor and returns what the checks need. */
export async function runChaos(o: RunOptions): Promise<RunResult> {
  const rig = await startRig(o);
  // The simulators run in this process and time each request when they handle it: a stalled event loop
  // here delays those times (a cooldown gap can look shorter than it was). Reported with every run.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const pairs: RunPair[] = o.scenario.pairs.map((p) => ({ planned: p, plan: { ...p.plan }, data: structuredClone(p.data) }));
  const resettler = new Resettler(rig, new Map(o.kind === 'ours' ? o.scenario.pairs.filter((p) => p.resettle).map((p) => [p.plan.arbId, p.resettle as Resettlement]) : []));
  const killer = new ChainKiller(rig, new Map(o.kind === 'ours' ? o.scenario.pairs.filter((p) => p.loseChain).map((p) => [p.plan.arbId, p.loseChain as 'p' | 'h']) : []), rig.admin);
  // Both run on every tick (no short circuit): each reads the events stream on its own.
  const tick = async () => [await resettler.tick(), await killer.tick()].some(Boolean);
  try {
    const slots = o.workers + (o.scenario.crashWorker && o.kind === 'ours' ? 1 : 0);
    if (slots > o.workers) rig.crashSlot = o.workers;
    for (let w = 0; w < slots; w++) rig.pool.spawn(w);
    await waitForQueueWorkers(rig.redis.url, rig.config.queueName, slots, `${rig.dir}/workers.log`);
    await enqueueAll(rig, o.scenario, pairs, tick, o.log);
    // After the enqueue phase the crash worker is not restarted: the pairs it left are finished by the others.
    if (rig.crashSlot !== null) {
      rig.pool.retired.add(rig.crashSlot);
      rig.pool.kill(rig.crashSlot, null);
    }
    // Every killed worker is back before the end: the restarts are part of the scenario.
    await sleep(1_500);
    for (let w = 0; w < rig.pool.size; w++) rig.pool.restart(w);
    const quiesced = await quiesce(rig, pairs, o.quiesceMsMax, tick);
    // The bookmakers' final view: every accepted bet past its settle time (an executor that never polls
    // leaves them unsettled until someone asks; the snapshot asks).
    await sleep(Math.min(chaosSettleAfterMs, Math.max(0, lastRequestAtMs(rig) + chaosSettleAfterMs + 100 - Date.now())));
    rig.pool.stopping = true;
    if (rig.crashSlot !== null) o.log(`crash worker: ${rig.crashes} crash(es) at ${crashCycle.join(' / ')} in turn`);
    if (resettler.changed > 0) o.log(`re-settled ${resettler.changed} bet(s) at the simulators after their pair was reconciled`);
    if (killer.killed.length > 0) o.log(`removed the settlement poll job of ${killer.killed.length} executed pair(s) (lost chains)`);
    if (rig.redis.kind === 'sentinel') rig.notes.push(`journal_not_replicated events (requests not sent, pairs retried): ${await countEvents(rig.admin, 'journal_not_replicated')}`);
    if (rig.kind === 'ours') {
      const exposures = await eventsWhere(rig.admin, 'exposure_alert', () => true);
      const blocked = await eventsWhere(rig.admin, 'arb_blocked', (d) => d.reason === 'circuit_open');
      const opened = await eventsWhere(rig.admin, 'circuit_opened', () => true);
      const sick = o.scenario.processFaults.some((f) => f.kind === 'sick_bookmaker') ? `sick bookmaker, circuits ${o.circuits ?? 'default'}` : 'no sick bookmaker';
      rig.notes.push(`${sick}: ${exposures} exposure alert(s), ${blocked} pair(s) blocked circuit_open, ${opened} circuit(s) opened`);
    }
    for (const note of rig.notes) o.log(note);
    loopDelay.disable();
    o.log(`runner event-loop delay (simulators' timing): p99 ${Math.round(loopDelay.percentile(99) / 1e6)} ms, max ${Math.round(loopDelay.max / 1e6)} ms`);
    const snap = { ...(await snapshot(rig, o.scenario, pairs)), lostChains: [...killer.killed] };
    if (o.dumpSnapshot) writeFileSync(join(rig.dir, 'snapshot.json'), JSON.stringify(snap));
    return { snapshot: snap, quiesced, logDir: rig.dir, resettled: resettler.changed, crashes: rig.crashes, failovers: rig.failovers.length, notes: rig.notes };
  } finally {
    rig.pool.stopAll();
    await Promise.all(rig.partitionProxies.map((p) => p.close()));
    await killer.close();
    rig.admin.disconnect();
    await rig.books.close();
    await rig.redis.stop();
    rig.logStream.end();
  }
}

/** Events of one type whose data passes `keep`. */
async function eventsWhere(redis: Redis, type: string, keep: (data: Record<string, unknown>) => boolean): Promise<number> {
  let n = 0;
  let from = '-';
  for (let page = 0; page < 1_000; page++) {
    const rows = await redis.xrange(eventsStream, from, '+', 'COUNT', 5_000);
    for (const [, f] of rows) {
      const at = f.indexOf('type');
      if (at < 0 || f[at + 1] !== type) continue;
      const dataAt = f.indexOf('data');
      if (keep(dataAt < 0 ? {} : JSON.parse(f[dataAt + 1] ?? '{}') as Record<string, unknown>)) n++;
    }
    if (rows.length < 5_000) break;
    from = `(${rows.at(-1)?.[0] ?? '0-0'}`;
  }
  return n;
}

async function countEvents(redis: Redis, type: string): Promise<number> {
  let n = 0;
  let from = '-';
  for (let page = 0; page < 1_000; page++) {
    const rows = await redis.xrange(eventsStream, from, '+', 'COUNT', 5_000);
    n += rows.filter(([, f]) => f[1] === type).length;
    if (rows.length < 5_000) break;
    from = `(${rows.at(-1)?.[0] ?? '0-0'}`;
  }
  return n;
}

function lastRequestAtMs(rig: Rig): number {
  let lastMs = 0;
  for (const book of rig.books.all) lastMs = Math.max(lastMs, book.bookmaker.log().at(-1)?.atMs ?? 0);
  return lastMs;
}
