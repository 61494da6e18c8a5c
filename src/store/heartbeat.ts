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

export async function startHeartbeat(redis: Redis, options: HeartbeatOptions): Promise<RunningHeartbeat> {
  const client = redis as HeartbeatRedis;
  if (typeof client.beHeartbeat !== 'function') client.defineCommand('beHeartbeat', { numberOfKeys: 2, lua: opsLua('heartbeat') });
  const key = opsKeys.workerHeartbeat(options.workerId);
  const value = JSON.stringify({ workerId: options.workerId, host: hostname(), pid: process.pid, queueName: options.queueName, startedAtMs: Date.now() });
  const beat = () => client.beHeartbeat(key, opsKeys.workers, options.workerId, value, heartbeatTtlIntervals * options.intervalMs, forgetAfterMs);
  await beat().catch(options.onError);
  const timer = setInterval(() => {
    beat().catch(options.onError);
  }, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await client.multi().del(key).zrem(opsKeys.workers, options.workerId).exec().catch(options.onError);
    },
  };
}
