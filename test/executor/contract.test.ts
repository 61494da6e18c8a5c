// The audited system's contract (DESIGN.md 1-3, 7, 8) through a real worker, Redis and HTTP bookmakers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cooldownHoldMs } from '../../src/domain/cooldown.js';
import { cooldownTimingsOf } from '../../src/executor/run.js';
import { createHarness, eventsFor, makePair, type Harness } from '../support/harness.js';

const terminal = ['arb_executed', 'arb_failed', 'arb_blocked', 'exposure_alert', 'arb_rejected', 'arb_duplicate'];

describe('the executor contract', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ cooldownMs: 400 });
    await h.startWorker();
  });
  after(async () => h.close());

  describe('when the positive bet is rejected', () => {
    it('emits bet_failed then arb_failed(positive_bet_rejected, hedge cancelled) and never sends the hedge', async () => {
      const pair = makePair();
      h.bookA.bookmaker.addFault({ fault: 'reject', match: { clientRef: `be1.${pair.arbId}.p1` } });
      await h.enqueue(pair);
      const failed = await h.waitForEvent(pair.arbId, terminal);
      assert.equal(failed.type, 'arb_failed');
      assert.equal(failed.data.reason, 'positive_bet_rejected');
      assert.equal(failed.data.hedgeBetStatus, 'cancelled');
      const events = eventsFor(await h.events(), pair.arbId);
      assert.deepEqual(events.map((e) => e.type), ['bet_failed', 'arb_failed']);
      assert.equal(events[0]?.data.error, 'rejected_by_bookmaker');
      const hedgeAccount = (pair.hedgeBet as { accountId: string }).accountId;
      assert.equal(h.bookB.bookmaker.log().filter((e) => e.accountId === hedgeAccount).length, 0, 'no hedge request');
    });
  });

  describe('when the positive errors on every send', () => {
    it('reports the error text in bet_failed, cancels the hedge, and sends only under one client reference', async () => {
      const pair = makePair();
      const ref = `be1.${pair.arbId}.p1`;
      h.bookA.bookmaker.addFault({ fault: 'error_500', match: { clientRef: ref }, count: 10 });
      await h.enqueue(pair);
      const failed = await h.waitForEvent(pair.arbId, terminal);
      assert.equal(failed.type, 'arb_failed');
      assert.equal(failed.data.positiveBetStatus, 'error');
      const betFailed = eventsFor(await h.events(), pair.arbId).find((e) => e.type === 'bet_failed');
      assert.match(String(betFailed?.data.error), /never received after 3 send/);
      const sent = h.bookA.bookmaker.log().filter((e) => e.clientRef.startsWith(`be1.${pair.arbId}.`));
      assert.equal(sent.length, 3, 'placementSendsMax sends, all with the same reference');
      assert.ok(sent.every((e) => e.clientRef === ref && e.decision === 'error_500'));
    });
  });

  describe('when both bets are accepted', () => {
    it('journals tickets in bet_accepted events and claims both accounts\' cooldowns with unix-second values, held at most a claim\'s hold', async () => {
      const pair = makePair();
      await h.enqueue(pair);
      const executed = await h.waitForEvent(pair.arbId, terminal);
      assert.equal(executed.type, 'arb_executed');
      const accepted = eventsFor(await h.events(), pair.arbId).filter((e) => e.type === 'bet_accepted');
      assert.deepEqual(accepted.map((e) => e.data.role), ['positive', 'hedge']);
      assert.match(String(accepted[0]?.data.ticketId), /^bookA-/);
      assert.match(String(accepted[1]?.data.ticketId), /^bookB-/);
      const p = pair.positiveBet as { accountId: string };
      const key = `cooldown:wl1:bookA:${p.accountId}`;
      const [value, ttl] = await Promise.all([h.redis.get(key), h.redis.pttl(key)]);
      assert.ok(value !== null, `${key} exists`);
      assert.ok(Math.abs(Number(value) - Date.now() / 1000) < 5, 'value is unix seconds');
      // Claimed until a cooldown after the request could be taken (its lead and timeout), never shortened by the answer.
      const claimHoldMs = cooldownHoldMs('claim', cooldownTimingsOf(h.config, 'bookA'));
      assert.ok(ttl > 0 && ttl <= claimHoldMs, `TTL ${ttl} within the claim's hold (${claimHoldMs})`);
    });
  });

  describe('when a second pair uses an account inside its cooldown', () => {
    it('blocks it with arb_blocked(cooldown, remainingSeconds) and places nothing, then lets a pair through once it expires', async () => {
      const first = makePair();
      await h.enqueue(first);
      await h.waitForEvent(first.arbId, terminal);
      const p = first.positiveBet as { accountId: string };
      const second = makePair({}, { positive: { accountId: p.accountId } });
      await h.enqueue(second);
      const blocked = await h.waitForEvent(second.arbId, terminal);
      assert.equal(blocked.type, 'arb_blocked');
      assert.equal(blocked.data.reason, 'cooldown');
      const claimHoldSeconds = Math.ceil(cooldownHoldMs('claim', cooldownTimingsOf(h.config, 'bookA')) / 1000);
      assert.ok(Number(blocked.data.remainingSeconds) >= 1 && Number(blocked.data.remainingSeconds) <= claimHoldSeconds, `remainingSeconds ${blocked.data.remainingSeconds}`);
      assert.equal(h.bookA.bookmaker.log().filter((e) => e.clientRef.includes(second.arbId)).length, 0);
      await h.waitFor('cooldown expiry', async () => (await h.redis.exists(`cooldown:wl1:bookA:${p.accountId}`)) === 0);
      const third = makePair({}, { positive: { accountId: p.accountId } });
      await h.enqueue(third);
      assert.equal((await h.waitForEvent(third.arbId, terminal)).type, 'arb_executed');
    });
  });

  describe('isolation', () => {
    it('keeps cooldowns per whitelabel, provider and account', async () => {
      const first = makePair();
      await h.enqueue(first);
      await h.waitForEvent(first.arbId, terminal);
      const p = first.positiveBet as { accountId: string };
      const h1 = first.hedgeBet as { accountId: string };
      // Same account id, other whitelabel; same account id on the other provider: both independent.
      const otherWhitelabel = makePair({ whitelabel: 'wl2' }, { positive: { accountId: p.accountId }, hedge: { accountId: h1.accountId } });
      const otherProvider = makePair({}, { positive: { accountId: h1.accountId }, hedge: { accountId: p.accountId } });
      await h.enqueue(otherWhitelabel);
      await h.enqueue(otherProvider);
      assert.equal((await h.waitForEvent(otherWhitelabel.arbId, terminal)).type, 'arb_executed');
      assert.equal((await h.waitForEvent(otherProvider.arbId, terminal)).type, 'arb_executed');
    });
  });

  describe('when the same arbId is delivered again', () => {
    it('after it finished: arb_duplicate, and each bet stays placed exactly once', async () => {
      const pair = makePair();
      await h.enqueue(pair);
      await h.waitForEvent(pair.arbId, ['arb_executed']);
      await h.enqueue(pair);
      const dup = await h.waitForEvent(pair.arbId, ['arb_duplicate']);
      assert.equal(dup.data.reason, 'already_processed');
      const refs = [...h.bookA.bookmaker.log(), ...h.bookB.bookmaker.log()].filter((e) => e.clientRef.includes(pair.arbId));
      assert.deepEqual(refs.map((e) => e.clientRef).sort(), [`be1.${pair.arbId}.h1`, `be1.${pair.arbId}.p1`]);
    });

    it('while the first is in flight: the duplicate places nothing', async () => {
      const pair = makePair();
      // Hold the first delivery inside its positive placement (pending for a few status polls).
      h.bookA.bookmaker.addFault({ fault: 'pending_then_accept', match: { clientRef: `be1.${pair.arbId}.p1` }, params: { pendingPolls: 10 } });
      await h.enqueue(pair);
      await h.waitFor('first delivery in flight', async () => h.bookA.bookmaker.log().some((e) => e.clientRef.includes(pair.arbId)));
      await h.enqueue(pair);
      const dup = await h.waitForEvent(pair.arbId, ['arb_duplicate']);
      assert.equal(dup.data.reason, 'in_flight');
      await h.waitForEvent(pair.arbId, ['arb_executed']);
      const sent = [...h.bookA.bookmaker.log(), ...h.bookB.bookmaker.log()].filter((e) => e.clientRef.includes(pair.arbId));
      assert.equal(sent.length, 2, 'one positive, one hedge');
    });
  });
});

describe('when the worker restarts', () => {
  it('still honours a cooldown claimed before the restart (it lives in Redis)', async () => {
    const h = await createHarness({ cooldownMs: 5_000 });
    try {
      const first = await h.startWorker();
      const pair = makePair();
      await h.enqueue(pair);
      await h.waitForEvent(pair.arbId, terminal);
      await first.close();
      h.workers.length = 0;
      await h.startWorker();
      const p = pair.positiveBet as { accountId: string };
      const again = makePair({}, { positive: { accountId: p.accountId } });
      await h.enqueue(again);
      const blocked = await h.waitForEvent(again.arbId, terminal);
      assert.equal(blocked.type, 'arb_blocked');
      assert.equal(blocked.data.reason, 'cooldown');
      const claimHoldSeconds = Math.ceil(cooldownHoldMs('claim', cooldownTimingsOf(h.config, 'bookA')) / 1000);
      assert.ok(Number(blocked.data.remainingSeconds) >= 1 && Number(blocked.data.remainingSeconds) <= claimHoldSeconds);
    } finally {
      await h.close();
    }
  });
});
