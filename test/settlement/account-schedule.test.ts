// Per-account polling against the schedule: detection delay counted in polls, the per-ticket bookmaker's own budget
// beside a batch-capable one, and the back-off before an event's expected end. Real Redis, simulators over HTTP.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { keys } from '../../src/store/keys.js';
import { createHarness, executed, eventsFor, makePair, type Harness, type StreamRow } from '../support/harness.js';

const intervalMs = 100;
const batchA = { providers: { bookA: { settlementBatch: true } } };
const timings = {
  settlementPollIntervalMs: intervalMs, settlementPollCountMax: 1_000, settlementTickMs: 10, settlementAccountLeaseMs: 1_000,
  settlementFastWindowMs: 600_000, cooldownMs: 5_000,
};


/** The account polls of one account, in the order they ended (the audit's bookmaker_settlement_poll entries). */
async function accountPolls(h: Harness, accountId: string): Promise<StreamRow[]> {
  return (await h.audit()).filter((e) => e.type === 'bookmaker_settlement_poll' && e.data.accountId === accountId);
}

/** The sim's settlement request counters, read over HTTP (GET /_sim/requests). */
async function simRequests(url: string): Promise<{ status: number; statuses: number; settled: number; settledAccounts: number }> {
  const response = await fetch(`${url}/_sim/requests`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { requests: { status: number; statuses: number; settled: number; settledAccounts: number } }).requests;
}

describe('detection delay, counted in polls', () => {
  it('a result set at the bookmaker is recorded by the first or second account poll that ends after it (at most one interval after)', async () => {
    const h = await createHarness(timings, batchA);
    try {
      await h.startWorker();
      const pair = makePair();
      await executed(h, pair);
      const accountId = (pair.positiveBet as { accountId: string }).accountId;
      const clientRef = `be1.${pair.arbId}.p1`;
      await h.waitFor('the bet checked by id', async () => (await h.redis.scard(keys.settleAccountUnchecked('bookA', accountId))) === 0);
      await h.waitFor('two polls ended', async () => (await accountPolls(h, accountId)).length >= 2);
      const requestsBefore = await simRequests(h.bookA.url);
      const startMs = Date.now();
      assert.equal(h.bookA.bookmaker.settle(clientRef, 'won').kind, 'settled');
      // Polls that ended before the settle cannot hold it; at most one that ends after it began before it (in flight).
      const endedBySettle = (await accountPolls(h, accountId)).length;
      const settled = await h.waitFor('the positive recorded', async () => (await h.events()).find((e) => e.type === 'bet_settled' && e.data.arbId === pair.arbId && e.data.role === 'positive'), 10_000);
      assert.equal(settled.data.via, 'account_poll');
      const polls = await h.waitFor('the detecting poll audited', async () => {
        const all = await accountPolls(h, accountId);
        return all.some((e) => JSON.stringify(e.data.results).includes(clientRef)) ? all : undefined;
      }, 10_000);
      const detectedAt = polls.findIndex((e) => JSON.stringify(e.data.results).includes(clientRef));
      assert.ok(detectedAt <= endedBySettle + 1, `found by poll #${detectedAt}; ${endedBySettle} polls had ended by the settle`);
      const elapsedMs = Date.now() - startMs;
      const requestsAfter = await simRequests(h.bookA.url);
      assert.equal(requestsAfter.status, 0, 'no per-ticket status to the batch-capable bookmaker');
      const feed = requestsAfter.settled - requestsBefore.settled;
      assert.ok(feed >= 1 && feed <= Math.ceil(elapsedMs / intervalMs) + 1, `${feed} feed requests in ${elapsedMs} ms at ${intervalMs} ms`);
    } finally {
      await h.close();
    }
  });
});

