// Settlement polling under load: N pairs that never settle (2N poll chains) on one worker, measured in steady state.
// Figures: poll lateness (the SettlementProbe), polls/s against 2N per interval, CPU per process, the worker
// process's timers, Redis memory and delayed set, and Redis commands per poll (server and client side).
import { createHook } from 'node:async_hooks';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, platform } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startWorker } from '../src/app/worker.js';
import { startPrivateRedis, type PrivateRedis } from '../src/infra/redis-server.js';
import { closeProviders, providersFromConfig } from '../src/providers/factory.js';
import type { SettlementProbe } from '../src/settlement/poller.js';
import { auditStream } from '../src/store/keys.js';
import { benchConfig, completions, fillPausedQueue, makeBenchPair, outcomeProblem, sampleCpu, type CpuSample, type RoundTarget } from './rounds.js';
import type { BenchSims } from './sims.js';
import { median, summarize, type LatencySummary } from './stats.js';

export interface SettlementOptions {
  /** Pairs executed and left open (their bets never settle): 2 poll chains each. */
  pairs: number;
  /** Measurement window, after one poll interval of warm-up: whole intervals, so every chain polls as often in it. */
  windowMs: number;
}

/** The production default interval; the figures are about it. */
export const pollIntervalMs = 5_000;

export const settlementDefaults: SettlementOptions = { pairs: 10_000, windowMs: 4 * pollIntervalMs };
/** One interval between "every pair hedged" and the window: every chain has polled at least once by then. */
const warmupMs = pollIntervalMs;
/** Far more polls than the phase can run (the schema's maximum): no chain times out while measured. */
const pollCountMax = 100_000;
const workerConcurrency = 16;
/** A reading of the worker process's timers every this many polls of the window. */
const timerSampleEvery = 50;
const topCommands = 8;

export interface CommandRate {
  command: string;
  calls: number;
  perPoll: number;
}

export interface CpuOverWindow {
  /** CPU ms during the window, by process. */
  ms: { node: number; redis: number; sims: number | null };
  /** Percent of one core. */
  percentOfCore: { node: number; redis: number; sims: number | null };
  /** CPU microseconds per poll. */
  usPerPoll: { node: number; redis: number; sims: number | null };
  /**
   * Percent of one core the rest of the machine used meanwhile (/proc/stat busy − node − redis − sims; null
   * without /proc, or with the sims inline): well above 0, another load shared the cores and the figures suffer.
   */
  otherPercentOfCore: number | null;
}

export interface SettlementFigures {
  generatedAt: string;
  pairs: number;
  pollChains: number;
  pollIntervalMs: number;
  warmupMs: number;
  windowMs: number;
  workerConcurrency: number;
  settlementConcurrency: number;
  environment: { node: string; redis: string; redisMode: string; cpus: number; cpuModel: string; platform: string; simMode: string };
  /** Wall time from resuming the queue until every pair completed `hedged`. */
  executeMs: number;
  /** How late each poll of the window started against its due time (SettlementProbe). */
  lateness: LatencySummary & { meanMs: number };
  polls: { inWindow: number; measuredMs: number; perSecond: number; expectedPerSecond: number; achievedRatio: number };
  cpu: CpuOverWindow;
  timers: {
    /** process.getActiveResourcesInfo() 'Timeout' entries: ref'd timers, the kind a timer per pair would be. */
    refTimeouts: { beforeWorker: number; idleWorker: number; windowMedian: number; windowMax: number; windowSamples: number };
    /** Timeout objects (ref'd or not, e.g. AbortSignal.timeout) created during the warm-up and still live at its end (async_hooks). */
    liveTimeoutObjectsAfterWarmup: number;
    note: string;
  };
  redis: {
    usedMemoryBytes: { beforePairs: number; windowStart: number; windowEnd: number };
    usedMemoryHumanAtWindowEnd: string;
    /** (window start − before the pairs were enqueued) / pairs: journals, streams, completed pair jobs, the 2 poll jobs, and the polls so far. */
    bytesPerOpenPair: number;
    /** Growth during the window / polls (the audit stream grows by one entry per poll). */
    growthBytesPerPoll: number;
    /** Of which the audit stream (never trimmed): MEMORY USAGE of it, window end − start, / polls. */
    auditGrowthBytesPerPoll: number;
    /** MEMORY USAGE of the BullMQ delayed set, and of one poll job's hash. */
    delayedSetBytes: number;
    pollJobHashBytes: number;
    auditEntriesPerPoll: number;
    /** Settlement queue at the end of the window. */
    queue: { delayed: number; active: number; waiting: number; completed: number; failed: number };
  };
  commandsPerPoll: {
    /** INFO commandstats deltas over the window / polls: every command Redis ran, those inside Lua scripts included. */
    server: { total: number; top: CommandRate[] };
    /** Commands the bench process's ioredis clients sent (BullMQ scripts by name), / polls: the requests. */
    client: { total: number; top: CommandRate[] };
  };
  /** Warnings and errors the worker logged during the phase (a poll that failed is retried and logged). */
  workerLogWarnings: number;
}

