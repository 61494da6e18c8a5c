// /health and /ready: no token, no data; ready only with a writable Redis, a live worker and a queue that keeps up.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createToken } from '../../src/api/auth.js';
import { parseApiConfig } from '../../src/api/config.js';
import { startApi, type RunningApi } from '../../src/app/api.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/infra/redis-server.js';
import { startHeartbeat } from '../../src/store/heartbeat.js';
import { makePair } from '../support/harness.js';
import { createApiRig, type ApiRig } from './support.js';

const readiness = { heartbeatAgeMsMax: 6_000, queueLagMsMax: 300, checkTimeoutMs: 1_000 };

describe('/health and /ready', () => {
  let rig: ApiRig;
  before(async () => {
    rig = await createApiRig({ readiness });
  });
  after(async () => rig.close());

  const ready = () => rig.call('GET', '/ready', { as: null });

  it('/health answers without a token and says nothing else', async () => {
    const r = await rig.call('GET', '/health', { as: null });
    assert.deepEqual([r.status, r.body], [200, { status: 'ok' }]);
  });

  it('/ready is 503 while no worker is alive, 200 with one, 503 again once it stops', async () => {
    const none = await ready();
    assert.deepEqual([none.status, none.body], [503, { status: 'not_ready', checks: { redisWritable: true, workerHeartbeat: false, queueLag: true } }]);
    const worker = await rig.h.startWorker();
    const up = await ready();
    assert.deepEqual([up.status, up.body], [200, { status: 'ready', checks: { redisWritable: true, workerHeartbeat: true, queueLag: true } }]);
    assert.ok(await rig.h.redis.exists((await rig.h.redis.keys('bet-executor:worker:heartbeat:*'))[0] ?? 'none'));
    await worker.close();
    rig.h.workers.splice(rig.h.workers.indexOf(worker), 1);
    assert.equal((await ready()).status, 503);
    assert.deepEqual(await rig.h.redis.keys('bet-executor:worker:heartbeat:*'), []);
  });

  it('/ready is 503 when the oldest waiting pair has waited past queueLagMsMax (a worker alive but not consuming)', async () => {
    const heartbeat = startHeartbeat(rig.h.redis, { workerId: 'stuck-1', intervalMs: 100, ttlMs: 300, onError: () => undefined });
    try {
      assert.equal((await ready()).status, 200);
      await rig.h.enqueue(makePair());
      const lagging = await rig.h.waitFor('the queue lag check to fail', async () => {
        const r = await ready();
        return r.status === 503 ? r : null;
      });
      assert.deepEqual(lagging.body.checks, { redisWritable: true, workerHeartbeat: true, queueLag: false });
      await rig.h.startWorker();
      await rig.h.waitFor('the queue to drain', async () => (await ready()).status === 200);
    } finally {
      await heartbeat.stop();
    }
  });
});

describe('readiness and errors when Redis fails', () => {
  let redis: PrivateRedis;
  let api: RunningApi;
  let admin: Redis;
  const { token, entry } = createToken('ops', 'read');
  before(async () => {
    redis = await startPrivateRedis();
    admin = new Redis(redis.url);
    api = await startApi({ config: parseApiConfig({ tokens: [entry], readiness, pnlProjectionIntervalMs: 0 }), redisUrl: redis.url, log: pino({ level: 'silent' }), listen: false });
  });
  after(async () => {
    admin.disconnect();
    await api.close();
    await redis.stop();
  });
  const get = async (url: string, auth = true) => {
    const res = await api.app.inject({ method: 'GET', url, headers: auth ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
  };

  it('/ready says Redis is not writable when it refuses writes (out of memory under noeviction)', async () => {
    const heartbeat = startHeartbeat(admin, { workerId: 'w-oom', intervalMs: 100, ttlMs: 300, onError: () => undefined });
    assert.equal((await get('/ready', false)).status, 200);
    await heartbeat.stop();
    const fresh = startHeartbeat(admin, { workerId: 'w-oom2', intervalMs: 60_000, ttlMs: 180_000, onError: () => undefined });
    await admin.config('SET', 'maxmemory', '1');
    try {
      const r = await get('/ready', false);
      assert.equal(r.status, 503);
      assert.deepEqual(r.body.checks, { redisWritable: false, workerHeartbeat: false, queueLag: true });
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      await fresh.stop();
    }
  });

  it('with Redis gone: /health still 200, /ready 503 within its check timeout, reads answer redis_unavailable', async () => {
    redis.process.kill('SIGSTOP');
    try {
      assert.equal((await get('/health', false)).status, 200);
      const r = await get('/ready', false);
      assert.deepEqual([r.status, r.body], [503, { status: 'not_ready', checks: { redisWritable: false, workerHeartbeat: false, queueLag: false } }]);
      const read = await get('/api/v1/exposures/open');
      assert.equal(read.status, 503);
      assert.equal(read.body.code, 'redis_unavailable');
    } finally {
      redis.process.kill('SIGCONT');
    }
  });
});
