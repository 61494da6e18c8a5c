// Per-account settlement polling of batch-capable bookmakers, through the worker and the simulators over HTTP.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { FinalBetStatus } from '../../src/domain/types.js';
import { schedulePolicyOf } from '../../src/settlement/account-poller.js';
import { AccountSettlementStore } from '../../src/settlement/account-store.js';
import { BullSettlementScheduler } from '../../src/settlement/scheduler.js';
import { decodePairDoc } from '../../src/domain/pair-codec.js';
import { keys } from '../../src/store/keys.js';
import { createHarness, executed, eventsFor, makePair, type Harness } from '../support/harness.js';

const intervalMs = 100;
/** bookA speaks batched status; bookB is polled ticket by ticket (a mix in every pair). */
const batchA = { providers: { bookA: { settlementBatch: true } } };
const timings = {
  settlementPollIntervalMs: intervalMs, settlementPollCountMax: 1_000, settlementTickMs: 10, settlementAccountLeaseMs: 1_000,
  settlementFastWindowMs: 600_000, cooldownMs: 5_000,
};


/** Pairs whose positives share one bookA account (each on its own whitelabel: no shared cooldown). */
function sharedAccountPairs(count: number, accountId: string): Array<ReturnType<typeof makePair>> {
  return Array.from({ length: count }, (_, i) => makePair({ whitelabel: `wl${i + 1}` }, { positive: { accountId } }));
}

describe('per-account settlement polling (bookA batch-capable, bookB per ticket)', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness(timings, batchA);
    await h.startWorker();
  });
  after(async () => h.close());

  it('detects every result of many bets of one account with one feed request per interval, and never asks bookA per ticket', async () => {
    const accountId = 'acc-shared';
    const pairs = sharedAccountPairs(6, accountId);
    for (const pair of pairs) await executed(h, pair);
    const results: Array<[FinalBetStatus, FinalBetStatus]> = [['won', 'lost'], ['lost', 'won'], ['void', 'void'], ['half_won', 'half_lost'], ['half_lost', 'half_won'], ['won', 'lost']];
    // Once every bet was checked by id: from here on the account costs one feed request per interval.
    await h.waitFor('the new bets checked by id', async () => (await h.redis.scard(keys.settleAccountUnchecked('bookA', accountId))) === 0);
    const before = h.bookA.bookmaker.requests.settledByAccount.get(accountId) ?? 0;
    const startMs = Date.now();
    pairs.forEach((pair, i) => {
      const [p, hd] = results[i] ?? ['won', 'lost'];
      assert.equal(h.bookA.bookmaker.settle(`be1.${pair.arbId}.p1`, p).kind, 'settled');
      assert.equal(h.bookB.bookmaker.settle(`be1.${pair.arbId}.h1`, hd).kind, 'settled');
    });
    for (const [i, pair] of pairs.entries()) {
      const settled = await h.waitForEvent(pair.arbId, ['arb_settled'], 10_000);
      const [p, hd] = results[i] ?? ['won', 'lost'];
      assert.equal(settled.data.actualOutcome, `${p}_${hd}`);
    }
    const elapsedMs = Date.now() - startMs;
    const feedRequests = (h.bookA.bookmaker.requests.settledByAccount.get(accountId) ?? 0) - before;
    assert.ok(feedRequests >= 1, 'the account was polled');
    assert.ok(feedRequests <= Math.ceil(elapsedMs / intervalMs) + 1, `${feedRequests} feed requests in ${elapsedMs} ms (interval ${intervalMs} ms)`);
    assert.equal(h.bookA.bookmaker.requests.status, 0, 'no per-ticket status request to the batch-capable bookmaker');
    assert.ok(h.bookB.bookmaker.requests.status > 0, 'the per-ticket bookmaker is polled per ticket');
    const events = await h.events();
    for (const pair of pairs) {
      const own = eventsFor(events, pair.arbId);
      assert.equal(own.filter((e) => e.type === 'arb_settled').length, 1);
      assert.equal(own.filter((e) => e.type === 'bet_settled').length, 2);
      assert.equal(own.find((e) => e.type === 'bet_settled' && e.data.role === 'positive')?.data.via, 'account_poll');
    }
    await h.waitFor('the account leaves the due set', async () => (await h.redis.zscore(keys.settleAccountsDue, `bookA:${accountId}`)) === null);
    assert.equal(await h.redis.exists(keys.settleAccountBets('bookA', accountId)), 0);
  });

  it('finds the result of a bet that settled before its polling began, behind the feed cursor (checked by id once)', async () => {
    const { accountId, ticketId, clientRef } = { accountId: 'acc-early', ticketId: '', clientRef: 'be1.arb-early.p1' };
    const placed = h.bookA.bookmaker.place({ clientRef, accountId, eventId: 'ev-early', market: 'match_winner', selection: 'home', oddsMilli: 2100, stakeMinor: 1000, currency: 'EUR' });
    assert.equal(placed.kind, 'answer');
    const ticket = placed.kind === 'answer' ? placed.bet.ticketId : ticketId;
    h.bookA.bookmaker.settle(ticket, 'half_lost');
    // The account's feed was read past that result before the bet was opened here (another bet's poll).
    const page = h.bookA.bookmaker.settledSince(accountId, null, 10);
    await h.redis.hset(keys.settleAccount('bookA', accountId), 'cursor', page.cursor);
    const client = h.redis.duplicate();
    try {
      await new AccountSettlementStore(client).registerAll([{ arbId: 'arb-early', role: 'positive', clientRef, provider: 'bookA', ticketId: ticket, accountId }], 2, Date.now(), schedulePolicyOf(h.config), null);
    } finally {
      client.disconnect();
    }
    await h.waitFor('the result recorded', async () => (await h.redis.hget(keys.settlement('arb-early'), clientRef)) === 'half_lost');
    const settled = (await h.events()).find((e) => e.type === 'bet_settled' && e.data.arbId === 'arb-early');
    assert.equal(settled?.data.status, 'half_lost');
  });

  it('re-settlement is still detected (the re-check after the first reconciliation)', async () => {
    const h2 = await createHarness({ ...timings, resettlementCheckDelayMs: 300 }, batchA);
    try {
      await h2.startWorker();
      const pair = makePair();
      await executed(h2, pair);
      h2.bookA.bookmaker.settle(`be1.${pair.arbId}.p1`, 'won');
      h2.bookB.bookmaker.settle(`be1.${pair.arbId}.h1`, 'lost');
      await h2.waitForEvent(pair.arbId, ['arb_settled']);
      h2.bookA.bookmaker.settle(`be1.${pair.arbId}.p1`, 'void');
      const again = await h2.waitForEvent(pair.arbId, ['arb_resettled']);
      assert.equal(again.data.actualOutcome, 'void_lost');
      assert.equal(again.data.exposureReason, 'positive_void_hedge_active');
    } finally {
      await h2.close();
    }
  });
});

