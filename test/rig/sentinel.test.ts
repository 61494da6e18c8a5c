// Redis Sentinel: the rig's primary + replica + three Sentinels, a worker connected through the Sentinels, and a failover.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseSentinelTarget, redactedConnection, redisConnectionFromEnv, redisEnvOf } from '../../src/store/connection.js';
import { withTimeout } from '../../src/infra/timeout.js';
import { startRedisTopology, type RedisTopology } from '../../src/rig/redis.js';
import { assertSafetyChecks, createHarness, makePair, type Harness } from '../support/harness.js';

describe('the Redis connection of the environment', () => {
  it('REDIS_SENTINELS with REDIS_MASTER_NAME is a Sentinel target; REDIS_URL otherwise; one without the other is refused', () => {
    const target = redisConnectionFromEnv({ REDIS_SENTINELS: '10.0.0.1:26379, sentinel-b:26380', REDIS_MASTER_NAME: 'bets', REDIS_PASSWORD: 'p@ss', REDIS_DB: '2' });
    assert.ok(target);
    assert.deepEqual(parseSentinelTarget(target), { sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: 'sentinel-b', port: 26380 }], masterName: 'bets', db: 2, password: 'p@ss' });
    assert.equal(redactedConnection(target), 'redis-sentinel://:***@10.0.0.1:26379,sentinel-b:26380/bets/2');
    assert.deepEqual(redisEnvOf(target), { REDIS_SENTINELS: '10.0.0.1:26379,sentinel-b:26380', REDIS_MASTER_NAME: 'bets', REDIS_DB: '2', REDIS_PASSWORD: 'p@ss' });
    assert.equal(redisConnectionFromEnv({ REDIS_URL: 'redis://h:1' }), 'redis://h:1');
    assert.equal(redisConnectionFromEnv({}), undefined);
    assert.throws(() => redisConnectionFromEnv({ REDIS_SENTINELS: 'h:1' }), /go together/);
    assert.throws(() => redisConnectionFromEnv({ REDIS_SENTINELS: 'h', REDIS_MASTER_NAME: 'm' }), /not host:port/);
  });
});

describe('a worker connected through Sentinel', () => {
  let topology: RedisTopology;
  let h: Harness;

  before(async () => {
    topology = await startRedisTopology({ kind: 'sentinel', downAfterMs: 500, failoverTimeoutMs: 3_000 });
    h = await createHarness({}, { redisUrl: topology.url });
  });

  after(async () => {
    await h?.close();
    await topology?.stop();
  });

  it('executes pairs before and after the primary is killed and Sentinel promotes the replica', async () => {
    await h.startWorker();
    const first = makePair();
    await h.enqueue(first);
    await h.waitForEvent(first.arbId, ['arb_executed']);
    const before = await topology.currentPrimary();
    assert.equal(before, topology.primary);
    topology.primary?.process.kill('SIGKILL');
    const promoted = await h.waitFor('a new primary', async () => {
      const now = await topology.currentPrimary();
      return now !== null && now !== before ? now : null;
    }, 60_000);
    assert.equal(promoted, topology.replicas[0]);
    const second = makePair();
    // The test's own clients follow the failover too: a command may fail while they find the new primary
    // ("Connection is closed."), so the test retries as a scanner would (one job id: a repeated add is a no-op).
    // Each try is bounded, so that a client that never finds the new primary fails the test instead of hanging it.
    await h.waitFor('the second pair enqueued', async () => withTimeout(h.enqueue(second, `job-${second.arbId}`), 5_000, () => new Error('no answer in 5 s')).then(() => true, () => false), 60_000);
    await h.waitFor('the second pair executed', async () => {
      const events = await withTimeout(h.events(), 5_000, () => new Error('no answer in 5 s')).catch(() => []);
      return events.some((e) => e.type === 'arb_executed' && e.data.arbId === second.arbId);
    }, 60_000);
    assertSafetyChecks(h);
  });
});
