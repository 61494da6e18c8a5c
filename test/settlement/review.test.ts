// Issue 7's settlement defects, through the worker and the simulators: a re-settled result is seen and
// re-reconciled, a resolved exposure stays resolved unless the classification got worse, and a poll chain
// that dies raises settlement_lost and is started again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { reconcile } from '../../src/domain/settlement.js';
import type { FinalBetStatus } from '../../src/domain/types.js';
import { recheckJobId, settlementJobId } from '../../src/settlement/scheduler.js';
import { createHarness, executed, eventsFor, makePair, type Harness, type StreamRow } from '../support/harness.js';

const timings = { settlementPollIntervalMs: 20, settlementPollCountMax: 10_000, cooldownMs: 5_000, resettlementCheckDelayMs: 300, settlementSweepMs: 100 };

type Json = Record<string, unknown>;


function settle(h: Harness, arbId: string, leg: 'p' | 'h', status: FinalBetStatus): void {
  const book = leg === 'p' ? h.bookA : h.bookB;
  assert.equal(book.bookmaker.settle(`be1.${arbId}.${leg}1`, status).kind, 'settled');
}

async function waitForNth(h: Harness, arbId: string, type: string, n: number): Promise<StreamRow> {
  return h.waitFor(`${n} × ${type} of ${arbId}`, async () => eventsFor(await h.events(), arbId).filter((e) => e.type === type)[n - 1]);
}

async function reviewEntry(h: Harness, hash: 'open' | 'resolved', arbId: string): Promise<Json | null> {
  const json = await h.redis.hget(`be:review:${hash}`, arbId);
  return json === null ? null : (JSON.parse(json) as Json);
}

describe('re-settlement: a result changed after the pair was reconciled', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness(timings);
    await h.startWorker();
  });
  after(async () => h.close());

  it('a positive re-settled won → void is seen by the re-check, announced, re-reconciled and raises an exposure', async () => {
    const pair = makePair();
    await executed(h, pair);
    settle(h, pair.arbId, 'p', 'won');
    settle(h, pair.arbId, 'h', 'lost');
    const first = await h.waitForEvent(pair.arbId, ['arb_settled']);
    assert.equal(first.data.exposureReason, null);
    settle(h, pair.arbId, 'p', 'void');
    const changed = await h.waitForEvent(pair.arbId, ['bet_resettled']);
    assert.deepEqual([changed.data.clientRef, changed.data.from, changed.data.status], [`be1.${pair.arbId}.p1`, 'won', 'void']);
    const again = await h.waitForEvent(pair.arbId, ['arb_resettled']);
    const want = reconcile({ positiveStatus: 'void', hedgeStatus: 'lost' });
    assert.ok(want.exposure);
    assert.equal(again.data.actualOutcome, 'void_lost');
    assert.equal(again.data.exposureReason, want.reason);
    assert.equal(again.data.pnlMinor, -10_244);
    assert.deepEqual(again.data.previous, { actualOutcome: 'won_lost', exposureReason: null, pnlMinor: 756 });
    const alert = await h.waitForEvent(pair.arbId, ['exposure_alert']);
    assert.equal(alert.data.exposure_reason, want.reason);
    const open = await reviewEntry(h, 'open', pair.arbId);
    assert.equal(open?.exposure_reason, want.reason);
    assert.equal(await h.redis.exists(`exposure:wl1:bookA:${String(pair.betPairId)}`), 1);
    const results = await h.redis.hgetall(`be:settle:${pair.arbId}`);
    assert.equal(results[`be1.${pair.arbId}.p1`], 'void');
  });

  it('an unchanged result at the re-check changes nothing: no re-reconciliation, no alert', async () => {
    const pair = makePair();
    await executed(h, pair);
    settle(h, pair.arbId, 'p', 'lost');
    settle(h, pair.arbId, 'h', 'won');
    await h.waitForEvent(pair.arbId, ['arb_settled']);
    const worker = h.workers[0];
    assert.ok(worker);
    const queue = worker.deps.settlement as unknown as { queue: import('bullmq').Queue };
    for (const leg of ['p', 'h']) {
      const id = recheckJobId(pair.arbId, `be1.${pair.arbId}.${leg}1`);
      await h.waitFor(`re-check ${id} done`, async () => (await queue.queue.getJob(id))?.isCompleted());
    }
    const types = eventsFor(await h.events(), pair.arbId).map((e) => e.type);
    assert.ok(!types.includes('bet_resettled') && !types.includes('arb_resettled') && !types.includes('exposure_alert'), types.join(', '));
    const rechecks = (await h.audit()).filter((e) => e.type === 'bookmaker_status' && e.data.arbId === pair.arbId && e.data.recheck === true);
    assert.equal(rechecks.length, 2);
  });
});

