// A worker's metrics: one registry per process, the recorder the executor feeds, and /metrics on metricsPort.
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { LegRole } from '../domain/types.js';
import type { LegWindowProbe } from '../executor/run.js';
import type { SettlementProbe } from '../settlement/poller.js';
import { startMetricsServer, type MetricsServer } from './http.js';
import { MetricsRecorder } from './recorder.js';
import { registerStateMetrics } from './state.js';

export interface WorkerMetrics {
  registry: Registry;
  recorder: MetricsRecorder;
  /** The /metrics URL once served; null when metricsPort is not set. */
  url: string | null;
  /** Serves /metrics when metricsPort is set: Node process metrics and the scrape-time gauges join the registry. */
  serve(sources: { redis: Redis; queues: readonly Queue[]; log: Logger }): Promise<void>;
  close(): Promise<void>;
}

/**
 * The counters are kept whether or not they are served (a counter increment is all the executor pays);
 * Node's process metrics and the Redis-derived gauges are added only when /metrics is served.
 */
export function createWorkerMetrics(config: Config): WorkerMetrics {
  const registry = new Registry();
  const providers = Object.keys(config.providers);
  const recorder = new MetricsRecorder(registry, providers);
  let server: MetricsServer | null = null;
  return {
    registry,
    recorder,
    get url() {
      return server?.url ?? null;
    },
    async serve({ redis, queues, log }) {
      if (config.metricsPort === undefined || server !== null) return;
      collectDefaultMetrics({ register: registry });
      registerStateMetrics(registry, {
        redis, queues, providers, timeoutMs: config.metricsScrapeTimeoutMs,
        onError: (source, error) => log.warn({ source, err: error }, 'metrics: a scrape-time source was left out of the scrape'),
      });
      server = await startMetricsServer({ host: config.metricsHost, port: config.metricsPort, registry });
      log.info({ metricsUrl: server.url }, 'metrics served');
    },
    async close() {
      await server?.close();
      server = null;
    },
  };
}

/**
 * The recorder's leg window probe, alongside another one (the benchmark's) when given. The other probe's
 * window encloses the recorder's work at both ends, so the benchmark measures what the metrics cost.
 */
export function withLegWindowProbe(recorder: MetricsRecorder, other: LegWindowProbe | undefined): LegWindowProbe {
  if (!other) return recorder;
  return {
    ...(other.jobTaken ? { jobTaken: other.jobTaken.bind(other) } : {}),
    answerParsed(arbId: string, role: LegRole) {
      other.answerParsed(arbId, role);
      recorder.answerParsed(arbId, role);
    },
    requestSent(arbId: string, role: LegRole) {
      recorder.requestSent(arbId, role);
      other.requestSent(arbId, role);
    },
  };
}

/** The recorder's settlement probe, alongside another one (the settlement benchmark's) when given. */
export function withSettlementProbe(recorder: MetricsRecorder, other: SettlementProbe | undefined): SettlementProbe {
  if (!other) return recorder;
  return {
    pollStarted(latenessMs: number) {
      recorder.pollStarted(latenessMs);
      other.pollStarted(latenessMs);
    },
  };
}
