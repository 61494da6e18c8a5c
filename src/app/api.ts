// Process composition of the operations API: Redis connections, the stores it reads and writes, the P&L
// projection timer, the fastify app listening on the configured address. Never a provider: it places no bet.
import { randomUUID } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ApiConfig } from '../api/config.js';
import { buildApi, type BuiltApi } from '../api/server.js';
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
  const redis = new Redis(options.redisUrl, storeRedisOptions());
  redis.on('error', (error) => log.warn({ err: error }, 'redis (api) connection error'));
  const stats = new StatsStore(redis);
  const reads = new ReadModel(redis);
  const built = await buildApi({
    config,
    store: new Store(redis, config.eventsStreamLenMax),
    ops: new OpsStore(redis, config.eventsStreamLenMax),
    reads,
    stats,
    queueLag: () => reads.queueLag(config.queueName, Date.now()),
    instanceId: randomUUID(),
    log,
    nowMs: () => Date.now(),
    ...(options.plugins ? { plugins: options.plugins } : {}),
  }).catch((error: unknown) => {
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
      redis.disconnect();
    },
  };
}

async function projectBacklog(step: () => Promise<number | null>): Promise<void> {
  for (let i = 0; i < pnlBatchesPerTickMax; i++) {
    const moved = await step();
    if (moved === 0) return;
  }
}