describe('a resolved exposure', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness(timings);
    await h.startWorker();
  });
  after(async () => h.close());

  it('stays resolved when settlement brings its result: the result is appended to the resolution and announced', async () => {
    const pair = makePair();
    const hedgeAccount = (pair.hedgeBet as { accountId: string }).accountId;
    h.bookB.bookmaker.addFault({ fault: 'reject', match: { accountId: hedgeAccount }, count: 10 });
    await h.enqueue(pair);
    await h.waitForEvent(pair.arbId, ['exposure_alert']);
    const worker = h.workers[0];
    assert.ok(worker);
    assert.equal(await worker.deps.store.resolveExposure(pair.arbId, 'alice', 'hedged by hand at bookC, ticket C-1', Date.now()), true);
    settle(h, pair.arbId, 'p', 'lost');
    const settled = await h.waitForEvent(pair.arbId, ['arb_settled']);
    assert.equal(settled.data.exposureReason, 'hedge_failed_positive_active');
    assert.equal(await reviewEntry(h, 'open', pair.arbId), null, 'not re-opened');
    assert.equal(await h.redis.scard(`be:review:pair:wl1:bookA:${String(pair.betPairId)}`), 0, 'the betPairId is not blocked again');
    assert.equal(await h.redis.exists(`exposure:wl1:bookA:${String(pair.betPairId)}`), 0);
    const resolution = await reviewEntry(h, 'resolved', pair.arbId);
    assert.equal(resolution?.resolvedBy, 'alice');
    const updates = resolution?.updates as Json[];
    assert.equal(updates.length, 1);
    assert.deepEqual([updates[0]?.source, updates[0]?.actual_outcome, updates[0]?.pnl_minor], ['settlement', 'lost_failed', -10_000]);
    const events = eventsFor(await h.events(), pair.arbId);
    assert.equal(events.filter((e) => e.type === 'exposure_alert').length, 1, 'alerted once, at placement');
    const updated = events.filter((e) => e.type === 'exposure_updated');
    assert.equal(updated.length, 1);
    assert.equal((updated[0]?.data.record as Json).resolution_stands, true);
    const next = makePair({ betPairId: pair.betPairId });
    await h.enqueue(next);
    assert.equal((await h.waitForEvent(next.arbId, ['arb_blocked', 'arb_executed'])).type, 'arb_executed');
  });

  it('is opened again, with an alert, when a re-settlement makes the classification worse than what was reviewed', async () => {
    const pair = makePair();
    await executed(h, pair);
    settle(h, pair.arbId, 'p', 'won');
    settle(h, pair.arbId, 'h', 'void');
    const first = await h.waitForEvent(pair.arbId, ['arb_settled']);
    assert.equal(first.data.exposureReason, 'hedge_void_positive_active');
    const worker = h.workers[0];
    assert.ok(worker);
    assert.equal(await worker.deps.store.resolveExposure(pair.arbId, 'bob', 'hedge voided by bookB, positive won: fine', Date.now()), true);
    settle(h, pair.arbId, 'p', 'lost');
    const again = await h.waitForEvent(pair.arbId, ['arb_resettled']);
    assert.equal(again.data.actualOutcome, 'lost_void');
    assert.equal(again.data.pnlMinor, -10_000);
    await waitForNth(h, pair.arbId, 'exposure_alert', 2);
    const open = await reviewEntry(h, 'open', pair.arbId);
    assert.equal(open?.actual_outcome, 'lost_void');
    assert.equal(await h.redis.sismember(`be:review:pair:wl1:bookA:${String(pair.betPairId)}`, pair.arbId), 1, 'blocks its betPairId again');
  });
});