describe('a hedged pair whose two bookmakers are both polled per account', () => {
  it('is scheduled as the pending index entry and both bets on their accounts, no poll chain; a repeat changes nothing', async () => {
    const both = { providers: { bookA: { settlementBatch: true }, bookB: { settlementBatch: true } } };
    const h = await createHarness({ ...timings, settlementPollIntervalMs: 60_000, settlementSweepMs: 600_000 }, both);
    const client = h.redis.duplicate();
    const scheduler = BullSettlementScheduler.fromConfig(client, h.config, {
      store: new AccountSettlementStore(client), batchProviders: new Set(['bookA', 'bookB']), policy: schedulePolicyOf(h.config),
    });
    try {
      await h.startWorker();
      const pair = makePair();
      await executed(h, pair);
      const positiveAccount = (pair.positiveBet as { accountId: string }).accountId;
      const hedgeAccount = (pair.hedgeBet as { accountId: string }).accountId;
      const openBets = async (): Promise<number> =>
        (await h.redis.hlen(keys.settleAccountBets('bookA', positiveAccount))) + (await h.redis.hlen(keys.settleAccountBets('bookB', hedgeAccount)));
      await h.waitFor('both bets open on their accounts', async () => (await openBets()) === 2);
      const sweepAtMs = await h.redis.zscore(keys.settlePending, pair.arbId);
      assert.notEqual(sweepAtMs, null, 'the pair is in the pending index');
      assert.equal(await h.redis.exists(`bull:${h.config.settlementQueueName}:settle-${pair.arbId}-p1`), 0, 'no poll chain for a bet polled per account');
      const doc = decodePairDoc(String(await h.redis.hget(keys.pair(pair.arbId), 'doc')));
      // A repeat (a resumed or duplicate job): NX keeps the sweep's time, the bets are open already.
      await scheduler.ensureScheduled(doc);
      assert.equal(await h.redis.zscore(keys.settlePending, pair.arbId), sweepAtMs);
      assert.equal(await openBets(), 2);
      // Both gone (as if never scheduled): one call brings back the index entry and both bets.
      await h.redis.zrem(keys.settlePending, pair.arbId);
      await h.redis.del(keys.settleAccountBets('bookA', positiveAccount), keys.settleAccountBets('bookB', hedgeAccount));
      await scheduler.ensureScheduled(doc);
      assert.notEqual(await h.redis.zscore(keys.settlePending, pair.arbId), null);
      assert.equal(await openBets(), 2);
    } finally {
      await scheduler.close();
      client.disconnect();
      await h.close();
    }
  });
});

