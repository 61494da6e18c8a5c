// Scrape-time gauges against a real Redis: what they read, and that a Redis that never answers leaves them out, bounded.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { startMetricsServer } from '../../src/metrics/http.js';
import { registerStateMetrics, type StateSource } from '../../src/metrics/state.js';
import { keys, opsKeys } from '../../src/store/keys.js';
import { freshRedisUrl } from '../support/redis.js';
import { parseExposition, samplesOf, scrape, sumOf, type Scrape } from './scrape.js';

const nowMs = Date.parse('2030-01-01T00:10:00.000Z');

async function metricsOf(registry: Registry): Promise<Scrape> {
  const text = await registry.metrics();
  return { status: 200, contentType: registry.contentType, text, ...parseExposition(text) };
}

function record(reason: string, detectedAt: string): string {
  return JSON.stringify({ arb_id: 'a', exposure_reason: reason, detected_at: detectedAt, requires_manual_review: true });
}

describe('scrape-time gauges', () => {
  let redis: Redis;
  let queueRedis: Redis;
  let queue: Queue;
  let registry: Registry;

  before(async () => {
    const url = await freshRedisUrl();
    redis = new Redis(url);
    queueRedis = new Redis(url, { maxRetriesPerRequest: null });
    queue = new Queue('state-test-pairs', { connection: queueRedis });
    registry = new Registry();
    registerStateMetrics(registry, { redis, queues: [queue], providers: ['bookA', 'bookB'], timeoutMs: 2_000, nowMs: () => nowMs });
  });
  after(async () => {
    await queue.close();
    queueRedis.disconnect();
    redis.disconnect();
  });

  it('say nothing is open and nothing waits on an empty Redis', async () => {
    const s = await metricsOf(registry);
    assert.equal(sumOf(s, 'bet_executor_exposures_open'), 0);
    assert.equal(samplesOf(s, 'bet_executor_exposure_oldest_open_age_seconds')[0]?.value, 0);
    assert.equal(sumOf(s, 'bet_executor_kill_switches_engaged'), 0);
    assert.equal(sumOf(s, 'bet_executor_queue_oldest_waiting_age_seconds', { queue: 'state-test-pairs' }), 0);
  });

  it('count open exposures by reason and age the oldest from its detected_at, skipping an unreadable entry', async () => {
    await redis.hset(keys.reviewOpen, {
      a1: record('hedge_in_doubt', '2030-01-01T00:07:30.000Z'),
      a2: record('hedge_in_doubt', '2030-01-01T00:09:00.000Z'),
      a3: record('settlement_timeout', '2030-01-01T00:00:00.000Z'),
      a4: '{not json',
    });
    const s = await metricsOf(registry);
    assert.equal(sumOf(s, 'bet_executor_exposures_open'), 4, 'HLEN counts every entry');
    assert.equal(sumOf(s, 'bet_executor_exposures_open_by_reason', { reason: 'hedge_in_doubt' }), 2);
    assert.equal(sumOf(s, 'bet_executor_exposures_open_by_reason', { reason: 'settlement_timeout' }), 1);
    assert.equal(sumOf(s, 'bet_executor_exposure_oldest_open_age_seconds'), 600);
    await redis.del(keys.reviewOpen);
  });

  it('count kill switches by scope: global, configured providers, accounts', async () => {
    await redis.set(keys.killGlobal, 'incident');
    await redis.set(keys.killProvider('bookB'), 'maintenance');
    await redis.set(keys.killProvider('unconfigured'), 'ignored');
    await redis.set(keys.killAccount('wl1', 'bookA', 'acc1'), 'limited');
    await redis.set(keys.killAccount('wl2', 'bookB', 'acc2'), 'limited');
    const s = await metricsOf(registry);
    assert.deepEqual(Object.fromEntries(samplesOf(s, 'bet_executor_kill_switches_engaged').map((x) => [x.labels.scope, x.value])), { global: 1, provider: 1, account: 2 });
    await redis.del(keys.killGlobal, keys.killProvider('bookB'), keys.killProvider('unconfigured'), keys.killAccount('wl1', 'bookA', 'acc1'), keys.killAccount('wl2', 'bookB', 'acc2'));
  });

  it('count a provider switch the API knows only from the kill-switch index (no provider list), and forget it once cleared', async () => {
    const apiRegistry = new Registry();
    registerStateMetrics(apiRegistry, { redis, queues: [], providers: [], timeoutMs: 2_000, nowMs: () => nowMs });
    await redis.set(keys.killProvider('bookC'), 'maintenance');
    await redis.hset(opsKeys.killIndex, keys.killProvider('bookC'), '{}');
    const engaged = await metricsOf(apiRegistry);
    assert.equal(sumOf(engaged, 'bet_executor_kill_switches_engaged', { scope: 'provider' }), 1);
    await redis.del(keys.killProvider('bookC'));
    const cleared = await metricsOf(apiRegistry);
    assert.equal(sumOf(cleared, 'bet_executor_kill_switches_engaged', { scope: 'provider' }), 0, 'a stale index entry is not an engaged switch');
    await redis.del(opsKeys.killIndex);
  });

  it('age the oldest waiting job from its enqueue time, without reading job data', async () => {
    await queue.pause();
    await queue.add('bet-pair', { arbId: 'first' }, { timestamp: nowMs - 45_000 });
    await queue.add('bet-pair', { arbId: 'second' }, { timestamp: nowMs - 5_000 });
    const s = await metricsOf(registry);
    assert.equal(sumOf(s, 'bet_executor_queue_oldest_waiting_age_seconds', { queue: 'state-test-pairs' }), 45);
    assert.equal(sumOf(s, 'bet_executor_queue_jobs', { queue: 'state-test-pairs', state: 'paused' }), 2, 'a paused queue keeps its jobs in its paused list');
    await queue.obliterate({ force: true });
  });
});

