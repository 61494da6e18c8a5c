// /health (the process answers) and /ready (Redis takes writes, a worker is alive, the queue keeps up): no token, no data.
import type { FastifyInstance } from 'fastify';
import { schemas } from '../schemas.js';
import type { ApiDeps } from '../types.js';
import { routeOptions } from './route.js';

export function registerHealthRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.get('/health', routeOptions({
    access: 'public', tags: ['health'], summary: 'the API process is up (says nothing about Redis or workers)', response: schemas.health,
  }), async () => ({ status: 'ok' as const }));

  app.get('/ready', routeOptions({
    access: 'public',
    tags: ['health'],
    summary: 'ready to serve: Redis takes writes, a worker heartbeat is fresh, the oldest waiting pair waits less than queueLagMsMax',
    description: 'Answers 200 when every check passes, else 503 with the same body; each check is true or false, nothing else.',
    response: schemas.ready,
    otherResponses: { 503: schemas.ready },
  }), async (_request, reply) => {
    const checks = await readinessChecks(deps);
    const ready = checks.redisWritable && checks.workerHeartbeat && checks.queueLag;
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not_ready', checks });
  });
}

async function readinessChecks(deps: ApiDeps): Promise<{ redisWritable: boolean; workerHeartbeat: boolean; queueLag: boolean }> {
  const { readiness } = deps.config;
  const [probe, lag] = await Promise.all([
    withTimeout(deps.ops.readyProbe(deps.instanceId, readiness.heartbeatAgeMsMax), readiness.checkTimeoutMs),
    withTimeout(deps.queueLag(), readiness.checkTimeoutMs),
  ]);
  if (probe === null) deps.log.warn('readiness: Redis did not take the probe write');
  return {
    redisWritable: probe !== null,
    workerHeartbeat: probe !== null && probe.freshWorkers > 0,
    queueLag: lag !== null && lag.oldestWaitingMs <= readiness.queueLagMsMax,
  };
}

/** The promise's value, or null when it fails or takes longer than the limit. */
async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), timeoutMs);
  });
  try {
    return await Promise.race([promise.catch(() => null), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
