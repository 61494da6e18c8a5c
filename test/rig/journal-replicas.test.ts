// journalReplicasMin: the journal must be on that many replicas before a bookmaker request leaves (a real primary + replica).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRedisTopology, type RedisTopology } from '../../src/rig/redis.js';
import { assertSafetyChecks, createHarness, eventsFor, makePair, type Harness } from '../support/harness.js';

describe('journalReplicasMin 1 with a primary and one replica', () => {
  let topology: RedisTopology;
  let h: Harness;

  before(async () => {
    topology = await startRedisTopology({ kind: 'replicated', replicas: 1 });
    h = await createHarness({ journalReplicasMin: 1, journalWaitTimeoutMs: 100 }, { redisUrl: topology.url });
    await h.startWorker();
  });

  after(async () => {
    topology?.replicas[0]?.process.kill('SIGCONT');
    await h?.close();
    await topology?.stop();
  });

  const sentFor = (arbId: string) => [...h.bookA.bookmaker.log(), ...h.bookB.bookmaker.log()].filter((e) => e.clientRef.startsWith(`be1.${arbId}.`));

  it('with the replica acknowledging: the pair executes', async () => {
    const pair = makePair();
    await h.enqueue(pair);
    await h.waitForEvent(pair.arbId, ['arb_executed']);
    assert.equal(sentFor(pair.arbId).length, 2);
    assert.equal(eventsFor(await h.events(), pair.arbId).filter((e) => e.type === 'journal_not_replicated').length, 0);
  });

  it('with the replica stopped: nothing is sent, journal_not_replicated says why; resumed, the pair executes', async () => {
    const replica = topology.replicas[0];
    assert.ok(replica);
    replica.process.kill('SIGSTOP');
    const pair = makePair();
    try {
      await h.enqueue(pair);
      const refused = await h.waitForEvent(pair.arbId, ['journal_not_replicated']);
      assert.equal(refused.data.role, 'positive');
      assert.equal(refused.data.replicasAcked, 0);
      assert.equal(refused.data.journalReplicasMin, 1);
      assert.match(String(refused.data.detail), /0 of 1 replica\(s\) acknowledged the journal within 100 ms/);
      // Retried while the replica stays down: still nothing at either bookmaker.
      await h.waitFor('a second refusal', async () => eventsFor(await h.events(), pair.arbId).filter((e) => e.type === 'journal_not_replicated').length >= 2);
      assert.deepEqual(sentFor(pair.arbId), [], 'no request left while the journal was on no replica');
    } finally {
      replica.process.kill('SIGCONT');
    }
    await h.waitForEvent(pair.arbId, ['arb_executed', 'arb_failed', 'exposure_alert'], 15_000);
    const ends = eventsFor(await h.events(), pair.arbId).map((e) => e.type);
    assert.ok(ends.includes('arb_executed'), `ended ${ends.join(', ')}`);
    assertSafetyChecks(h);
  });
});
