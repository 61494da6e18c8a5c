// Settlement through the worker and the simulators: polling, reconciliation, exposure records, review.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { FinalBetStatus } from '../../src/domain/types.js';
import { reconcilePair } from '../../src/settlement/poller.js';
import { createHarness, executed, eventsFor, makePair, type Harness, type StreamRow } from '../support/harness.js';

const settlementTimings = { settlementPollIntervalMs: 20, settlementPollCountMax: 50, cooldownMs: 5_000 };


function settleBoth(h: Harness, arbId: string, p: FinalBetStatus, hd: FinalBetStatus): void {
  assert.equal(h.bookA.bookmaker.settle(`be1.${arbId}.p1`, p).kind, 'settled');
  assert.equal(h.bookB.bookmaker.settle(`be1.${arbId}.h1`, hd).kind, 'settled');
}

// Positive 10000 @ 2.100, hedge 10244 @ 2.050 (makePair's defaults).
const table: Array<{ p: FinalBetStatus; h: FinalBetStatus; reason: string | null; pnlMinor: number }> = [
  { p: 'won', h: 'lost', reason: null, pnlMinor: 11_000 - 10_244 },
  { p: 'lost', h: 'won', reason: null, pnlMinor: 10_756 - 10_000 }, // floor(10244 × 2.05) = 21000 → +10756
  { p: 'void', h: 'void', reason: null, pnlMinor: 0 },
  { p: 'void', h: 'won', reason: 'positive_void_hedge_active', pnlMinor: 10_756 },
  { p: 'won', h: 'void', reason: 'hedge_void_positive_active', pnlMinor: 11_000 },
  { p: 'half_won', h: 'lost', reason: 'partial_settlement_half_won_lost', pnlMinor: 5_500 - 10_244 },
  { p: 'won', h: 'half_lost', reason: 'partial_settlement_won_half_lost', pnlMinor: 11_000 - 5_122 },
  { p: 'lost', h: 'lost', reason: 'both_lost_unexpected', pnlMinor: -20_244 },
  { p: 'won', h: 'won', reason: 'both_won_unexpected', pnlMinor: 11_000 + 10_756 },
];

