// The dead-man's switch: no worker heartbeat, or an exposure left unresolved, is alerted, re-alerted, then cleared.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.js';
import { startWorker, type RunningWorker } from '../../src/app/worker.js';
import { startAlertReceiver, type AlertReceiver, type ReceivedRequest } from '../../src/alerter/receiver.js';
import { keys } from '../../src/store/keys.js';
import { Store } from '../../src/store/store.js';
import { Redis } from 'ioredis';
import { createAlerterRig, exposureAlertData, fastAlerterConfig, readStream, eventsStream, waitFor, webhookSink, type AlerterRig } from './support.js';

interface Notice {
  eventType: string;
  status: string;
  title: string;
  text: string;
  fingerprint: string;
  data: { condition: string; count?: number; sinceMs: number; detail: string };
}

function notices(receiver: AlertReceiver, condition: string): Notice[] {
  return receiver.requests.map((r: ReceivedRequest) => r.body as Notice).filter((b) => b.eventType.startsWith('deadman_') && b.data.condition === condition);
}

async function worker(redisUrl: string, workerId: string): Promise<RunningWorker> {
  const config = parseConfig({ providers: { bookA: { url: 'http://127.0.0.1:9' } }, lockTtlMs: 1_000, providerTimeoutMs: 200, jobLockMs: 1_000, stalledCheckMs: 300, inDoubtDeadlineMs: 1_500, lateCommitGraceMs: 300 });
  const { providersFromConfig } = await import('../../src/providers/factory.js');
  return startWorker({ config, redisUrl, providers: providersFromConfig(config), log: pino({ level: 'silent' }), recoverySweep: false, heartbeat: { workerId, intervalMs: 50, ttlMs: 200 } });
}

describe('the dead-man\'s switch', () => {
  let rig: AlerterRig;
  let receiver: AlertReceiver;
  beforeEach(async () => {
    rig = await createAlerterRig();
    receiver = await startAlertReceiver();
  });
  afterEach(async () => {
    await rig.close();
    await receiver.close();
  });

  it('a worker writes its heartbeat key with a TTL while it runs and removes it when it stops', async () => {
    const running = await worker(rig.redisUrl, 'hb-test-1');
    const key = keys.workerHeartbeat('hb-test-1');
    assert.equal(key, 'bet-executor:worker:heartbeat:hb-test-1');
    const value = Number(await waitFor('heartbeat written', () => rig.redis.get(key)));
    assert.ok(Math.abs(Date.now() - value) < 5_000, 'value is the worker\'s clock in unix ms');
    const ttlMs = await rig.redis.pttl(key);
    assert.ok(ttlMs > 0 && ttlMs <= 200, `TTL ${ttlMs} ms`);
    await waitFor('refreshed', async () => Number(await rig.redis.get(key)) > value);
    await running.close();
    assert.equal(await rig.redis.exists(key), 0);
  });

  it('alerts when no worker heartbeat is fresh, re-alerts at the interval, and clears when a worker is back', async () => {
    const first = await worker(rig.redisUrl, 'dm-1');
    await rig.start(fastAlerterConfig({ hook: webhookSink(receiver.url) }, {
      deadman: { checkIntervalMs: 50, workerHeartbeatStaleMs: 1_000, exposureUnresolvedMs: null, realertIntervalMs: 400 },
    }));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(notices(receiver, 'worker_heartbeat').length, 0, 'no alert while a worker beats');
    await first.close();
    await waitFor('alerted twice', () => notices(receiver, 'worker_heartbeat').filter((n) => n.eventType === 'deadman_alert').length >= 2);
    const [alert, again] = notices(receiver, 'worker_heartbeat') as [Notice, Notice];
    assert.match(alert.title, /NO WORKER HEARTBEAT/);
    assert.equal(alert.status, 'firing');
    assert.deepEqual([alert.data.count, again.data.count], [1, 2]);
    assert.equal(alert.fingerprint, again.fingerprint, 'one condition, one fingerprint; each alert its own key');
    assert.equal(again.data.sinceMs, alert.data.sinceMs);
    const back = await worker(rig.redisUrl, 'dm-2');
    await waitFor('cleared', () => notices(receiver, 'worker_heartbeat').some((n) => n.eventType === 'deadman_resolved'));
    const resolved = notices(receiver, 'worker_heartbeat').find((n) => n.eventType === 'deadman_resolved') as Notice;
    assert.equal(resolved.status, 'resolved');
    assert.equal(resolved.fingerprint, alert.fingerprint);
    assert.match(resolved.data.detail, /1 worker\(s\) alive/);
    await back.close();
  });

  it('alerts on the oldest open exposure past the threshold until a person resolves it, once per interval across alerters', async () => {
    const store = new Store(new Redis(rig.redisUrl), 1_000);
    try {
      const old = exposureAlertData('arb-old', 'hedge_failed_positive_active', new Date(Date.now() - 60_000).toISOString()).record as Record<string, unknown>;
      const fresh = exposureAlertData('arb-fresh', 'positive_in_doubt', new Date().toISOString()).record as Record<string, unknown>;
      await rig.redis.hset(keys.reviewOpen, 'arb-old', JSON.stringify(old), 'arb-fresh', JSON.stringify(fresh));
      const config = fastAlerterConfig({ hook: webhookSink(receiver.url) }, {
        deadman: { checkIntervalMs: 50, workerHeartbeatStaleMs: null, exposureUnresolvedMs: 30_000, realertIntervalMs: 300 },
      });
      await rig.start(config);
      await rig.start(config);
      await waitFor('alerted three times', () => notices(receiver, 'exposure_unresolved').length >= 3);
      const [alert] = notices(receiver, 'exposure_unresolved') as [Notice];
      assert.match(alert.title, /EXPOSURE UNRESOLVED/);
      assert.match(alert.data.detail, /1 of 2 open exposure\(s\) unresolved for more than 30 s; oldest: arb arb-old \(hedge_failed_positive_active\)/);
      assert.ok(await store.resolveExposure('arb-old', 'alice', 'hedged by hand', Date.now()));
      await waitFor('cleared', () => notices(receiver, 'exposure_unresolved').some((n) => n.eventType === 'deadman_resolved'));
      const raised = (await readStream(rig.redis, eventsStream)).filter((e) => e.type === 'deadman_alert');
      const counts = raised.map((e) => e.data.count);
      assert.deepEqual(counts, counts.map((_, i) => i + 1), 'two alerters, still one alert per interval (counts 1, 2, 3, … with no repeat)');
      const firing = raised.map((e) => e.id);
      for (let i = 1; i < firing.length; i++) {
        const gapMs = Number(firing[i]?.split('-')[0]) - Number(firing[i - 1]?.split('-')[0]);
        // The decision is taken on Redis TIME in µs; stream ids carry whole ms: 1 ms of rounding either way.
        assert.ok(gapMs >= 300 - 1, `re-alerts at least realertIntervalMs apart (${gapMs} ms)`);
      }
    } finally {
      store.redis.disconnect();
    }
  });
});
