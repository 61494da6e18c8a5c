// A worker process's heartbeat in Redis: its key (TTL) and its score in the workers set, by Redis time.
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { opsKeys } from './keys.js';
import { opsLua } from './scripts.js';

interface HeartbeatRedis extends Redis {
  beHeartbeat(...args: (string | number)[]): Promise<number>;
}

export interface HeartbeatOptions {
  workerId: string;
  queueName: string;
  intervalMs: number;
  onError(error: unknown): void;
}

export interface RunningHeartbeat {
  /** Stops beating and removes this worker's heartbeat (a stopped worker is not counted as alive). */
  stop(): Promise<void>;
}

/** A heartbeat lives this many intervals: one late beat does not make the worker look dead. */
export const heartbeatTtlIntervals = 3;
/** Workers silent for this long leave the workers set. */
const forgetAfterMs = 86_400_000;

export function workerIdFor(pid: number, suffix: string): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  return `${host}-${pid}-${suffix}`;
}

/**
 * A worker's heartbeat writer. Construct it with the client, before the client is used: ioredis breaks a
 * client's pending auto-pipeline when a command is defined on it while in use (seen: a worker crashing with
 * "results[i] is not iterable"), so scripts are defined up front, as the Store does.
 */
export class WorkerHeartbeat {
  private readonly client: HeartbeatRedis;
  private timer: NodeJS.Timeout | undefined;
  private readonly key: string;
  private readonly value: string;

  constructor(redis: Redis, private readonly options: HeartbeatOptions) {
    this.client = redis as HeartbeatRedis;
    if (typeof this.client.beHeartbeat !== 'function') this.client.defineCommand('beHeartbeat', { numberOfKeys: 2, lua: opsLua('heartbeat') });
    this.key = opsKeys.workerHeartbeat(options.workerId);
    this.value = JSON.stringify({ workerId: options.workerId, host: hostname(), pid: process.pid, queueName: options.queueName, startedAtMs: Date.now() });
  }

  /** Beats now and every intervalMs (a failed beat is reported and the next one tried). */
  async start(): Promise<RunningHeartbeat> {
    await this.beat().catch(this.options.onError);
    this.timer = setInterval(() => {
      this.beat().catch(this.options.onError);
    }, this.options.intervalMs);
    this.timer.unref();
    return { stop: () => this.stop() };
  }

  /** Stops beating and removes this worker's heartbeat (a stopped worker is not counted as alive). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.client.multi().del(this.key).zrem(opsKeys.workers, this.options.workerId).exec().catch(this.options.onError);
  }

  private beat(): Promise<number> {
    return this.client.beHeartbeat(this.key, opsKeys.workers, this.options.workerId, this.value, heartbeatTtlIntervals * this.options.intervalMs, forgetAfterMs);
  }
}

/** A heartbeat on a client of its own use (tests, tools): constructed and started at once. */
export async function startHeartbeat(redis: Redis, options: HeartbeatOptions): Promise<RunningHeartbeat> {
  return new WorkerHeartbeat(redis, options).start();
}
