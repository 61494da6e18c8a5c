// Hedge sizing and the pair state machine: table rows and properties.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { nextHedgeStakeMinor, pairWorstCaseMinor, repriceLossLimitMinor } from '../../src/domain/hedge.js';
import { assertTransition, clientRefFor, pairTransitions, type PairState } from '../../src/domain/pair.js';

describe('nextHedgeStakeMinor', () => {
  const rows = [
    { name: 'plain arb', pos: { stakeMinor: 10_000, oddsMilli: 2_100 }, accepted: [], odds: 2_050, want: 10_244 },
    { name: 'positive partly taken', pos: { stakeMinor: 5_000, oddsMilli: 2_100 }, accepted: [], odds: 2_050, want: 5_122 },
    { name: 'positive at worse odds', pos: { stakeMinor: 10_000, oddsMilli: 2_000 }, accepted: [], odds: 2_050, want: 9_756 },
    { name: 'rest after a partial hedge', pos: { stakeMinor: 10_000, oddsMilli: 2_100 }, accepted: [{ stakeMinor: 4_000, oddsMilli: 2_050 }], odds: 2_050, want: 6_244 },
    { name: 'already covered', pos: { stakeMinor: 10_000, oddsMilli: 2_100 }, accepted: [{ stakeMinor: 10_244, oddsMilli: 2_050 }], odds: 2_050, want: 0 },
  ];
  for (const row of rows) {
    it(`${row.name}: ${row.want}`, () => {
      assert.equal(nextHedgeStakeMinor(row.pos, row.accepted, row.odds, 10_000_000), row.want);
    });
  }

  it('never exceeds stakeMinorMax', () => {
    assert.equal(nextHedgeStakeMinor({ stakeMinor: 10_000, oddsMilli: 50_000 }, [], 1_010, 20_000), 20_000);
  });

  it('has the best worst case among nearby stakes (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 100, max: 1_000_000 }), fc.integer({ min: 1_010, max: 20_000 }), fc.integer({ min: 1_010, max: 20_000 }),
      (stakeMinor, oddsP, oddsH) => {
        const pos = { stakeMinor, oddsMilli: oddsP };
        const best = nextHedgeStakeMinor(pos, [], oddsH, Number.MAX_SAFE_INTEGER);
        const bestWorst = pairWorstCaseMinor(pos, [{ stakeMinor: best, oddsMilli: oddsH }]);
        for (let d = -20; d <= 20; d++) {
          const other = best + d;
          if (other < 0) continue;
          assert.ok(pairWorstCaseMinor(pos, [{ stakeMinor: other, oddsMilli: oddsH }]) <= bestWorst);
        }
      },
    ));
  });
});

describe('repriceLossLimitMinor', () => {
  it('rounds the allowed loss down (never lets more loss through)', () => {
    assert.equal(repriceLossLimitMinor(10_000, 100), 100);
    assert.equal(repriceLossLimitMinor(9_999, 100), 99);
    assert.equal(repriceLossLimitMinor(10_000, 0), 0);
  });
});

describe('the pair state machine', () => {
  it('rejects an illegal transition loudly', () => {
    assert.throws(() => assertTransition('received', 'hedged'), /illegal pair transition received → hedged/);
    assert.throws(() => assertTransition('positive_failed', 'hedge_placing'), /illegal/);
    assert.throws(() => assertTransition('blocked', 'positive_placing'), /illegal/);
  });

  it('never lets the hedge be placed before the positive: hedge_placing is reachable only from positive_placing', () => {
    const into = (Object.keys(pairTransitions) as PairState[]).filter((from) => from !== 'hedge_placing' && pairTransitions[from].includes('hedge_placing'));
    assert.deepEqual(into, ['positive_placing']);
  });

  it('client references are deterministic per arb, leg and attempt', () => {
    assert.equal(clientRefFor('arb-1', 'positive', 1), 'be1.arb-1.p1');
    assert.equal(clientRefFor('arb-1', 'hedge', 3), 'be1.arb-1.h3');
  });
});
