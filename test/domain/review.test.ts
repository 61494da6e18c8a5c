// What a new classification does to a pair's review: the "worse" rule and the decision table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  appendedResolution, isWorse, reviewDecision, reviewStateOf, reviewUpdatesMax, updatedOpenRecord,
  type Classification, type ReviewUpdate,
} from '../../src/domain/review.js';

const c = (exposureReason: string | null, pnlMinor: number | null): Classification => ({ exposureReason, pnlMinor });

describe('isWorse: a resolved exposure is opened again only when money at risk grew', () => {
  const table: Array<{ name: string; reviewed: Classification; now: Classification; worse: boolean }> = [
    { name: 'no exposure now is never worse', reviewed: c('both_lost_unexpected', -20_244), now: c(null, 756), worse: false },
    { name: 'an exposure where none was reviewed is worse', reviewed: c(null, 756), now: c('hedge_void_positive_active', 11_000), worse: true },
    { name: 'a lower realised P&L is worse', reviewed: c('positive_void_hedge_active', 10_756), now: c('positive_void_hedge_active', -10_244), worse: true },
    { name: 'a lower P&L under another reason is worse', reviewed: c('both_won_unexpected', 21_756), now: c('hedge_void_positive_active', 11_000), worse: true },
    { name: 'a higher realised P&L is not worse', reviewed: c('both_lost_unexpected', -20_244), now: c('positive_void_hedge_active', -10_244), worse: false },
    { name: 'the same P&L is not worse', reviewed: c('both_lost_unexpected', -20_244), now: c('both_lost_unexpected', -20_244), worse: false },
    { name: 'a known result becoming unknown is worse', reviewed: c('both_lost_unexpected', -20_244), now: c('settlement_timeout', null), worse: true },
    { name: 'a placement exposure settling under its own reason is not worse', reviewed: c('hedge_failed_positive_active', null), now: c('hedge_failed_positive_active', -10_000), worse: false },
    { name: 'a lost chain recovered into a settlement exposure is worse', reviewed: c('settlement_lost', null), now: c('both_lost_unexpected', -20_244), worse: true },
    { name: 'a lost chain lost again is not worse', reviewed: c('settlement_lost', null), now: c('settlement_lost', null), worse: false },
  ];
  for (const row of table) {
    it(row.name, () => assert.equal(isWorse(row.reviewed, row.now), row.worse));
  }

  it('is never worse without an exposure, and always worse than no reviewed exposure (property)', () => {
    const reason = fc.option(fc.constantFrom('both_lost_unexpected', 'settlement_timeout', 'hedge_failed_positive_active'), { nil: null });
    const pnl = fc.option(fc.integer({ min: -1_000_000, max: 1_000_000 }), { nil: null });
    fc.assert(fc.property(reason, pnl, reason, pnl, (r1, p1, r2, p2) => {
      if (r2 === null) assert.equal(isWorse(c(r1, p1), c(r2, p2)), false);
      else if (r1 === null) assert.equal(isWorse(c(r1, p1), c(r2, p2)), true);
      // Re-reviewing what was reviewed is never worse.
      assert.equal(isWorse(c(r1, p1), c(r1, p1)), false);
    }));
  });
});

describe('reviewDecision', () => {
  it('opens a review with an alert for a first exposure, and does nothing without one', () => {
    assert.deepEqual(reviewDecision({ kind: 'none' }, c('both_won_unexpected', 1)), { action: 'open', event: 'exposure_alert' });
    assert.deepEqual(reviewDecision({ kind: 'none' }, c(null, 1)), { action: 'none' });
  });

  it('updates an open review, alerting only when the reason changes to another exposure', () => {
    const open = { kind: 'open', current: c('hedge_failed_positive_active', null) } as const;
    assert.deepEqual(reviewDecision(open, c('hedge_failed_positive_active', -10_000)), { action: 'update_open', event: 'exposure_updated' });
    assert.deepEqual(reviewDecision(open, c('settlement_lost', null)), { action: 'update_open', event: 'exposure_alert' });
    assert.deepEqual(reviewDecision(open, c(null, 756)), { action: 'update_open', event: 'exposure_updated' });
  });

  it('lets a resolution stand unless the classification got worse', () => {
    const resolved = { kind: 'resolved', reviewed: c('hedge_failed_positive_active', null) } as const;
    assert.deepEqual(reviewDecision(resolved, c('hedge_failed_positive_active', -10_000)), { action: 'append_resolved', event: 'exposure_updated' });
    assert.deepEqual(reviewDecision(resolved, c(null, 756)), { action: 'append_resolved', event: 'exposure_updated' });
    assert.deepEqual(reviewDecision(resolved, c('settlement_timeout', null)), { action: 'open', event: 'exposure_alert' });
  });
});

describe('review records', () => {
  const update = (n: number, reason: string | null = 'both_lost_unexpected'): ReviewUpdate => ({
    at: `2026-01-01T00:00:${String(n % 60).padStart(2, '0')}.000Z`, source: 'resettlement', exposure_reason: reason, actual_outcome: 'lost_lost', pnl_minor: -n, positive_status: 'lost', hedge_status: 'lost',
  });

  it('reads an open entry before a resolution, and a resolution by what was reviewed', () => {
    assert.deepEqual(reviewStateOf({ exposure_reason: 'x', pnl_minor: 5 }, { record: { exposure_reason: 'y' } }), { kind: 'open', current: c('x', 5) });
    assert.deepEqual(reviewStateOf(null, { record: { exposure_reason: 'y', pnl_minor: -3 }, updates: [{ pnl_minor: -99 }] }), { kind: 'resolved', reviewed: c('y', -3) });
    assert.deepEqual(reviewStateOf(null, null), { kind: 'none' });
  });

  it('keeps the first detection and the reason an open entry was raised for when the news has no exposure', () => {
    const open = { exposure_reason: 'hedge_failed_positive_active', detected_at: 'first', positive_status: 'accepted' };
    const next = { exposure_reason: 'ignored', detected_at: 'second', positive_status: 'lost', pnl_minor: -10_000 };
    const merged = updatedOpenRecord(open, next, update(1, null));
    assert.equal(merged.exposure_reason, 'hedge_failed_positive_active');
    assert.equal(merged.detected_at, 'first');
    assert.equal(merged.positive_status, 'lost');
    assert.equal((merged.updates as unknown[]).length, 1);
  });

  it(`keeps at most ${reviewUpdatesMax} updates on a record and counts the dropped ones`, () => {
    let resolution: Record<string, unknown> = { record: {} };
    for (let n = 0; n < reviewUpdatesMax + 5; n++) resolution = appendedResolution(resolution, update(n));
    assert.equal((resolution.updates as unknown[]).length, reviewUpdatesMax);
    assert.equal(resolution.updates_dropped, 5);
    assert.equal((resolution.updates as ReviewUpdate[])[0]?.pnl_minor, -5);
  });
});