describe('a settlement poll chain that dies', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness(timings);
    await h.startWorker();
  });
  after(async () => h.close());

  it('gone from the queue: settlement_lost is raised, the chain starts again, and the pair is still reconciled', async () => {
    const pair = makePair();
    await executed(h, pair);
    const worker = h.workers[0];
    assert.ok(worker);
    const queue = (worker.deps.settlement as unknown as { queue: import('bullmq').Queue }).queue;
    const id = settlementJobId(pair.arbId, `be1.${pair.arbId}.p1`);
    // The chain is scheduled just after arb_executed is written, and BullMQ's remove answers 1 for a job
    // that does not exist yet: wait for the job first. It is delayed, waiting or active in turn: remove it
    // when it is not locked by a poll.
    await h.waitFor(`${id} scheduled`, async () => (await queue.getJob(id)) !== undefined);
    await h.waitFor(`${id} removed`, async () => (await queue.remove(id)) === 1);
    const alert = await h.waitForEvent(pair.arbId, ['exposure_alert']);
    assert.equal(alert.data.exposure_reason, 'settlement_lost');
    const open = await reviewEntry(h, 'open', pair.arbId);
    assert.deepEqual(open?.lost_bets, [`be1.${pair.arbId}.p1`]);
    // The sweep writes the alert first, then restarts the chain and audits it.
    await h.waitFor('the chain restarted', async () => (await h.audit()).some((e) => e.type === 'settlement_chain_restarted' && e.data.arbId === pair.arbId));
    settle(h, pair.arbId, 'p', 'won');
    settle(h, pair.arbId, 'h', 'lost');
    const settled = await h.waitForEvent(pair.arbId, ['arb_settled']);
    assert.equal(settled.data.exposureReason, null);
    const after = await reviewEntry(h, 'open', pair.arbId);
    assert.equal(after?.exposure_reason, 'settlement_lost', 'stays open for a person, with the result appended');
    assert.equal((after?.updates as Json[]).at(-1)?.actual_outcome, 'won_lost');
    assert.equal(await h.redis.zscore('be:settle:pending', pair.arbId), null);
  });

  it('stalled into the failed set: the same', async () => {
    const pair = makePair();
    await executed(h, pair);
    const worker = h.workers[0];
    assert.ok(worker);
    const queue = (worker.deps.settlement as unknown as { queue: import('bullmq').Queue }).queue;
    const id = settlementJobId(pair.arbId, `be1.${pair.arbId}.h1`);
    // A second BullMQ consumer takes the job (when it is its turn) and fails it: what a job stalled past
    // its limit becomes.
    const connection = new Redis(h.redisUrl, { maxRetriesPerRequest: null });
    const thief = new Worker(queue.name, null, { connection });
    try {
      await h.waitFor(`${id} failed`, async () => {
        const job = await thief.getNextJob('thief');
        if (!job) return false;
        if (job.id !== id) {
          await job.moveToDelayed(Date.now() + 10, 'thief');
          return false;
        }
        await job.moveToFailed(new Error('job stalled more than allowable limit'), 'thief', false);
        return true;
      });
    } finally {
      await thief.close();
      connection.disconnect();
    }
    const alert = await h.waitForEvent(pair.arbId, ['exposure_alert']);
    assert.equal(alert.data.exposure_reason, 'settlement_lost');
    settle(h, pair.arbId, 'p', 'lost');
    settle(h, pair.arbId, 'h', 'won');
    const settled = await h.waitForEvent(pair.arbId, ['arb_settled']);
    assert.equal(settled.data.actualOutcome, 'lost_won');
  });
});