export interface SettlementInput {
  options: SettlementOptions;
  sims: BenchSims;
  /** A Redis to use as is (REDIS_URL, a scratch database); otherwise a private redis-server just for this phase. */
  redisUrl?: string;
  progress(line: string): void;
}

/** Records poll lateness while the window is open, with a reading of the process's ref'd timers now and then. */
class PollRecorder implements SettlementProbe {
  private recording = false;
  latenessMs: number[] = [];
  timerSamples: number[] = [];
  pollsTotal = 0;

  pollStarted(latenessMs: number): void {
    this.pollsTotal++;
    if (!this.recording) return;
    this.latenessMs.push(latenessMs);
    if ((this.latenessMs.length - 1) % timerSampleEvery === 0) this.timerSamples.push(refTimeouts());
  }

  start(): void {
    this.recording = true;
  }

  stop(): void {
    this.recording = false;
  }
}

function refTimeouts(): number {
  return process.getActiveResourcesInfo().filter((type) => type === 'Timeout').length;
}

/** Counts live Timeout objects of this process, unref'd ones included, created while it runs. */
function trackTimeoutObjects(): { stop(): number } {
  const live = new Set<number>();
  const hook = createHook({
    init(asyncId, type) {
      if (type === 'Timeout') live.add(asyncId);
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  }).enable();
  return {
    stop() {
      const count = live.size;
      hook.disable();
      return count;
    },
  };
}

interface SentCommand {
  name: string;
  args: unknown[];
}

type ScriptedClient = { scriptsSet?: Record<string, { sha?: string }> };

/**
 * Counts the commands every ioredis client of this process sends (BullMQ's and the store's scripts by name),
 * by wrapping Redis.prototype.sendCommand while it runs; `ignore` (the bench's own client) is not counted.
 */
function countClientCommands(ignore: Redis): { stop(): Map<string, number> } {
  const proto = Redis.prototype as unknown as { sendCommand: (this: ScriptedClient, command: SentCommand, ...rest: unknown[]) => unknown };
  const original = proto.sendCommand;
  const counts = new Map<string, number>();
  const scriptNames = new Map<string, string>();
  const label = (client: ScriptedClient, command: SentCommand): string => {
    if (command.name !== 'evalsha' && command.name !== 'eval') return command.name;
    const sha = String(command.args[0]);
    let name = scriptNames.get(sha);
    if (name === undefined) {
      const entry = Object.entries(client.scriptsSet ?? {}).find(([, script]) => script.sha === sha);
      // BullMQ names its scripts `name:version`.
      name = entry ? `${command.name} ${entry[0].replace(/:[\d.]+$/, '')}` : `${command.name} ${sha.slice(0, 8)}`;
      scriptNames.set(sha, name);
    }
    return name;
  };
  proto.sendCommand = function (this: ScriptedClient, command: SentCommand, ...rest: unknown[]) {
    if ((this as unknown) !== ignore) {
      const name = label(this, command);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return original.call(this, command, ...rest);
  };
  return {
    stop() {
      proto.sendCommand = original;
      return counts;
    },
  };
}

async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1] ?? '?', Number(match[2]));
  return calls;
}

function perPoll(counts: Map<string, number>, polls: number): { total: number; top: CommandRate[] } {
  const rates = [...counts.entries()]
    .filter(([, calls]) => calls > 0)
    .map(([command, calls]) => ({ command, calls, perPoll: calls / polls }))
    .sort((a, b) => b.calls - a.calls);
  const total = rates.reduce((sum, r) => sum + r.calls, 0);
  return { total: total / polls, top: rates.slice(0, topCommands) };
}

function delta(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, calls] of after) out.set(name, calls - (before.get(name) ?? 0));
  // The bench's own INFO calls are not the worker's.
  out.delete('info');
  return out;
}

async function memory(redis: Redis): Promise<{ bytes: number; human: string }> {
  const info = await redis.info('memory');
  return {
    bytes: Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN),
    human: /used_memory_human:(\S+)/.exec(info)?.[1] ?? '?',
  };
}

/** MEMORY USAGE of a key, every element counted (SAMPLES 0); 0 when the key does not exist. */
async function memoryUsage(redis: Redis, key: string): Promise<number> {
  return Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) || 0;
}