describe('settlement and reconciliation', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness(settlementTimings);
    await h.startWorker();
  });
  after(async () => h.close());

  for (const row of table) {
    it(`${row.p} / ${row.h} → ${row.reason ?? 'no exposure'}, P&L ${row.pnlMinor}`, async () => {
      const pair = makePair();
      await executed(h, pair);
      settleBoth(h, pair.arbId, row.p, row.h);
      const settled = await h.waitForEvent(pair.arbId, ['arb_settled']);
      assert.equal(settled.data.pnlMinor, row.pnlMinor);
      assert.equal(settled.data.actualOutcome, `${row.p}_${row.h}`);
      assert.equal(settled.data.exposureReason, row.reason);
      const events = eventsFor(await h.events(), pair.arbId);
      assert.deepEqual(events.filter((e) => e.type === 'bet_settled').map((e) => e.data.status).sort(), [row.p, row.h].sort());
      const key = `exposure:wl1:bookA:${String(pair.betPairId)}`;
      const alerts = events.filter((e) => e.type === 'exposure_alert');
      if (row.reason === null) {
        assert.equal(await h.redis.exists(key), 0);
        assert.equal(alerts.length, 0);
        return;
      }
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]?.data.requiresManualReview, true);
      assert.equal(alerts[0]?.data.autoRebetDisabled, true);
      const record = JSON.parse((await h.redis.get(key)) ?? '{}') as Record<string, unknown>;
      assert.equal(record.exposure_reason, row.reason);
      assert.equal(record.positive_status, row.p);
      assert.equal(record.hedge_status, row.h);
      assert.equal(record.actual_outcome, `${row.p}_${row.h}`);
      assert.equal(record.expected_outcome, 'arb_profit');
      assert.equal(record.pnl_minor, row.pnlMinor);
      assert.match(String(record.hedge_ticket), /^bookB-/);
      const ttl = await h.redis.pttl(key);
      assert.ok(ttl > 86_000_000 && ttl <= 86_400_000, `TTL ${ttl}`);
    });
  }

  it('a betPairId with an open exposure is refused, and the cooldown outlives the exposure', async () => {
    const pair = makePair();
    await executed(h, pair);
    settleBoth(h, pair.arbId, 'lost', 'lost');
    await h.waitForEvent(pair.arbId, ['arb_settled']);
    const p = pair.positiveBet as { accountId: string };
    assert.equal(await h.redis.exists(`cooldown:wl1:bookA:${p.accountId}`), 1, 'cooldown kept');
    const again = makePair({ betPairId: pair.betPairId });
    await h.enqueue(again);
    const blocked = await h.waitForEvent(again.arbId, ['arb_blocked', 'arb_executed']);
    assert.equal(blocked.data.reason, 'exposure_open');
  });

  it('an unhedged positive is still polled and its outcome completes the review record', async () => {
    const pair = makePair();
    const hedgeAccount = (pair.hedgeBet as { accountId: string }).accountId;
    h.bookB.bookmaker.addFault({ fault: 'reject', match: { accountId: hedgeAccount }, count: 10 });
    await h.enqueue(pair);
    await h.waitForEvent(pair.arbId, ['exposure_alert']);
    h.bookA.bookmaker.settle(`be1.${pair.arbId}.p1`, 'lost');
    const settled = await h.waitForEvent(pair.arbId, ['arb_settled']);
    assert.equal(settled.data.exposureReason, 'hedge_failed_positive_active');
    assert.equal(settled.data.pnlMinor, -10_000);
    const record = JSON.parse((await h.redis.hget('be:review:open', pair.arbId)) ?? '{}') as Record<string, unknown>;
    assert.equal(record.positive_status, 'lost');
    assert.equal(record.actual_outcome, 'lost_failed');
    assert.equal(record.pnl_minor, -10_000);
  });

  it('duplicate final polls and racing reconciliations settle the pair exactly once', async () => {
    const pair = makePair();
    await executed(h, pair);
    settleBoth(h, pair.arbId, 'won', 'lost');
    await h.waitForEvent(pair.arbId, ['arb_settled']);
    // Replay: more final polls of the same bets, and five reconciliations at once.
    const worker = h.workers[0];
    assert.ok(worker);
    const results = await Promise.all(Array.from({ length: 5 }, () => reconcilePair(worker.deps, pair.arbId)));
    assert.deepEqual(results, [false, false, false, false, false]);
    const events = eventsFor(await h.events(), pair.arbId);
    assert.equal(events.filter((e) => e.type === 'arb_settled').length, 1);
    assert.equal(events.filter((e) => e.type === 'bet_settled').length, 2);
  });

  it('resolving an exposure takes it off the review list, records who and why, and lets the pair run again', async () => {
    const pair = makePair();
    await executed(h, pair);
    settleBoth(h, pair.arbId, 'won', 'won');
    await h.waitForEvent(pair.arbId, ['arb_settled']);
    const worker = h.workers[0];
    assert.ok(worker);
    const id = pair.arbId;
    assert.ok((await worker.deps.store.openExposures()).some((e) => e.id === id));
    assert.equal(await worker.deps.store.resolveExposure(id, 'alice', 'paid out twice, confirmed with bookB', Date.now()), true);
    assert.equal(await worker.deps.store.resolveExposure(id, 'alice', 'again', Date.now()), false, 'only once');
    assert.ok(!(await worker.deps.store.openExposures()).some((e) => e.id === id));
    const trail = (await h.audit()).filter((e: StreamRow) => e.type === 'exposure_resolved' && e.data.id === id);
    assert.equal(trail.length, 1);
    assert.equal(trail[0]?.data.resolvedBy, 'alice');
    const again = makePair({ betPairId: pair.betPairId });
    await h.enqueue(again);
    assert.equal((await h.waitForEvent(again.arbId, ['arb_blocked', 'arb_executed'])).type, 'arb_executed');
  });
});

describe('when polling reaches settlementPollCountMax', () => {
  it('ends the chain with settlement_timeout: an exposure for review, not a silent end', async () => {
    const h = await createHarness({ ...settlementTimings, settlementPollCountMax: 5 });
    try {
      await h.startWorker();
      const pair = makePair();
      await executed(h, pair);
      const settled = await h.waitForEvent(pair.arbId, ['arb_settled']);
      assert.equal(settled.data.exposureReason, 'settlement_timeout');
      assert.equal(settled.data.pnlMinor, null);
      const polls = (await h.audit()).filter((e) => e.type === 'bookmaker_status' && e.data.arbId === pair.arbId && e.data.role === 'positive');
      assert.equal(polls.length, 5);
      assert.equal(await h.redis.exists(`exposure:wl1:bookA:${String(pair.betPairId)}`), 1);
    } finally {
      await h.close();
    }
  });
});

describe('a worker killed while polling', () => {
  it('loses nothing: a fresh worker resumes the chain and reconciles once', async () => {
    const h = await createHarness({ ...settlementTimings, settlementPollCountMax: 10_000, jobLockMs: 1_000, stalledCheckMs: 300 });
    try {
      const first = h.spawnWorker();
      const pair = makePair();
      await h.enqueue(pair);
      await h.waitForEvent(pair.arbId, ['arb_executed'], 20_000);
      await h.waitFor('a few polls', async () => (await h.audit()).filter((e) => e.type === 'bookmaker_status' && e.data.arbId === pair.arbId).length >= 4);
      first.kill('SIGKILL');
      await once(first, 'exit');
      settleBoth(h, pair.arbId, 'lost', 'won');
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
