// What the API's routes are given: configuration, the Redis adapters, readiness probes, a clock.
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { CircuitStore } from '../store/circuit.js';
import type { OpsStore } from '../store/ops.js';
import type { ReadModel } from '../store/read-model.js';
import type { StatsStore } from '../store/stats.js';
import type { Store } from '../store/store.js';
import type { Principal } from './auth.js';
import type { ApiConfig, Scope } from './config.js';

export interface QueueLag {
  waiting: number;
  /** How long the oldest waiting pair has waited; 0 when none waits. */
  oldestWaitingMs: number;
}

export interface ApiDeps {
  config: ApiConfig;
  /** The executor's store: exposure resolution goes through its Lua step. */
  store: Store;
  ops: OpsStore;
  /** The bookmakers' circuit breakers (read, and forced open or closed by an operator). */
  circuits: CircuitStore;
  reads: ReadModel;
  stats: StatsStore;
  /** The bet-pairs queue's lag (BullMQ), for /ready. */
  queueLag(): Promise<QueueLag>;
  /** Names this process's readiness probe key. */
  instanceId: string;
  log: Logger;
  /** Wall clock for records (unix ms). */
  nowMs(): number;
  /** Plugins registered after the API's own routes (e.g. /metrics); each may add routes. */
  plugins?: FastifyPluginAsync[];
}

/** Route options every route carries: the scope a token needs, or public (health, readiness, the OpenAPI document). */
export interface RouteAccess {
  scope: Scope | 'public';
  /** How the caller is authenticated: a bearer token (default) or the dashboard's session cookie. */
  via?: 'bearer' | 'session';
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated token of a non-public route. */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
  }
}