let clockTicksPerSecond: number | undefined;

/** CPU ms the whole machine spent busy so far (/proc/stat, all cores); null where there is no /proc. */
function machineBusyMs(): number | null {
  try {
    clockTicksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    const busy = fields.reduce((sum, v) => sum + v, 0) - (fields[3] ?? 0) - (fields[4] ?? 0);
    return Number.isFinite(busy) ? (busy * 1000) / clockTicksPerSecond : null;
  } catch {
    return null;
  }
}

function cpuOverWindow(before: CpuSample, after: CpuSample, machineMs: number | null, wallMs: number, polls: number): CpuOverWindow {
  const sims = after.simsMs === null || before.simsMs === null ? null : after.simsMs - before.simsMs;
  const ms = { node: after.nodeMs - before.nodeMs, redis: after.redisMs - before.redisMs, sims };
  const pct = (v: number) => (100 * v) / wallMs;
  const us = (v: number) => (1000 * v) / polls;
  return {
    ms,
    percentOfCore: { node: pct(ms.node), redis: pct(ms.redis), sims: sims === null ? null : pct(sims) },
    usPerPoll: { node: us(ms.node), redis: us(ms.redis), sims: sims === null ? null : us(sims) },
    otherPercentOfCore: machineMs === null || sims === null ? null : Math.max(0, pct(machineMs - ms.node - ms.redis - sims)),
  };
}

async function redisVersion(redis: Redis): Promise<string> {
  return /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
}

