// Intake and preflight guards: bad input, unknown providers, staleness, kill switches, rate limit, open exposures.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, eventsFor, makePair, type Harness } from '../support/harness.js';

const terminal = ['arb_executed', 'arb_failed', 'arb_blocked', 'exposure_alert', 'arb_rejected'];

describe('intake and preflight', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ arbAgeMsMax: 5_000, rateLimit: { placementsMax: 2, windowMs: 60_000 } });
    await h.startWorker();
  });
  after(async () => h.close());

  function placedFor(arbId: string): number {
    return [...h.bookA.bookmaker.log(), ...h.bookB.bookmaker.log()].filter((e) => e.clientRef.includes(arbId)).length;
  }

  async function rejectionOf(jobId: string) {
    return h.waitFor('arb_rejected', async () => (await h.events()).find((e) => e.type === 'arb_rejected' && e.data.jobId === jobId));
  }

  describe('when the job is invalid', () => {
    it('emits arb_rejected with every error, places nothing, and does not retry the job', async () => {
      const pair = makePair({ currency: 'euro' }, { positive: { stakeMinor: 20_000_000, odds: '2.0505' }, hedge: { accountId: 'bad:acc' } });
      const jobId = await h.enqueue(pair);
      const rejected = await rejectionOf(jobId);
      const errors = rejected.data.errors as string[];
      assert.ok(errors.length >= 4, `all errors reported: ${JSON.stringify(errors)}`);
      assert.ok(errors.some((e) => e.startsWith('currency')));
      assert.ok(errors.some((e) => e.includes('positiveBet.stakeMinor (20000000) > stakeMinorMax (10000000)')));
      assert.ok(errors.some((e) => e.startsWith('positiveBet.odds')));
      assert.ok(errors.some((e) => e.startsWith('hedgeBet.accountId')));
      assert.equal(placedFor(pair.arbId), 0);
      const job = await h.queue.getJob(jobId);
      await h.waitFor('job completed', async () => (await job?.getState()) === 'completed');
      const done = await h.queue.getJob(jobId);
      assert.equal((done?.returnvalue as { outcome: string }).outcome, 'rejected');
      assert.equal(done?.failedReason, undefined, 'completed, not failed: BullMQ will not retry it');
    });

    for (const bad of ['a:b', 'a*', '{x}', 'a b', '', 'x'.repeat(65), 'é']) {
      it(`refuses the identifier ${JSON.stringify(bad.length > 10 ? `${bad.slice(0, 5)}…(${bad.length})` : bad)} so no Redis key can be forged`, async () => {
        const jobId = await h.enqueue(makePair({ arbId: bad }));
        const rejected = await rejectionOf(jobId);
        assert.equal(rejected.data.arbId, null, 'the bad id is not echoed as an arbId');
        assert.ok((rejected.data.errors as string[]).some((e) => e.startsWith('arbId')));
        assert.deepEqual(await h.redis.keys('lock:arb:*').then((k) => k.filter((x) => !/^lock:arb:[A-Za-z0-9_-]+$/.test(x))), []);
      });
    }

    it('refuses a leg on a provider that is not configured', async () => {
      const pair = makePair({}, { hedge: { provider: 'bookZ' } });
      const jobId = await h.enqueue(pair);
      const rejected = await rejectionOf(jobId);
      assert.deepEqual(rejected.data.errors, ['hedgeBet.provider (bookZ) is not a configured provider']);
      assert.equal(placedFor(pair.arbId), 0);
    });
  });

  describe('when the pair is not an arbitrage', () => {
    async function expectRejectedAndNothingPlaced(pair: Record<string, unknown> & { arbId: string }, errorStarts: string[]) {
      const jobId = await h.enqueue(pair);
      const rejected = await rejectionOf(jobId);
      const errors = rejected.data.errors as string[];
      for (const start of errorStarts) assert.ok(errors.some((e) => e.startsWith(start)), `${start}… in ${JSON.stringify(errors)}`);
      assert.equal(rejected.data.arbId, pair.arbId);
      assert.deepEqual(eventsFor(await h.events(), pair.arbId).map((e) => e.type), ['arb_rejected'], 'no preflight, no bet');
      assert.equal(placedFor(pair.arbId), 0, 'nothing at either simulator');
      assert.equal(await h.redis.exists(`lock:arb:${pair.arbId}`), 0, 'no lease taken');
    }

    it('refuses both legs on one selection with arb_rejected, naming the loss, and places nothing', async () => {
      const pair = makePair({}, { hedge: { selection: 'HOME' } });
      await expectRejectedAndNothingPlaced(pair, [
        'hedgeBet.selection ("HOME") is the positive leg\'s selection ("home")',
        'worstCaseMinor (-20244) < worstCaseMinorMin (0)',
      ]);
    });

    it('refuses a hedge on another event, and a pair that loses whichever side wins', async () => {
      await expectRejectedAndNothingPlaced(makePair({}, { hedge: { eventId: 'ev-elsewhere' } }), ['hedgeBet.eventId ("ev-elsewhere")']);
      await expectRejectedAndNothingPlaced(makePair({}, { positive: { odds: '1.010' }, hedge: { odds: '1.010' } }), ['worstCaseMinor (-10144)']);
    });

    it('refuses a leg in another currency than the pair', async () => {
      await expectRejectedAndNothingPlaced(makePair({}, { hedge: { currency: 'GBP' } }), ['hedgeBet.currency ("GBP")']);
    });
  });

  it('blocks a stale pair (createdAt older than arbAgeMsMax)', async () => {
    const pair = makePair({ createdAt: new Date(Date.now() - 6_000).toISOString() });
    await h.enqueue(pair);
    const blocked = await h.waitForEvent(pair.arbId, terminal);
    assert.equal(blocked.type, 'arb_blocked');
    assert.equal(blocked.data.reason, 'stale');
    assert.equal(placedFor(pair.arbId), 0);
  });

  it('blocks on the global, provider and account kill switches, and runs again once cleared', async () => {
    for (const key of ['be:kill:global', 'be:kill:provider:bookB']) {
      await h.redis.set(key, 'operator');
      const pair = makePair();
      await h.enqueue(pair);
      const blocked = await h.waitForEvent(pair.arbId, terminal);
      assert.equal(blocked.data.reason, 'kill_switch', key);
      assert.equal(placedFor(pair.arbId), 0);
      await h.redis.del(key);
    }
    const pair = makePair();
    const p = pair.positiveBet as { accountId: string };
    await h.redis.set(`be:kill:account:wl1:bookA:${p.accountId}`, 'operator');
    await h.enqueue(pair);
    assert.equal((await h.waitForEvent(pair.arbId, terminal)).data.reason, 'kill_switch');
    const other = makePair();
    await h.enqueue(other);
    assert.equal((await h.waitForEvent(other.arbId, terminal)).type, 'arb_executed', 'other accounts unaffected');
  });

  it('blocks an account past its placement rate limit', async () => {
    const first = makePair();
    const p = first.positiveBet as { accountId: string };
    for (let i = 0; i < 2; i++) {
      const pair = i === 0 ? first : makePair({}, { positive: { accountId: p.accountId } });
      await h.enqueue(pair);
      assert.equal((await h.waitForEvent(pair.arbId, terminal)).type, 'arb_executed');
      await h.waitFor('cooldown expiry', async () => (await h.redis.exists(`cooldown:wl1:bookA:${p.accountId}`)) === 0);
    }
    const third = makePair({}, { positive: { accountId: p.accountId } });
    await h.enqueue(third);
    const blocked = await h.waitForEvent(third.arbId, terminal);
    assert.equal(blocked.data.reason, 'rate_limit');
    assert.ok(Number(blocked.data.remainingSeconds) > 50);
  });

  it('blocks a betPairId with an open exposure (no automatic re-bet)', async () => {
    const pair = makePair();
    await h.redis.set(`exposure:wl1:bookA:${String(pair.betPairId)}`, '{}', 'PX', 60_000);
    await h.enqueue(pair);
    const blocked = await h.waitForEvent(pair.arbId, terminal);
    assert.equal(blocked.data.reason, 'exposure_open');
    assert.deepEqual(eventsFor(await h.events(), pair.arbId).map((e) => e.type), ['arb_blocked']);
  });
});
