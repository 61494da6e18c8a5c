// Every bookmaker fault of the simulator, through the worker: outcome, events, and the simulators' own logs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SimLogEntry } from '../../src/sim/bookmaker.js';
import { assertSafetyChecks, createHarness, eventsFor, makePair, type Harness } from '../support/harness.js';

const terminal = ['arb_executed', 'arb_failed', 'arb_blocked', 'exposure_alert', 'arb_rejected'];

function sentFor(h: Harness, arbId: string): { positive: SimLogEntry[]; hedge: SimLogEntry[] } {
  const mine = (e: SimLogEntry) => e.clientRef.startsWith(`be1.${arbId}.`);
  return { positive: h.bookA.bookmaker.log().filter(mine), hedge: h.bookB.bookmaker.log().filter(mine) };
}

/** Invariants every scenario keeps (the rig's safety checks): ≤ 1 accepted bet per reference and leg; no hedge before the positive's acceptance. */
function assertSafe(h: Harness, arbId: string): void {
  assertSafetyChecks(h);
  const { positive, hedge } = sentFor(h, arbId);
  if (hedge.length > 0) assert.ok(positive.length > 0, 'a hedge was sent, so the positive must have been sent');
}

async function run(h: Harness, pair: ReturnType<typeof makePair>) {
  await h.enqueue(pair);
  const end = await h.waitForEvent(pair.arbId, terminal);
  const events = eventsFor(await h.events(), pair.arbId);
  assertSafe(h, pair.arbId);
  return { end, events, types: events.map((e) => e.type), sent: sentFor(h, pair.arbId) };
}

