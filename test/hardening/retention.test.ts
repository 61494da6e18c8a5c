// Finished jobs are bounded by count and age on both queues, whatever the producer asked; refused junk leaves only a stub.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createHarness, makePair, type Harness } from '../support/harness.js';

describe('job retention', () => {
  let h: Harness;
  let settlementQueue: Queue;
  let settlementRedis: Redis;
  const countMax = 3;

  before(async () => {
    h = await createHarness(
      { settlementPollIntervalMs: 20, jobRetention: { completed: { ageMs: 60_000, countMax }, failed: { ageMs: 60_000, countMax: 1 } } },
      { settleAfterMs: 30 },
    );
    settlementRedis = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
    settlementQueue = new Queue(h.config.settlementQueueName, { connection: settlementRedis });
    await h.startWorker();
  });
  after(async () => {
    await settlementQueue.close();
    settlementRedis.disconnect();
    await h.close();
  });

  it('keeps at most countMax completed jobs on bet-pairs (pairs, rejections, and a producer\'s removeOnComplete: false)', async () => {
    const pairs = Array.from({ length: 4 }, () => makePair());
    const ids: string[] = [];
    for (const pair of pairs) {
      ids.push((await h.queue.add('bet-pair', pair, { removeOnComplete: false })).id ?? '');
      await h.waitForEvent(pair.arbId, ['arb_executed']);
    }
    const rejected = await h.enqueue(makePair({ currency: 'euro' }));
    await h.waitFor('rejected', async () => (await h.events()).some((e) => e.type === 'arb_rejected' && e.data.jobId === rejected));
    await h.waitFor('trimmed', async () => (await h.queue.getCompletedCount()) === countMax);
    assert.equal(await h.queue.getJob(ids[0]!), undefined, 'the oldest is gone');
  });

  it('keeps at most countMax completed poll jobs on the settlement queue', async () => {
    const pairs = Array.from({ length: 3 }, () => makePair());
    for (const pair of pairs) await h.enqueue(pair);
    for (const pair of pairs) await h.waitForEvent(pair.arbId, ['arb_settled'], 20_000);
    // 3 pairs × 2 bets, each chain's last poll completed: six finished, three kept.
    await h.waitFor('settlement trimmed', async () => (await settlementQueue.getCompletedCount()) === countMax);
  });

  it('keeps at most countMax failed jobs, and a refused job\'s data only as a stub', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const jobId = await h.enqueue(makePair({ arbId: `arb-junk-${i}`, junk: 'x'.repeat(70_000) }));
      ids.push(jobId);
      await h.waitFor('failed', async () => (await h.queue.getJobState(jobId)) === 'failed' || (await h.queue.getJobState(jobId)) === 'unknown');
    }
    assert.equal(await h.queue.getFailedCount(), 1);
    const kept = await h.redis.hget(`bull:${h.config.queueName}:${ids[1]!}`, 'data');
    const stub = JSON.parse(kept ?? 'null') as { refused: string; dataBytes: number; arbId: string };
    assert.deepEqual([stub.refused, stub.arbId, stub.dataBytes > 70_000], ['payload_too_large', 'arb-junk-1', true]);
    assert.ok((kept ?? '').length < 200);
  });

  it('removes completed jobs older than ageMs (whole seconds) when the next one finishes', async () => {
    const hAge = await createHarness({ jobRetention: { completed: { ageMs: 1_000, countMax: 1_000 } } });
    try {
      await hAge.startWorker();
      const first = makePair();
      const firstId = await hAge.enqueue(first);
      await hAge.waitForEvent(first.arbId, ['arb_executed']);
      await hAge.waitFor('first completed', async () => (await hAge.queue.getJobState(firstId)) === 'completed');
      await new Promise((resolve) => setTimeout(resolve, 2_100));
      const second = makePair();
      await hAge.enqueue(second);
      await hAge.waitForEvent(second.arbId, ['arb_executed']);
      await hAge.waitFor('first removed by age', async () => (await hAge.queue.getJob(firstId)) === undefined);
    } finally {
      await hAge.close();
    }
  });
});
