// The rig's workers: in this process (startWorker with its providers) or as `bet-executor worker` child processes.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { startWorker, type RunningWorker, type WorkerOptions } from '../app/worker.js';
import type { Config } from '../config.js';
import { closeProviders, providersFromConfig } from '../providers/factory.js';
import { createRedis } from '../store/connection.js';

/** A worker in this process; its bookmaker connections (made from the config unless given) close with it. */
export async function startInProcessWorker(o: Omit<WorkerOptions, 'providers'> & { providers?: WorkerOptions['providers'] }): Promise<RunningWorker> {
  const providers = o.providers ?? providersFromConfig(o.config);
  const running = await startWorker({ ...o, providers });
  const close = running.close.bind(running);
  running.close = async () => {
    try {
      await close();
    } finally {
      await closeProviders(providers);
    }
  };
  return running;
}

/** Writes the config a worker process reads (`worker --config FILE`). */
export function writeConfigFile(dir: string, config: Config): string {
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

export interface WorkerProcessOptions {
  configFile: string;
  /** How the process reaches Redis (the topology's env), and anything else it needs. */
  env: Record<string, string>;
  /** Node arguments before the script (e.g. `--import` a preload). */
  nodeArgs?: string[];
  /** The script and its arguments; default `bin/bet-executor.mjs worker --config FILE`. */
  script?: string[];
  /** Working directory (a relative script or `--import tsx` resolves from it); default this process's. */
  cwd?: string;
  stdio?: StdioOptions;
}

/** One worker process (the service's own entry point, as in production). */
export function spawnWorkerProcess(o: WorkerProcessOptions): ChildProcess {
  const script = o.script ?? ['bin/bet-executor.mjs', 'worker', '--config', o.configFile];
  return spawn(process.execPath, [...(o.nodeArgs ?? []), ...script], {
    ...(o.cwd ? { cwd: o.cwd } : {}),
    env: { ...process.env, LOG_LEVEL: 'warn', ...o.env },
    stdio: o.stdio ?? ['ignore', 'pipe', 'pipe'],
  });
}

export interface WorkerPoolOptions {
  /** The process of a slot, spawned now (its options may differ per slot and per life). */
  spawnOptions(slot: number): WorkerProcessOptions;
  /** Where every process's stdout and stderr go. */
  logStream: Writable;
  /**
   * A process that ended by itself (not by kill()): whether to restart it, and after how long.
   * Default: restart after 300 ms.
   */
  onSelfExit?(slot: number, code: number | null, signal: NodeJS.Signals | null): number | null;
}

/** Worker processes in numbered slots: killed, frozen and restarted by the chaos run, stopped together at the end. */
export class WorkerPool {
  readonly slots: Array<ChildProcess | null> = [];
  readonly spawnedAtMs: number[] = [];
  /** Slots that are not restarted any more (e.g. a crash worker after its phase). */
  readonly retired = new Set<number>();
  stopping = false;

  constructor(private readonly o: WorkerPoolOptions) {}

  get size(): number {
    return this.slots.length;
  }

  child(slot: number): ChildProcess | null {
    return this.slots[slot] ?? null;
  }

  spawn(slot: number): ChildProcess {
    const child = spawnWorkerProcess({ ...this.o.spawnOptions(slot), stdio: ['ignore', 'pipe', 'pipe'] });
    this.slots[slot] = child;
    this.spawnedAtMs[slot] = Date.now();
    child.stdout?.pipe(this.o.logStream, { end: false });
    child.stderr?.pipe(this.o.logStream, { end: false });
    child.on('exit', (code, signal) => this.onExit(slot, child, code, signal));
    return child;
  }

  private onExit(slot: number, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping || this.slots[slot] !== child) return; // a deliberate kill restarts on its own schedule
    this.slots[slot] = null;
    const restartAfterMs = this.o.onSelfExit ? this.o.onSelfExit(slot, code, signal) : 300;
    if (restartAfterMs !== null) setTimeout(() => this.restart(slot), restartAfterMs).unref();
  }

  /** Spawns the slot again if it is empty (and not retired, and the pool not stopping). */
  restart(slot: number): void {
    if (!this.stopping && !this.retired.has(slot) && this.slots[slot] === null) this.spawn(slot);
  }

  /** SIGKILL, and a restart after restartAfterMs (null: none). False when the slot had no process. */
  kill(slot: number, restartAfterMs: number | null): boolean {
    const child = this.slots[slot];
    if (!child) return false;
    this.slots[slot] = null;
    child.kill('SIGKILL');
    if (restartAfterMs !== null) setTimeout(() => this.restart(slot), restartAfterMs).unref();
    return true;
  }

  /** SIGSTOP for frozenMs, then SIGCONT. */
  freeze(slot: number, frozenMs: number): boolean {
    const child = this.slots[slot];
    if (!child) return false;
    child.kill('SIGSTOP');
    setTimeout(() => child.kill('SIGCONT'), frozenMs).unref();
    return true;
  }

  stopAll(): void {
    this.stopping = true;
    for (const child of this.slots) child?.kill('SIGKILL');
  }
}

/** Waits until `count` BullMQ workers listen on the queue (the processes are up and connected). */
export async function waitForQueueWorkers(redisUrl: string, queueName: string, count: number, what: string, timeoutMs = 30_000): Promise<void> {
  const connection = createRedis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection });
  const deadline = Date.now() + timeoutMs;
  try {
    while ((await queue.getWorkers()).length < count) {
      if (Date.now() > deadline) throw new Error(`only ${(await queue.getWorkers()).length} of ${count} workers came up; see ${what}`);
      await sleep(100);
    }
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
