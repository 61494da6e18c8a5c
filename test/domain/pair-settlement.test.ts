// Settling a placed pair: which bets are polled, classification by placement state, P&L over every bet.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { betsToPoll, settlePair } from '../../src/domain/pair-settlement.js';
import { newPairDoc, newPlacement, type PairDoc, type Placement } from '../../src/domain/pair.js';
import { parseBetPair } from '../../src/domain/validation.js';
import { makePair } from '../support/harness.js';

function acceptedPlacement(p: Placement, stakeMinor: number, ticketId: string): Placement {
  return { ...p, status: 'accepted', ticketId, acceptedStakeMinor: stakeMinor, acceptedOddsMilli: p.oddsMilli };
}

function hedgedDoc(hedgeStakes: number[]): PairDoc {
  const parsed = parseBetPair(makePair(), { stakeMinorMax: 1_000_000 });
  assert.ok(parsed.ok);
  const doc = newPairDoc(parsed.pair, 'job', 0);
  const positive = acceptedPlacement(newPlacement(parsed.pair, 'positive', 1, 10_000, 2_100, 0), 10_000, 'A-1');
  const hedges = hedgeStakes.map((s, i) => acceptedPlacement(newPlacement(parsed.pair, 'hedge', i + 1, s, 2_050, 0), s, `B-${i + 1}`));
  return { ...doc, state: 'hedged', positive, hedges };
}

describe('settlePair', () => {
  it('polls the positive and every accepted hedge bet', () => {
    const doc = hedgedDoc([4_000, 6_244]);
    assert.deepEqual(betsToPoll(doc).map((b) => b.ticketId), ['A-1', 'B-1', 'B-2']);
  });

  it('sums the P&L over a hedge placed as two bets', () => {
    const doc = hedgedDoc([4_000, 6_244]);
    const results = { [doc.positive?.clientRef ?? '']: 'lost', [doc.hedges[0]?.clientRef ?? '']: 'won', [doc.hedges[1]?.clientRef ?? '']: 'won' } as const;
    const s = settlePair(doc, results, 0);
    // floor(4000 × 2.05) = 8200, floor(6244 × 2.05) = 12800: returns 21000 on stakes 20244.
    assert.equal(s.pnlMinor, 756);
    assert.equal(s.exposureReason, null);
  });

  it('keeps a placement exposure reason and reports the positive outcome when the hedge failed', () => {
    const doc: PairDoc = { ...hedgedDoc([]), state: 'hedge_failed', outcomeReason: 'hedge_failed_positive_active' };
    const s = settlePair(doc, { [doc.positive?.clientRef ?? '']: 'won' }, 0);
    assert.equal(s.exposureReason, 'hedge_failed_positive_active');
    assert.equal(s.actualOutcome, 'won_failed');
    assert.equal(s.pnlMinor, 11_000);
  });

  it('has no P&L when a result timed out', () => {
    const doc = hedgedDoc([10_244]);
    const s = settlePair(doc, { [doc.positive?.clientRef ?? '']: 'won', [doc.hedges[0]?.clientRef ?? '']: 'timeout' }, 0);
    assert.equal(s.exposureReason, 'settlement_timeout');
    assert.equal(s.pnlMinor, null);
  });

  it('has no P&L when the positive is in doubt: the hedge alone is not the pair (positive_in_doubt with a live hedge)', () => {
    const base = hedgedDoc([10_244]);
    const doc: PairDoc = { ...base, state: 'positive_in_doubt', outcomeReason: 'positive_in_doubt', positive: { ...(base.positive as Placement), status: 'in_doubt' } };
    const s = settlePair(doc, { [doc.hedges[0]?.clientRef ?? '']: 'won' }, 0);
    assert.equal(s.pnlMinor, null);
    assert.equal(s.positiveStatus, 'in_doubt');
    assert.equal(s.actualOutcome, 'in_doubt_won');
    assert.equal(s.exposureReason, 'positive_in_doubt');
  });

  it('classifies a settled pair again by the rules of its placement, as its next reconciliation', () => {
    const doc = hedgedDoc([10_244]);
    const [p, hd] = [doc.positive?.clientRef ?? '', doc.hedges[0]?.clientRef ?? ''];
    const first = settlePair(doc, { [p]: 'won', [hd]: 'lost' }, 0);
    assert.deepEqual([first.reconciliation, first.placement, first.exposureReason], [1, 'hedged', null]);
    const again = settlePair({ ...doc, state: 'settled', settlement: first }, { [p]: 'void', [hd]: 'lost' }, 1);
    assert.deepEqual([again.reconciliation, again.placement, again.actualOutcome], [2, 'hedged', 'void_lost']);
    assert.notEqual(again.exposureReason, null);
  });

  it('refuses to settle before every polled bet has a result', () => {
    const doc = hedgedDoc([10_244]);
    assert.throws(() => settlePair(doc, { [doc.positive?.clientRef ?? '']: 'won' }, 0), /invariant violated/);
  });
});