export async function settlementPhase(input: SettlementInput): Promise<SettlementFigures> {
  const { options, sims, progress } = input;
  const n = options.pairs;
  if (options.windowMs < pollIntervalMs || options.windowMs % pollIntervalMs !== 0) {
    throw new Error(`settlement window (${options.windowMs} ms) must be a whole number of poll intervals (${pollIntervalMs} ms)`);
  }
  let server: PrivateRedis | undefined;
  if (input.redisUrl === undefined) {
    server = await startPrivateRedis();
    const started = server;
    process.once('exit', () => started.process.kill('SIGKILL'));
  }
  const redisUrl = input.redisUrl ?? server?.url ?? '';
  const tag = randomBytes(4).toString('hex');
  const target: RoundTarget = { redisUrl, concurrency: workerConcurrency, count: n, bookAUrl: sims.bookAUrl, bookBUrl: sims.bookBUrl, simsCpuMs: () => sims.cpuMs() };
  const config = benchConfig(target, `bench-settle-pairs-${tag}`, {
    settlementQueueName: `bench-settlement-${tag}`,
    settlementPollIntervalMs: pollIntervalMs,
    settlementPollCountMax: pollCountMax,
  });
  const pairs = Array.from({ length: n }, (_, i) => makeBenchPair(`s${tag}`, i));
  const benchRedis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const pairQueue = new Queue(config.queueName, { connection: benchRedis });
  const pollQueue = new Queue(config.settlementQueueName, { connection: benchRedis });
  const providers = providersFromConfig(config);
  const recorder = new PollRecorder();
  let workerLogWarnings = 0;
  const log = pino({ level: 'warn' }, { write: () => void workerLogWarnings++ });
  let running: Awaited<ReturnType<typeof startWorker>> | undefined;
  // Both instrumentations are undone in the finally block too, should the phase fail while they run.
  let timeoutObjects: { stop(): number } | undefined;
  let client: { stop(): Map<string, number> } | undefined;
  try {
    await sims.reset();
    const environment = {
      node: process.version,
      redis: await redisVersion(benchRedis),
      redisMode: server ? 'private redis-server of this phase' : 'REDIS_URL',
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      platform: `${platform()} ${process.arch}`,
      simMode: sims.mode === 'process' ? 'child process' : 'in the bench process',
    };
    const memBefore = await memory(benchRedis);
    await fillPausedQueue(pairQueue, pairs);
    const beforeWorker = refTimeouts();
    running = await startWorker({ config, redisUrl, providers, log, settlementProbe: recorder, recoverySweep: false });
    const idleWorker = refTimeouts();

    progress(`settlement: executing ${n} pairs (bets never settle), then polling ${2 * n} chains every ${pollIntervalMs} ms`);
    const waiter = completions(running.worker, n, outcomeProblem);
    const executeStart = performance.now();
    await pairQueue.resume();
    try {
      await waiter.done;
    } finally {
      waiter.detach();
    }
    const executeMs = performance.now() - executeStart;
    const chains = await pollQueue.getJobCounts('delayed', 'active', 'wait', 'prioritized', 'completed', 'failed');
    const open = (chains.delayed ?? 0) + (chains.active ?? 0) + (chains.wait ?? 0) + (chains.prioritized ?? 0);
    if (open !== 2 * n) throw new Error(`expected ${2 * n} open poll chains after executing ${n} pairs, found ${JSON.stringify(chains)}`);

    progress(`settlement: ${n} pairs hedged in ${(executeMs / 1000).toFixed(1)} s; warm-up ${warmupMs} ms, then a ${options.windowMs} ms window`);
    timeoutObjects = trackTimeoutObjects();
    await sleep(warmupMs);
    const liveTimeoutObjectsAfterWarmup = timeoutObjects.stop();

    const cpuBefore = await sampleCpu(benchRedis, target);
    const machineBefore = machineBusyMs();
    const statsBefore = await commandStats(benchRedis);
    const memStart = await memory(benchRedis);
    const auditStart = await benchRedis.xlen(auditStream);
    const auditBytesStart = await memoryUsage(benchRedis, auditStream);
    client = countClientCommands(benchRedis);
    const windowStart = performance.now();
    recorder.start();
    await sleep(options.windowMs);
    recorder.stop();
    const measuredMs = performance.now() - windowStart;
    const clientCounts = client.stop();
    const cpuAfter = await sampleCpu(benchRedis, target);
    const machineAfter = machineBusyMs();
    const statsAfter = await commandStats(benchRedis);
    const memEnd = await memory(benchRedis);
    const auditEnd = await benchRedis.xlen(auditStream);
    const auditBytesEnd = await memoryUsage(benchRedis, auditStream);
    const counts = await pollQueue.getJobCounts('delayed', 'active', 'wait', 'prioritized', 'completed', 'failed');
    const delayedKey = pollQueue.keys.delayed ?? `${pollQueue.qualifiedName}:delayed`;
    const delayedSetBytes = await memoryUsage(benchRedis, delayedKey);
    const someJobId = (await benchRedis.zrange(delayedKey, 0, 0))[0];
    const pollJobHashBytes = someJobId === undefined ? 0 : await memoryUsage(benchRedis, `${pollQueue.qualifiedName}:${someJobId}`);

    const polls = recorder.latenessMs.length;
    if (polls === 0) throw new Error('no settlement poll started during the window');
    const expectedPerSecond = (2 * n * 1000) / pollIntervalMs;
    const perSecond = (polls * 1000) / measuredMs;
    const lateness = summarize(recorder.latenessMs);
    const samples = recorder.timerSamples;
    return {
      generatedAt: new Date().toISOString(),
      pairs: n,
      pollChains: 2 * n,
      pollIntervalMs,
      warmupMs,
      windowMs: options.windowMs,
      workerConcurrency,
      settlementConcurrency: config.settlementConcurrency,
      environment,
      executeMs,
      lateness: { ...lateness, meanMs: recorder.latenessMs.reduce((a, b) => a + b, 0) / polls },
      polls: { inWindow: polls, measuredMs, perSecond, expectedPerSecond, achievedRatio: perSecond / expectedPerSecond },
      cpu: cpuOverWindow(cpuBefore, cpuAfter, machineBefore === null || machineAfter === null ? null : machineAfter - machineBefore, measuredMs, polls),
      timers: {
        refTimeouts: {
          beforeWorker,
          idleWorker,
          windowMedian: samples.length > 0 ? median(samples) : Number.NaN,
          windowMax: samples.length > 0 ? Math.max(...samples) : Number.NaN,
          windowSamples: samples.length,
        },
        liveTimeoutObjectsAfterWarmup,
        note: "refTimeouts.window* include the bench's own window timer (1); liveTimeoutObjectsAfterWarmup counts unref'd timers too (AbortSignal.timeout, ioredis command timeouts)",
      },
      redis: {
        usedMemoryBytes: { beforePairs: memBefore.bytes, windowStart: memStart.bytes, windowEnd: memEnd.bytes },
        usedMemoryHumanAtWindowEnd: memEnd.human,
        bytesPerOpenPair: (memStart.bytes - memBefore.bytes) / n,
        growthBytesPerPoll: (memEnd.bytes - memStart.bytes) / polls,
        auditGrowthBytesPerPoll: (auditBytesEnd - auditBytesStart) / polls,
        delayedSetBytes,
        pollJobHashBytes,
        auditEntriesPerPoll: (auditEnd - auditStart) / polls,
        queue: {
          delayed: counts.delayed ?? 0,
          active: counts.active ?? 0,
          waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
          completed: counts.completed ?? 0,
          failed: counts.failed ?? 0,
        },
      },
      commandsPerPoll: {
        server: perPoll(delta(statsAfter, statsBefore), polls),
        client: perPoll(clientCounts, polls),
      },
      workerLogWarnings,
    };
  } finally {
    timeoutObjects?.stop();
    client?.stop();
    await running?.close();
    await closeProviders(providers);
    await pollQueue.close();
    await pairQueue.close();
    benchRedis.disconnect();
    await server?.stop();
  }
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function commandLine(rates: readonly CommandRate[]): string[] {
  return rates.map((r) => `    ${r.command.padEnd(34)} ${r.perPoll.toFixed(2).padStart(7)}`);
}

export function renderSettlementTable(f: SettlementFigures, command: string): string {
  const row = (label: string, value: string) => `${label.padEnd(46)}  ${value}`;
  const opt = (v: number | null, digits: number) => (v === null ? 'inline' : v.toFixed(digits));
  const t = f.timers.refTimeouts;
  const q = f.redis.queue;
  const lines = [
    '',
    `settlement polling: ${f.pairs} open pairs = ${f.pollChains} poll chains every ${f.pollIntervalMs} ms, one worker`
      + ` (settlementConcurrency ${f.settlementConcurrency}); ${f.windowMs} ms window after ${f.warmupMs} ms warm-up`,
    row('metric', 'value'),
    row('-'.repeat(46), '-'.repeat(30)),
    row(`executing ${f.pairs} pairs until hedged, s`, (f.executeMs / 1000).toFixed(1)),
    row('poll lateness p50 / p99 / max, ms', `${f.lateness.p50Ms} / ${f.lateness.p99Ms} / ${f.lateness.maxMs} (mean ${f.lateness.meanMs.toFixed(1)}, n=${f.lateness.count})`),
    row('polls/s achieved / expected (2N / interval)', `${f.polls.perSecond.toFixed(0)} / ${f.polls.expectedPerSecond.toFixed(0)} (${(100 * f.polls.achievedRatio).toFixed(1)}%)`),
    row('CPU % of a core: node / redis / sims / other', `${f.cpu.percentOfCore.node.toFixed(0)} / ${f.cpu.percentOfCore.redis.toFixed(0)} / ${opt(f.cpu.percentOfCore.sims, 0)} / ${f.cpu.otherPercentOfCore === null ? 'n/a' : f.cpu.otherPercentOfCore.toFixed(0)}`),
    row('CPU us per poll: node / redis / sims', `${f.cpu.usPerPoll.node.toFixed(0)} / ${f.cpu.usPerPoll.redis.toFixed(0)} / ${opt(f.cpu.usPerPoll.sims, 0)}`),
    row("ref'd timers: no worker / idle / window med, max", `${t.beforeWorker} / ${t.idleWorker} / ${t.windowMedian}, ${t.windowMax} (${t.windowSamples} readings)`),
    row("live Timeout objects incl. unref'd (warm-up)", String(f.timers.liveTimeoutObjectsAfterWarmup)),
    row('settlement queue: delayed / active+waiting', `${q.delayed} / ${q.active + q.waiting} (completed ${q.completed}, failed ${q.failed})`),
    row('Redis used_memory at window end', `${f.redis.usedMemoryHumanAtWindowEnd} (${mb(f.redis.usedMemoryBytes.beforePairs)} before the pairs)`),
    row('  per open pair / delayed set / one poll job', `${(f.redis.bytesPerOpenPair / 1024).toFixed(1)} KB / ${mb(f.redis.delayedSetBytes)} / ${f.redis.pollJobHashBytes} B`),
    row('  growth per poll (audit stream) / audit entries', `${f.redis.growthBytesPerPoll.toFixed(0)} B (${f.redis.auditGrowthBytesPerPoll.toFixed(0)} B) / ${f.redis.auditEntriesPerPoll.toFixed(2)}`),
    row('worker warnings/errors logged', String(f.workerLogWarnings)),
    '',
    `Redis commands per poll, server side (INFO commandstats, Lua-internal calls included): ${f.commandsPerPoll.server.total.toFixed(2)}`,
    ...commandLine(f.commandsPerPoll.server.top),
    `Requests per poll sent by the worker's clients (scripts by name): ${f.commandsPerPoll.client.total.toFixed(2)}`,
    ...commandLine(f.commandsPerPoll.client.top),
    '',
    `node ${f.environment.node}, redis ${f.environment.redis} (${f.environment.redisMode}), ${f.environment.cpus} x ${f.environment.cpuModel}, sims: ${f.environment.simMode}`,
    `reproduce: ${command}`,
  ];
  return lines.join('\n');
}