describe('when a bet polled per account reaches settlementDeadlineMs', () => {
  it('ends it as timeout: a settlement_timeout exposure, as the chains do', async () => {
    const h = await createHarness({ ...timings, settlementDeadlineMs: 800 }, { providers: { bookA: { settlementBatch: true }, bookB: { settlementBatch: true } } });
    try {
      await h.startWorker();
      const pair = makePair();
      await executed(h, pair);
      const settled = await h.waitForEvent(pair.arbId, ['arb_settled'], 10_000);
      assert.equal(settled.data.exposureReason, 'settlement_timeout');
      assert.equal(settled.data.actualOutcome, 'timeout_timeout');
      assert.equal(await h.redis.exists(`exposure:wl1:bookA:${String(pair.betPairId)}`), 1);
      assert.equal(h.bookA.bookmaker.requests.status + h.bookB.bookmaker.requests.status, 0);
    } finally {
      await h.close();
    }
  });
});

describe('a bet whose account set lost it', () => {
  it('is found by the sweep: settlement_lost, opened again, and still reconciled', async () => {
    const h = await createHarness({ ...timings, settlementSweepMs: 200 }, batchA);
    try {
      await h.startWorker();
      const pair = makePair();
      await executed(h, pair);
      const accountId = (pair.positiveBet as { accountId: string }).accountId;
      await h.waitFor('the positive open on its account', async () => (await h.redis.hlen(keys.settleAccountBets('bookA', accountId))) === 1);
      await h.redis.del(keys.settleAccountBets('bookA', accountId));
      const lost = await h.waitForEvent(pair.arbId, ['exposure_alert'], 10_000);
      assert.equal((lost.data.record as { exposure_reason?: string } | undefined)?.exposure_reason ?? lost.data.exposureReason, 'settlement_lost');
      await h.waitFor('the positive open again', async () => (await h.redis.hlen(keys.settleAccountBets('bookA', accountId))) === 1);
      h.bookA.bookmaker.settle(`be1.${pair.arbId}.p1`, 'won');
      h.bookB.bookmaker.settle(`be1.${pair.arbId}.h1`, 'lost');
      const settled = await h.waitForEvent(pair.arbId, ['arb_settled'], 10_000);
      assert.equal(settled.data.actualOutcome, 'won_lost');
    } finally {
      await h.close();
    }
  });
});

describe('a worker killed in the middle of an account poll', () => {
  it('loses nothing: the claim lapses, a fresh worker polls the account from the stored cursor and reconciles once', async () => {
    // bookA answers after 150 ms: the kill lands while a feed request is in flight.
    const h = await createHarness(timings, { ...batchA, bookA: { latencyMs: 150 } });
    try {
      const first = h.spawnWorker();
      const pair = makePair();
      await h.enqueue(pair);
      await h.waitForEvent(pair.arbId, ['arb_executed'], 20_000);
      const accountId = (pair.positiveBet as { accountId: string }).accountId;
      const feedReads = () => h.bookA.bookmaker.requests.settledByAccount.get(accountId) ?? 0;
      await h.waitFor('a few account polls', async () => feedReads() >= 3);
      const seen = feedReads();
      await h.waitFor('a feed request in flight', async () => feedReads() > seen, 5_000);
      first.kill('SIGKILL');
      await once(first, 'exit');
      const claim = await h.redis.hget(keys.settleAccount('bookA', accountId), 'claim');
      assert.ok(claim !== null, 'the dead worker still holds the account poll it was in');
      h.bookA.bookmaker.settle(`be1.${pair.arbId}.p1`, 'lost');
      h.bookB.bookmaker.settle(`be1.${pair.arbId}.h1`, 'won');
      h.spawnWorker();
      const settled = await h.waitForEvent(pair.arbId, ['arb_settled'], 20_000);
      assert.equal(settled.data.exposureReason, null);
      const events = eventsFor(await h.events(), pair.arbId);
      assert.equal(events.filter((e) => e.type === 'arb_settled').length, 1);
      assert.equal(events.filter((e) => e.type === 'bet_settled').length, 2);
    } finally {
      await h.close();
    }
  });
});