describe('when Redis never answers a scrape-time read', () => {
  let blackHole: Server;
  const sockets = new Set<Socket>();
  let redis: Redis;
  const errors: StateSource[] = [];

  before(async () => {
    // A TCP server that accepts and never answers: a Redis that hangs (paused, overloaded, network gone).
    blackHole = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const address = blackHole.address();
    assert.ok(address !== null && typeof address === 'object');
    redis = new Redis({ host: '127.0.0.1', port: address.port, maxRetriesPerRequest: null, lazyConnect: false });
    redis.on('error', () => undefined);
  });
  after(async () => {
    redis.disconnect();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => blackHole.close(() => resolve()));
  });

  it('answers the scrape once the timeout is up, with those gauges left out and the errors counted', { timeout: 20_000 }, async () => {
    const registry = new Registry();
    registerStateMetrics(registry, { redis, queues: [], providers: ['bookA'], timeoutMs: 100, onError: (source) => errors.push(source) });
    const server = await startMetricsServer({ host: '127.0.0.1', port: 0, registry });
    try {
      const first = await scrape(server.url);
      assert.equal(first.status, 200);
      assert.equal(samplesOf(first, 'bet_executor_exposures_open').length, 0);
      assert.equal(samplesOf(first, 'bet_executor_kill_switches_engaged').length, 0);
      assert.equal(sumOf(first, 'bet_executor_scrape_errors_total', { source: 'exposures' }), 1);
      assert.equal(sumOf(first, 'bet_executor_scrape_errors_total', { source: 'kill_switches' }), 1);
      assert.equal(sumOf(first, 'bet_executor_scrape_errors_total', { source: 'queues' }), 0, 'no queue, nothing to fail');
      const second = await scrape(server.url);
      assert.equal(sumOf(second, 'bet_executor_scrape_errors_total', { source: 'kill_switches' }), 2, 'a scan left running is joined, and fails the next scrape in time too');
      assert.deepEqual(errors.sort(), ['circuits', 'circuits', 'exposures', 'exposures', 'kill_switches', 'kill_switches']);
    } finally {
      await server.close();
    }
  });
});