describe('bookmaker faults through the worker', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ hedgeAttemptsMax: 3, inDoubtDeadlineMs: 800, providerTimeoutMs: 150, lockTtlMs: 1_000 });
    await h.startWorker();
  });
  after(async () => h.close());

  it('reject on the hedge once: retries under a new reference and executes', async () => {
    const pair = makePair();
    h.bookB.bookmaker.addFault({ fault: 'reject', match: { clientRef: `be1.${pair.arbId}.h1` } });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'arb_executed');
    assert.deepEqual(r.sent.hedge.map((e) => [e.clientRef, e.decision]), [[`be1.${pair.arbId}.h1`, 'rejected'], [`be1.${pair.arbId}.h2`, 'accepted']]);
    assert.ok(r.types.includes('hedge_retry'));
  });

  it('reject on every hedge attempt: exposure_alert hedge_failed_positive_active with the record and the cooldown kept', async () => {
    const pair = makePair();
    const hedgeAccount = (pair.hedgeBet as { accountId: string }).accountId;
    h.bookB.bookmaker.addFault({ fault: 'reject', match: { accountId: hedgeAccount }, count: 5 });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'exposure_alert');
    assert.equal(r.end.data.exposure_reason, 'hedge_failed_positive_active');
    assert.equal(r.end.data.requiresManualReview, true);
    assert.equal(r.end.data.autoRebetDisabled, true);
    assert.equal(r.sent.hedge.length, 3, 'hedgeAttemptsMax attempts');
    const key = `exposure:wl1:bookA:${String(pair.betPairId)}`;
    const record = JSON.parse((await h.redis.get(key)) ?? '{}') as Record<string, unknown>;
    assert.equal(record.bet_pair_id, pair.betPairId);
    assert.equal(record.arb_id, pair.arbId);
    assert.equal(record.exposure_reason, 'hedge_failed_positive_active');
    assert.equal(record.positive_status, 'accepted');
    assert.equal(record.hedge_status, 'failed');
    assert.equal(record.expected_outcome, 'arb_profit');
    assert.equal(record.actual_outcome, 'accepted_failed');
    assert.match(String(record.positive_ticket), /^bookA-/);
    for (const field of ['whitelabel', 'positive_provider', 'hedge_provider', 'hedge_ticket', 'detected_at']) assert.ok(field in record, field);
    const ttl = await h.redis.pttl(key);
    assert.ok(ttl > 86_000_000 && ttl <= 86_400_000, `exposure TTL ${ttl}`);
    assert.ok(await h.redis.hexists('be:review:open', pair.arbId), 'on the durable review list, under its arbId');
    assert.equal(await h.redis.exists(`cooldown:wl1:bookB:${hedgeAccount}`), 1, 'the exposure did not remove the cooldown');
  });

  it('error_500 on the positive once: looks it up (not received), resends the same reference, executes', async () => {
    const pair = makePair();
    h.bookA.bookmaker.addFault({ fault: 'error_500', match: { clientRef: `be1.${pair.arbId}.p1` } });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'arb_executed');
    assert.deepEqual(r.sent.positive.map((e) => [e.clientRef, e.decision]), [[`be1.${pair.arbId}.p1`, 'error_500'], [`be1.${pair.arbId}.p1`, 'accepted']]);
  });

  it('timeout_before_commit on the positive: lookup says never received, same reference resent, executes', async () => {
    const pair = makePair();
    h.bookA.bookmaker.addFault({ fault: 'timeout_before_commit', match: { clientRef: `be1.${pair.arbId}.p1` }, params: { hangMs: 1_000 } });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'arb_executed');
    assert.deepEqual(r.sent.positive.map((e) => e.decision), ['timeout_before_commit', 'accepted']);
  });

  it('timeout_after_commit on the positive: lookup finds the bet, nothing resent, hedge placed', async () => {
    const pair = makePair();
    h.bookA.bookmaker.addFault({ fault: 'timeout_after_commit', match: { clientRef: `be1.${pair.arbId}.p1` }, params: { hangMs: 1_000 } });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'arb_executed');
    assert.deepEqual(r.sent.positive.map((e) => e.decision), ['timeout_after_commit']);
    assert.equal(r.sent.hedge.length, 1);
    const lookups = (await h.audit()).filter((e) => e.type === 'bookmaker_lookup' && e.data.arbId === pair.arbId);
    assert.equal(lookups.length, 1, 'the lookup is on the audit trail');
  });

  it('timeout_after_commit on the hedge: found by lookup, exactly one hedge bet', async () => {
    const pair = makePair();
    h.bookB.bookmaker.addFault({ fault: 'timeout_after_commit', match: { clientRef: `be1.${pair.arbId}.h1` }, params: { hangMs: 1_000 } });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'arb_executed');
    assert.deepEqual(r.sent.hedge.map((e) => e.decision), ['timeout_after_commit']);
  });

  it('partial on the positive: the hedge stake is rebalanced to the accepted stake', async () => {
    const pair = makePair();
    h.bookA.bookmaker.addFault({ fault: 'partial', match: { clientRef: `be1.${pair.arbId}.p1` }, params: { stakeMinor: 5_000 } });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'arb_executed');
    // 5000 at 2.100 returns 10500; at 2.050 a hedge of 5122 returns 10500.1 → 5122.
    assert.equal(r.sent.hedge[0]?.stakeMinor, 5_122);
  });

  it('partial on the hedge: the rest is hedged by another attempt', async () => {
    const pair = makePair();
    h.bookB.bookmaker.addFault({ fault: 'partial', match: { clientRef: `be1.${pair.arbId}.h1` }, params: { stakeMinor: 4_000 } });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'arb_executed');
    assert.equal(r.sent.hedge.length, 2);
    assert.equal((r.sent.hedge[0]?.acceptedStakeMinor ?? 0) + (r.sent.hedge[1]?.acceptedStakeMinor ?? 0), 10_244);
  });

  it('odds_moved on the positive (accepted at other odds): the hedge is rebalanced to the accepted odds', async () => {
    const pair = makePair();
    h.bookA.bookmaker.addFault({ fault: 'odds_moved', match: { clientRef: `be1.${pair.arbId}.p1` }, params: { accept: true, oddsMilli: 2_000 } });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'arb_executed');
    // 10000 at 2.000 returns 20000; 20000 / 2.050 = 9756.1 → 9756 (best worst case).
    assert.equal(r.sent.hedge[0]?.stakeMinor, 9_756);
  });

  it('odds_moved on the hedge within the loss limit: re-priced at the new odds and executed', async () => {
    const pair = makePair();
    h.bookB.bookmaker.addFault({ fault: 'odds_moved', match: { clientRef: `be1.${pair.arbId}.h1` }, params: { oddsMilli: 2_020 } });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'arb_executed');
    assert.equal(r.sent.hedge[1]?.oddsMilli, 2_020);
    assert.equal(r.sent.hedge[1]?.decision, 'accepted');
  });

  it('odds_moved on the hedge beyond the loss limit: no re-price, exposure alert', async () => {
    const pair = makePair();
    h.bookB.bookmaker.addFault({ fault: 'odds_moved', match: { clientRef: `be1.${pair.arbId}.h1` }, params: { oddsMilli: 1_500 } });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'exposure_alert');
    assert.equal(r.end.data.exposure_reason, 'hedge_failed_positive_active');
    assert.match(String((r.end.data.record as { detail: string }).detail), /beyond the limit/);
    assert.equal(r.sent.hedge.length, 1);
  });

  it('pending_then_accept on the positive: polled by ticket, then hedged', async () => {
    const pair = makePair();
    h.bookA.bookmaker.addFault({ fault: 'pending_then_accept', match: { clientRef: `be1.${pair.arbId}.p1` }, params: { pendingPolls: 3 } });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'arb_executed');
    assert.deepEqual(r.sent.positive.map((e) => e.decision), ['pending']);
  });

  it('pending_then_reject on the positive: arb_failed, hedge cancelled', async () => {
    const pair = makePair();
    h.bookA.bookmaker.addFault({ fault: 'pending_then_reject', match: { clientRef: `be1.${pair.arbId}.p1` }, params: { pendingPolls: 2 } });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'arb_failed');
    assert.equal(r.end.data.hedgeBetStatus, 'cancelled');
    assert.equal(r.sent.hedge.length, 0);
  });

  it('lookup_error for a while after a lost answer: keeps asking, finds the bet, continues', async () => {
    const pair = makePair();
    h.bookA.bookmaker.addFault({ fault: 'timeout_after_commit', match: { clientRef: `be1.${pair.arbId}.p1` }, params: { hangMs: 1_000 } });
    h.bookA.bookmaker.addFault({ fault: 'lookup_error', match: { clientRef: `be1.${pair.arbId}.p1` }, count: 3 });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'arb_executed');
    assert.deepEqual(r.sent.positive.map((e) => e.decision), ['timeout_after_commit']);
  });

  it('lookups failing past the deadline on the positive: positive_in_doubt exposure, no hedge, no resend', async () => {
    const pair = makePair();
    h.bookA.bookmaker.addFault({ fault: 'timeout_before_commit', match: { clientRef: `be1.${pair.arbId}.p1` }, params: { hangMs: 1_000 } });
    h.bookA.bookmaker.addFault({ fault: 'lookup_error', match: { clientRef: `be1.${pair.arbId}.p1` }, count: 10_000 });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'exposure_alert');
    assert.equal(r.end.data.exposure_reason, 'positive_in_doubt');
    assert.equal(r.sent.positive.length, 1, 'never re-sent blindly');
    assert.equal(r.sent.hedge.length, 0, 'no hedge while the positive is in doubt');
  });

  it('lookups failing past the deadline on the hedge: hedge_in_doubt exposure, no second hedge', async () => {
    const pair = makePair();
    h.bookB.bookmaker.addFault({ fault: 'timeout_before_commit', match: { clientRef: `be1.${pair.arbId}.h1` }, params: { hangMs: 1_000 } });
    h.bookB.bookmaker.addFault({ fault: 'lookup_error', match: { clientRef: `be1.${pair.arbId}.h1` }, count: 10_000 });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'exposure_alert');
    assert.equal(r.end.data.exposure_reason, 'hedge_in_doubt');
    assert.equal(r.sent.hedge.length, 1);
  });
});

describe('with a bookmaker that does not deduplicate client references', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ providerTimeoutMs: 150, inDoubtDeadlineMs: 800 }, { dedupe: false });
    await h.startWorker();
  });
  after(async () => h.close());

  it('a lost answer still yields exactly one bet: the lookup prevents a blind resend', async () => {
    const pair = makePair();
    h.bookA.bookmaker.addFault({ fault: 'timeout_after_commit', match: { clientRef: `be1.${pair.arbId}.p1` }, params: { hangMs: 1_000 } });
    const r = await run(h, pair);
    assert.equal(r.end.type, 'arb_executed');
    assert.equal(r.sent.positive.length, 1);
  });
});
