// Job data a buggy scanner's client wrote straight into BullMQ's job hash (not JSON, or far too large): refused once, moved out of the way.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, makePair, type Harness } from '../support/harness.js';

describe('job data the worker cannot read', () => {
  let h: Harness;
  const workerErrors: Error[] = [];
  const jobs: Record<string, string> = {};
  const bytesMax = 4_096;

  /** A job queued normally, then its data overwritten in the job hash (HSET), as a client with a bug would write it. */
  async function rawJob(data: string): Promise<string> {
    const jobId = await h.enqueue(makePair());
    await h.redis.hset(`bull:${h.config.queueName}:${jobId}`, 'data', data);
    return jobId;
  }

  before(async () => {
    h = await createHarness({ jobDataBytesMax: bytesMax });
    // Queued before any worker runs, so the first fetch already meets the bad data.
    jobs.nan = await rawJob('NaN');
    jobs.truncated = await rawJob('{"arbId":"arb-trunc-1","betPairId":"bp-');
    jobs.control = await rawJob('{"arbId":"arb-\u202e\u001b[31m","x":NaN}');
    jobs.oversize = await h.enqueue(makePair({ arbId: 'arb-big-1', note: 'x'.repeat(bytesMax) }));
    const running = await h.startWorker();
    running.worker.on('error', (error) => workerErrors.push(error));
  });
  after(async () => h.close());

  async function rejectionsOf(jobId: string) {
    return (await h.events()).filter((e) => e.type === 'arb_rejected' && e.data.jobId === jobId);
  }

  async function failedOnce(jobId: string) {
    await h.waitFor(`job ${jobId} failed`, async () => (await h.queue.getJobState(jobId)) === 'failed');
    const rejections = await rejectionsOf(jobId);
    assert.equal(rejections.length, 1, 'announced exactly once');
    const raw = await h.redis.hgetall(`bull:${h.config.queueName}:${jobId}`);
    return { rejection: rejections[0]!, failedReason: raw.failedReason ?? '', attemptsMade: Number(raw.atm ?? raw.attemptsMade ?? 0) };
  }

  it('refuses data that is not JSON (NaN) once with arb_rejected reason not_json, and fails the job with the reason', async () => {
    const { rejection, failedReason } = await failedOnce(jobs.nan!);
    assert.equal(rejection.data.reason, 'not_json');
    assert.equal(rejection.data.arbId, null);
    assert.deepEqual(rejection.data.errors, ['job data is not valid JSON (3 bytes)']);
    assert.match(failedReason, /not valid JSON/);
  });

  it('names the arbId of truncated JSON when the raw text holds a safe one', async () => {
    const { rejection } = await failedOnce(jobs.truncated!);
    assert.equal(rejection.data.reason, 'not_json');
    assert.equal(rejection.data.arbId, 'arb-trunc-1');
  });

  it('does not echo an unsafe arbId or the raw text', async () => {
    const { rejection, failedReason } = await failedOnce(jobs.control!);
    assert.equal(rejection.data.arbId, null);
    assert.ok(!JSON.stringify(rejection.data).includes('\u202e') && !failedReason.includes('\u202e'));
  });

  it('refuses data over jobDataBytesMax as payload_too_large without parsing it', async () => {
    const { rejection, failedReason } = await failedOnce(jobs.oversize!);
    assert.equal(rejection.data.reason, 'payload_too_large');
    assert.equal(rejection.data.arbId, 'arb-big-1');
    assert.match((rejection.data.errors as string[])[0]!, /^job data \(\d+ bytes\) > jobDataBytesMax \(4096 bytes\)/);
    assert.match(failedReason, /payload|jobDataBytesMax/);
  });

  it('keeps them failed (not re-delivered after a stalled-job check), with no worker error, and still executes good pairs', async () => {
    const pair = makePair();
    await h.enqueue(pair);
    await h.waitForEvent(pair.arbId, ['arb_executed']);
    // Two stalled-job checks (stalledCheckMs 300) after every bad job failed: none came back.
    await new Promise((resolve) => setTimeout(resolve, 2 * h.config.stalledCheckMs + 100));
    for (const jobId of Object.values(jobs)) {
      assert.equal(await h.queue.getJobState(jobId), 'failed');
      assert.equal((await rejectionsOf(jobId)).length, 1);
    }
    assert.deepEqual(workerErrors.map((e) => e.message), []);
  });
});
