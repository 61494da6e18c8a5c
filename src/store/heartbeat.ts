// A worker process's heartbeat in Redis, by Redis time: its key (value unix ms, TTL) and its score in the workers set.
import type { Redis } from 'ioredis';
import { opsKeys } from './keys.js';
import { opsLua } from './scripts.js';

interface HeartbeatRedis extends Redis {
  beHeartbeat(...args: (string | number)[]): Promise<number>;
}

export interface HeartbeatWriterOptions {
  /** Names the key bet-executor:worker:heartbeat:{workerId}. */
  workerId: string;
  intervalMs: number;
  /** TTL of the key: a few intervals, so one late refresh does not look like a dead worker. */
  ttlMs: number;
  onError(error: unknown): void;
}

/** Workers silent for this long leave the workers set. */
const forgetAfterMs = 86_400_000;
/** A clean stop deletes the key within this, or leaves it to its TTL (Redis away). */
const deleteMsMax = 1_000;

/**
 * A worker's heartbeat writer: every intervalMs one Lua step sets `bet-executor:worker:heartbeat:{workerId}`
 * to the Redis time in unix ms (TTL ttlMs) and scores the worker in `bet-executor:workers` with it, so the
 * alerter's dead-man's switch (key values) and the API's /ready (the set, no SCAN) read one clock.
 * Construct it with the client, before the client is used: ioredis breaks a client's pending auto-pipeline
 * when a command is defined on it while in use (seen: a worker crashing with "results[i] is not iterable").
 */
export class WorkerHeartbeat {
  private readonly client: HeartbeatRedis;
  private timer: NodeJS.Timeout | undefined;
  readonly key: string;

  constructor(redis: Redis, private readonly options: HeartbeatWriterOptions) {
    const { intervalMs, ttlMs } = options;
    if (!(intervalMs > 0 && ttlMs > intervalMs)) throw new Error(`heartbeat ttlMs (${ttlMs}) must be > intervalMs (${intervalMs}) > 0`);
    this.client = redis as HeartbeatRedis;
    if (typeof this.client.beHeartbeat !== 'function') this.client.defineCommand('beHeartbeat', { numberOfKeys: 2, lua: opsLua('heartbeat') });
    this.key = opsKeys.workerHeartbeat(options.workerId);
  }

  /** Beats now and every intervalMs (a failed beat is reported; the next one is tried). */
  start(): { stop(): Promise<void> } {
    const beat = () => {
      this.client.beHeartbeat(this.key, opsKeys.workers, this.options.workerId, this.options.ttlMs, forgetAfterMs).catch(this.options.onError);
    };
    beat();
    this.timer = setInterval(beat, this.options.intervalMs);
    this.timer.unref();
    return { stop: () => this.stop() };
  }

  /** Stops beating and removes the heartbeat (a stopped worker is not counted alive), bounded in time. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    let bound: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      bound = setTimeout(resolve, deleteMsMax);
    });
    const removal = this.client.multi().del(this.key).zrem(opsKeys.workers, this.options.workerId).exec().then(() => undefined, () => undefined);
    await Promise.race([removal, limit]);
    clearTimeout(bound);
  }
}

/** A heartbeat on a client of its own (tests, tools): constructed and started at once. */
export function startHeartbeat(redis: Redis, options: HeartbeatWriterOptions): { stop(): Promise<void> } {
  return new WorkerHeartbeat(redis, options).start();
}
