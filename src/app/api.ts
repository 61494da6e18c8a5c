// Process composition of the operations API: Redis connections, the stores it reads and writes, the P&L
// projection timer, the fastify app listening on the configured address. Never a provider: it places no bet.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { registerMetricsRoute } from '../metrics/http.js';
import { registerStateMetrics } from '../metrics/state.js';
import type { ApiConfig } from '../api/config.js';
import { routeOptions } from '../api/routes/route.js';
import { buildApi, type BuiltApi } from '../api/server.js';
import { createRedis } from '../store/connection.js';
import { CircuitStore } from '../store/circuit.js';
import { OpsStore } from '../store/ops.js';
import { ReadModel } from '../store/read-model.js';
import { StatsStore } from '../store/stats.js';
import { Store, storeRedisOptions } from '../store/store.js';

export interface ApiOptions {
  config: ApiConfig;
  redisUrl: string;
  log: Logger;
  /** Registered after the API's routes: where /metrics plugs in. Each route must declare config.access. */
  plugins?: FastifyPluginAsync[];
  /** Listen (default) or only build the app (tests drive it with inject). */
  listen?: boolean;
}

export interface RunningApi extends BuiltApi {
  /** http://host:port when listening, else null. */
  url: string | null;
  /** One step of the P&L projection (the timer runs it too); returns the audit entries it moved past. */
  projectPnl(): Promise<number | null>;
  close(): Promise<void>;
}

/** The P&L projection reads this many batches per tick at most, so a long backlog does not hold the timer. */
const pnlBatchesPerTickMax = 20;

export async function startApi(options: ApiOptions): Promise<RunningApi> {
  const { config, log } = options;
  const redis = createRedis(options.redisUrl, storeRedisOptions());
  redis.on('error', (error) => log.warn({ err: error }, 'redis (api) connection error'));
  const stats = new StatsStore(redis);
  const reads = new ReadModel(redis);
  const metrics = apiMetrics(config, options.redisUrl, redis, log);
  const built = await buildApi({
    config,
    store: new Store(redis, config.eventsStreamLenMax),
    ops: new OpsStore(redis, config.eventsStreamLenMax),
    circuits: new CircuitStore(redis, config.eventsStreamLenMax),
    reads,
    stats,
    queueLag: () => reads.queueLag(config.queueName, Date.now()),
    instanceId: randomUUID(),
    log,
    nowMs: () => Date.now(),
    plugins: [...(options.plugins ?? []), metrics.plugin],
  }).catch(async (error: unknown) => {
    await metrics.close();
    redis.disconnect();
    throw error;
  });
  const projectPnl = () => stats.projectPnl(config.pnlProjectionBatchMax);
  let projecting = false;
  const timer = config.pnlProjectionIntervalMs > 0 ? setInterval(() => {
    if (projecting) return;
    projecting = true;
    projectBacklog(projectPnl)
      .catch((error: unknown) => log.warn({ err: error }, 'P&L projection step failed; it is retried'))
      .finally(() => { projecting = false; });
  }, config.pnlProjectionIntervalMs) : undefined;
  timer?.unref();
  const url = options.listen === false ? null : await built.app.listen({ host: config.host, port: config.port });
  if (url) log.info({ url, tokens: config.tokens.length }, 'API listening');
  return {
    ...built,
    url,
    projectPnl,
    async close() {
      if (timer) clearInterval(timer);
      await built.app.close();
      await metrics.close();
      redis.disconnect();
    },
  };
}

/**
 * The API's /metrics (scope read: the API faces the network): Node's process metrics and the scrape-time gauges
 * read from Redis (open exposures, kill switches, queue depths), as a worker serves them. Placement counters
 * live in the workers.
 */
function apiMetrics(config: ApiConfig, redisUrl: string, redis: Redis, log: Logger): { plugin: FastifyPluginAsync; close(): Promise<void> } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const queueConnection = createRedis(redisUrl, storeRedisOptions());
  queueConnection.on('error', (error) => log.warn({ err: error }, 'redis (api metrics) connection error'));
  // Read only: a BullMQ Queue otherwise writes its queue's meta key, which the API's Redis ACL user may not.
  const queues = [config.queueName, config.settlementQueueName].map((name) => new Queue(name, { connection: queueConnection, skipMetasUpdate: true }));
  registerStateMetrics(registry, {
    redis, queues, providers: [], timeoutMs: 2_000,
    onError: (source, error) => log.warn({ source, err: error }, 'metrics: a scrape-time source was left out of the scrape'),
  });
  return {
    plugin: async (app) => registerMetricsRoute(app, registry, routeOptions({
      access: 'read', tags: ['meta'], summary: 'Prometheus metrics (text exposition format, not JSON)',
      description: 'Node process metrics and the gauges read from Redis at scrape time; placement counters are on each worker\'s metricsPort.',
      response: { type: 'string' },
    })),
    async close() {
      for (const q of queues) await q.close();
      queueConnection.disconnect();
    },
  };
}

async function projectBacklog(step: () => Promise<number | null>): Promise<void> {
  for (let i = 0; i < pnlBatchesPerTickMax; i++) {
    const moved = await step();
    if (moved === 0) return;
  }
}
