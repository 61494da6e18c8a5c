// Bugs found by the chaos harness, each pinned by a test named after it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keys } from '../../src/store/keys.js';
import { createHarness, eventsFor, executed, makePair } from '../support/harness.js';

describe('chaos seed 777: the fast-path hedge of a slow positive was sent inside another pair\'s cooldown', () => {
  it('does not send the hedge when its account\'s cooldown lapsed while the positive was in doubt and another pair took it', async () => {
    const cooldownMs = 400;
    const h = await createHarness({ cooldownMs, providerTimeoutMs: 150, inDoubtDeadlineMs: 10_000 });
    try {
      await h.startWorker();
      const x = makePair();
      const hedgeAccount = (x.hedgeBet as { accountId: string }).accountId;
      // Hold X's positive in doubt: its answer is lost and lookups fail until the test releases them.
      h.bookA.bookmaker.addFault({ fault: 'timeout_after_commit', match: { clientRef: `be1.${x.arbId}.p1` }, params: { hangMs: 1_000 } });
      const hold = h.bookA.bookmaker.addFault({ fault: 'lookup_error', match: { clientRef: `be1.${x.arbId}.p1` }, count: 1_000_000 });
      await h.enqueue(x);
      await h.waitFor('X in doubt', async () => (await h.audit()).some((e) => e.type === 'bookmaker_lookup' && e.data.arbId === x.arbId));
      await h.waitFor('X\'s claim on the hedge account lapsed', async () => (await h.redis.exists(`cooldown:wl1:bookB:${hedgeAccount}`)) === 0);
      const y = makePair({}, { hedge: { accountId: hedgeAccount } });
      await h.enqueue(y);
      assert.equal((await h.waitForEvent(y.arbId, ['arb_executed', 'arb_blocked', 'exposure_alert'])).type, 'arb_executed');
      assert.ok(h.bookA.bookmaker.removeFault(hold.id), 'release X');
      const end = await h.waitForEvent(x.arbId, ['arb_executed', 'exposure_alert']);
      assert.equal(end.type, 'exposure_alert');
      assert.equal(end.data.exposure_reason, 'hedge_failed_positive_active');
      assert.match(String((end.data.record as { detail: string }).detail), /cooldown taken by another pair/);
      const onAccount = h.bookB.bookmaker.log().filter((e) => e.accountId === hedgeAccount);
      assert.deepEqual(onAccount.map((e) => e.clientRef), [`be1.${y.arbId}.h1`], 'only Y bet on the hedge account');
      assert.equal(eventsFor(await h.events(), x.arbId).filter((e) => e.type === 'bet_accepted').length, 1, 'X: the positive only');
    } finally {
      await h.close();
    }
  });
});

describe('demo seed 7: a hedge accepted in full was topped up by a bet of 1-2 minor units', () => {
  it('places one hedge when the positive was taken in part and the rebalanced hedge, in whole minor units, returns a little less', async () => {
    const h = await createHarness();
    try {
      await h.startWorker();
      // The positive (10,000 at 2.100) is taken for 3,000: its share of the hedge (10,715 at 1.960) is a return of
      // 6,300, and the closest whole-unit stake, 3,214, returns 6,299. That unit is rounding, not a partial hedge:
      // no second bet for it (it was topped up by a bet of 1 minor unit).
      const pair = makePair({}, { hedge: { odds: '1.960', stakeMinor: 10_715 } });
      h.bookA.bookmaker.addFault({ fault: 'partial', match: { clientRef: `be1.${pair.arbId}.p1` }, params: { stakeMinor: 3_000 } });
      await h.enqueue(pair);
      const end = await h.waitForEvent(pair.arbId, ['arb_executed', 'arb_blocked', 'arb_failed', 'exposure_alert']);
      assert.equal(end.type, 'arb_executed', JSON.stringify(end.data));
      await h.waitFor('the pair settled into its end state', async () => (await h.redis.hget(`be:pair:${pair.arbId}`, 'state')) !== 'hedge_placing');
      const hedges = h.bookB.bookmaker.log().filter((e) => e.clientRef.startsWith(`be1.${pair.arbId}.`));
      assert.deepEqual(hedges.map((e) => [e.clientRef, e.stakeMinor]), [[`be1.${pair.arbId}.h1`, 3_214]], 'one hedge bet, the rebalanced stake');
    } finally {
      await h.close();
    }
  });
});

describe('chaos seed 20150: a lease with no journal behind it made the job call itself a duplicate, and the pair was lost', () => {
  it('retries a job whose pair is leased with no journal (a failed attempt\'s lease) and executes it once the lease lapses', async () => {
    const h = await createHarness();
    try {
      await h.startWorker();
      const pair = makePair();
      // What a claim that failed after writing its lease left (claim.lua now journals before such a failure).
      await h.redis.set(`lock:arb:${pair.arbId}`, 'a-failed-attempt', 'PX', 300);
      await h.enqueue(pair);
      const end = await h.waitForEvent(pair.arbId, ['arb_executed', 'arb_duplicate', 'arb_blocked', 'arb_failed', 'exposure_alert']);
      assert.equal(end.type, 'arb_executed', JSON.stringify(end.data));
      assert.equal(eventsFor(await h.events(), pair.arbId).filter((e) => e.type === 'arb_duplicate').length, 0);
    } finally {
      await h.close();
    }
  });
});

describe('chaos seed 11 (sentinel): a pair settled while still open stayed open for ever, resumed by every sweep', () => {
  it('closes a pair found open in a done state (its worker died between scheduling the settlement and closing it)', async () => {
    const h = await createHarness({ settlementPollIntervalMs: 20, lockTtlMs: 600, jobLockMs: 600, stalledCheckMs: 300 });
    try {
      await h.startWorker();
      const pair = makePair();
      await h.enqueue(pair);
      await executed(h, pair);
      h.bookA.bookmaker.settle(`be1.${pair.arbId}.p1`, 'won');
      h.bookB.bookmaker.settle(`be1.${pair.arbId}.h1`, 'lost');
      await h.waitForEvent(pair.arbId, ['arb_settled'], 10_000);
      await h.waitFor('the journal settled', async () => (await h.redis.hget(keys.pair(pair.arbId), 'state')) === 'settled');
      // What a worker that died after ensureScheduled and before releaseAndClose leaves: the pair still in the
      // open set (no lease) while its settlement runs on and reconciles it.
      await h.redis.zadd(keys.openPairs, Date.now() - 60_000, pair.arbId);
      await h.waitFor('the sweep resumed the pair and closed it', async () => (await h.redis.zscore(keys.openPairs, pair.arbId)) === null, 15_000);
      assert.equal(h.bookA.bookmaker.log().length + h.bookB.bookmaker.log().length, 2, 'nothing placed again');
      assert.equal(await h.redis.hget(keys.pair(pair.arbId), 'state'), 'settled');
    } finally {
      await h.close();
    }
  });
});