describe('a batch-capable bookmaker and a per-ticket one in the same pair', () => {
  it('by default: the per-ticket bookmaker keeps the seed budget (5 s × 120 polls), the batch-capable one a deadline in time', () => {
    const config = parseConfig({ providers: { a: { url: 'http://a', settlementBatch: true }, b: { url: 'http://b' } } });
    assert.equal(config.settlementPollIntervalMs, 5_000);
    assert.equal(config.settlementPollCountMax, 120);
    assert.equal(config.settlementDeadlineMs, 3 * 86_400_000);
    assert.equal(config.providers.a?.settlementBatch, true);
    assert.equal(config.providers.b?.settlementBatch, false);
  });

  it('each keeps its own budget: the per-ticket chain ends as timeout after its poll count, the account-polled bet waits for its result', async () => {
    const h = await createHarness({ ...timings, settlementPollCountMax: 5 }, batchA);
    try {
      await h.startWorker();
      const pair = makePair();
      await executed(h, pair);
      const hedgeTimeout = await h.waitFor('the hedge timed out', async () => (await h.events()).find((e) => e.type === 'bet_settled' && e.data.arbId === pair.arbId && e.data.role === 'hedge'), 10_000);
      assert.equal(hedgeTimeout.data.status, 'timeout');
      assert.equal(h.bookB.bookmaker.requests.status, 5, 'the per-ticket bookmaker: one status request per poll, settlementPollCountMax of them');
      // The positive is still open on its account: the pair waits for it.
      const accountId = (pair.positiveBet as { accountId: string }).accountId;
      assert.equal(await h.redis.hlen(keys.settleAccountBets('bookA', accountId)), 1);
      assert.equal(eventsFor(await h.events(), pair.arbId).filter((e) => e.type === 'arb_settled').length, 0);
      h.bookA.bookmaker.settle(`be1.${pair.arbId}.p1`, 'won');
      const settled = await h.waitForEvent(pair.arbId, ['arb_settled'], 10_000);
      assert.equal(settled.data.actualOutcome, 'won_timeout');
      assert.equal(settled.data.exposureReason, 'settlement_timeout');
      assert.equal(h.bookA.bookmaker.requests.status, 0);
    } finally {
      await h.close();
    }
  });
});

describe("the back-off before the event's expected end (expectedEndAt)", () => {
  it('polls the account rarely before the end, is due again at the end, then polls every interval and finds the result', async () => {
    const backoffMaxMs = 1_000;
    const h = await createHarness({ ...timings, settlementPollBackoffMaxMs: backoffMaxMs }, batchA);
    try {
      await h.startWorker();
      const endMs = Date.now() + 4_000;
      const pair = makePair({ expectedEndAt: endMs });
      await executed(h, pair);
      const accountId = (pair.positiveBet as { accountId: string }).accountId;
      const member = `bookA:${accountId}`;
      const feedReads = () => h.bookA.bookmaker.requests.settledByAccount.get(accountId) ?? 0;
      await h.waitFor('the bet checked by id', async () => (await h.redis.scard(keys.settleAccountUnchecked('bookA', accountId))) === 0);
      // Before the end: never due past it, and the gaps grow (idle polls counted).
      const dueMs = Number(await h.redis.zscore(keys.settleAccountsDue, member));
      assert.ok(dueMs <= endMs, `due at ${dueMs}, after the expected end ${endMs}`);
      await h.waitFor('a few idle polls', async () => Number(await h.redis.hget(keys.settleAccount('bookA', accountId), 'idle')) >= 3, 10_000);
      await h.waitFor('the expected end passed', async () => Date.now() >= endMs, 10_000);
      const beforeEnd = feedReads();
      // At the interval the 4 s before the end would have cost about 40 feed requests; backing off 100, 200, 400, 800,
      // 1000 … ms costs at most ~8 (fewer on a slow machine, never more).
      assert.ok(beforeEnd <= 9, `${beforeEnd} feed requests before the expected end`);
      await h.waitFor('polled after the end', async () => feedReads() > beforeEnd, 10_000);
      const hot = feedReads();
      await h.waitFor('polls at the interval in the fast window', async () => feedReads() >= hot + 3, 10_000);
      assert.equal(await h.redis.hget(keys.settleAccount('bookA', accountId), 'idle'), '0');
      h.bookA.bookmaker.settle(`be1.${pair.arbId}.p1`, 'lost');
      h.bookB.bookmaker.settle(`be1.${pair.arbId}.h1`, 'won');
      const settled = await h.waitForEvent(pair.arbId, ['arb_settled'], 10_000);
      assert.equal(settled.data.actualOutcome, 'lost_won');
    } finally {
      await h.close();
    }
  });
});
