// /metrics over HTTP: a route any fastify app can mount (the API), and a small standalone server (each worker).
import Fastify, { type FastifyInstance, type RouteShorthandOptions } from 'fastify';
import type { Registry } from 'prom-client';

export const metricsPath = '/metrics';

/**
 * Mounts GET /metrics (Prometheus text format) on a fastify app. A source that fails leaves its gauges out, never
 * a 500. `options` are the route's options (the API's declare the token scope a scraper needs, and its OpenAPI text).
 */
export function registerMetricsRoute(app: FastifyInstance, registry: Registry, options: RouteShorthandOptions = {}): void {
  app.get(metricsPath, options, async (_request, reply) => {
    const body = await registry.metrics();
    return reply.header('content-type', registry.contentType).header('cache-control', 'no-store').send(body);
  });
}

export interface MetricsServerOptions {
  host: string;
  /** 0 = any free port (tests); the bound one is in the returned url. */
  port: number;
  registry: Registry;
}

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A server with only GET /metrics, for processes that serve nothing else (workers). */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  // Small limits: a scraper sends no body, and a slow client must not hold a socket for long.
  const app = Fastify({ logger: false, bodyLimit: 1_024, connectionTimeout: 30_000, requestTimeout: 30_000 });
  registerMetricsRoute(app, options.registry);
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('metrics server has no TCP address');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}${metricsPath}`,
    port: address.port,
    close: () => app.close(),
  };
}
