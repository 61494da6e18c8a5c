// Hedge sizing and the pair state machine: table rows and properties.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { hedgeTargetReturnMinor, nextHedgeStakeMinor, pairWorstCaseMinor, repriceLossLimitMinor } from '../../src/domain/hedge.js';
import { payoutMinor } from '../../src/domain/money.js';
import { assertTransition, clientRefFor, pairTransitions, type PairState } from '../../src/domain/pair.js';

describe('hedge sizing', () => {
  const planned = { positive: { stakeMinor: 10_000, oddsMilli: 2_100 }, hedge: { stakeMinor: 10_244, oddsMilli: 2_050 } };
  const rows = [
    { name: 'positive taken as planned: the scanner\'s hedge', accepted: { stakeMinor: 10_000, oddsMilli: 2_100 }, hedges: [], odds: 2_050, want: 10_244 },
    { name: 'positive partly taken', accepted: { stakeMinor: 5_000, oddsMilli: 2_100 }, hedges: [], odds: 2_050, want: 5_122 },
    { name: 'positive at worse odds', accepted: { stakeMinor: 10_000, oddsMilli: 2_000 }, hedges: [], odds: 2_050, want: 9_756 },
    { name: 'rest after a partial hedge', accepted: { stakeMinor: 10_000, oddsMilli: 2_100 }, hedges: [{ stakeMinor: 4_000, oddsMilli: 2_050 }], odds: 2_050, want: 6_244 },
    { name: 'hedge re-priced at moved odds', accepted: { stakeMinor: 10_000, oddsMilli: 2_100 }, hedges: [], odds: 2_020, want: 10_396 },
    { name: 'already covered', accepted: { stakeMinor: 10_000, oddsMilli: 2_100 }, hedges: [{ stakeMinor: 10_244, oddsMilli: 2_050 }], odds: 2_050, want: 0 },
  ];
  for (const row of rows) {
    it(`${row.name}: ${row.want}`, () => {
      const target = hedgeTargetReturnMinor(planned.positive, row.accepted, planned.hedge);
      assert.equal(nextHedgeStakeMinor(target, row.hedges, row.odds, 10_000_000), row.want);
    });
  }

  it('keeps the scanner\'s own ratio when it is not the equalising one', () => {
    const target = hedgeTargetReturnMinor(planned.positive, { stakeMinor: 5_000, oddsMilli: 2_100 }, { stakeMinor: 8_000, oddsMilli: 2_050 });
    assert.equal(nextHedgeStakeMinor(target, [], 2_050, 10_000_000), 4_000);
  });

  it('never exceeds stakeMinorMax', () => {
    assert.equal(nextHedgeStakeMinor(500_000, [], 1_010, 20_000), 20_000);
  });

  it('brings the hedge return closest to its target among nearby stakes (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 100, max: 10_000_000 }), fc.integer({ min: 1_010, max: 50_000 }),
      (targetReturnMinor, oddsMilli) => {
        const best = nextHedgeStakeMinor(targetReturnMinor, [], oddsMilli, Number.MAX_SAFE_INTEGER);
        const gap = (stake: number) => Math.abs(targetReturnMinor - payoutMinor(stake, oddsMilli));
        for (let d = -20; d <= 20; d++) if (best + d >= 0) assert.ok(gap(best + d) >= gap(best));
        assert.ok(Number.isSafeInteger(best));
      },
    ));
  });

  it('scales the target with the positive actually taken, integer only (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 1_010, max: 20_000 }), (stakeMinor, oddsMilli) => {
      const t = hedgeTargetReturnMinor(planned.positive, { stakeMinor, oddsMilli }, planned.hedge);
      assert.ok(Number.isSafeInteger(t) && t >= 0);
      if (stakeMinor === 10_000 && oddsMilli === 2_100) assert.equal(t, payoutMinor(10_244, 2_050));
    }));
  });
});

describe('pairWorstCaseMinor', () => {
  const rows: Array<[pos: [number, number], hedges: Array<[number, number]>, worst: number]> = [
    [[10_000, 2100], [[10_500, 2000]], 500],
    [[10_000, 2100], [[10_000, 2000]], 0], // positive wins: 21000 − 20000 = 1000; hedge wins: 20000 − 20000 = 0
    [[10_000, 1900], [[10_000, 1900]], -1000],
    [[1, 1001], [[1, 1001]], -1],
    [[10_000, 2100], [[4_000, 2050], [6_244, 2050]], 756], // a hedge placed as two bets
    [[10_000, 2100], [], -10_000], // unhedged: the positive may lose
  ];
  for (const [[ps, po], hedges, worst] of rows) {
    it(`is ${worst} for ${ps}@${po} vs ${hedges.map(([s, o]) => `${s}@${o}`).join(' + ') || 'no hedge'}`, () => {
      assert.equal(pairWorstCaseMinor({ stakeMinor: ps, oddsMilli: po }, hedges.map(([stakeMinor, oddsMilli]) => ({ stakeMinor, oddsMilli }))), worst);
    });
  }
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
