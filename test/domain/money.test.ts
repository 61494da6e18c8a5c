// Odds parsing and formatting, payout rounding, hedge stakes and worst-case P&L: tables and properties.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ODDS_MILLI_MAX,
  arbOutcomesMinor,
  arbWorstCaseMinor,
  formatMinor,
  formatOdds,
  hedgeStakeFor,
  parseOddsMilli,
  payoutMinor,
  rebalanceHedge,
} from '../../src/domain/money.js';

const stakeArb = fc.integer({ min: 1, max: 100_000_00 });
const oddsArb = fc.integer({ min: 1001, max: ODDS_MILLI_MAX });
/** Odds where arbs actually live; the full range is tested too, but this one hits the interesting cases. */
const commonOddsArb = fc.integer({ min: 1001, max: 20_000 });

describe('parseOddsMilli', () => {
  const rows: Array<[string, number | null]> = [
    ['2.05', 2050],
    ['2.050', 2050],
    ['2.50', 2500],
    ['2.5', 2500],
    ['2', 2000],
    ['1.001', 1001],
    ['999.999', 999_999],
    ['1000', 1_000_000],
    ['1000.000', 1_000_000],
    ['1000.001', null],
    ['1001', null],
    ['10000', null],
    ['99999999999999999999999', null],
    ['2.0505', null],
    ['2.0500', null],
    ['1', null],
    ['1.000', null],
    ['1.0', null],
    ['0.5', null],
    ['0', null],
    ['1e3', null],
    ['2e0', null],
    ['1E3', null],
    [' 2.5', null],
    ['2.5 ', null],
    ['+2.5', null],
    ['-2.5', null],
    ['2.', null],
    ['.5', null],
    ['02.5', null],
    ['2,5', null],
    ['0x10', null],
    ['', null],
    ['NaN', null],
    ['Infinity', null],
    ['２.５', null],
  ];
  for (const [text, expected] of rows) {
    it(`reads ${JSON.stringify(text)} as ${expected === null ? 'invalid' : expected}`, () => {
      assert.equal(parseOddsMilli(text), expected);
    });
  }

  it('reads back every valid odds from its formatted text and from the shortest text of its double', () => {
    fc.assert(
      fc.property(oddsArb, (oddsMilli) => {
        assert.equal(parseOddsMilli(formatOdds(oddsMilli)), oddsMilli);
        // What validation does for a JSON number: String(n) is exact, no float × 1000 involved.
        assert.equal(parseOddsMilli(String(oddsMilli / 1000)), oddsMilli);
      }),
    );
  });
});

describe('formatOdds and formatMinor', () => {
  it('formats odds with exactly three decimals', () => {
    assert.equal(formatOdds(2050), '2.050');
    assert.equal(formatOdds(1001), '1.001');
    assert.equal(formatOdds(1_000_000), '1000.000');
    assert.equal(formatOdds(12_340), '12.340');
  });

  it('formats money with the currency minor unit', () => {
    assert.equal(formatMinor(123_456, 'EUR'), '1234.56 EUR');
    assert.equal(formatMinor(5, 'EUR'), '0.05 EUR');
    assert.equal(formatMinor(-5, 'EUR'), '-0.05 EUR');
    assert.equal(formatMinor(0, 'GBP'), '0.00 GBP');
    assert.equal(formatMinor(-123_456, 'USD'), '-1234.56 USD');
    assert.equal(formatMinor(1500, 'JPY'), '1500 JPY');
    assert.equal(formatMinor(1500, 'KWD'), '1.500 KWD');
  });

  it('refuses non-integer money as a bug', () => {
    assert.throws(() => formatMinor(1.5, 'EUR'), /invariant violated/);
  });
});

describe('payoutMinor', () => {
  const rows: Array<[stakeMinor: number, oddsMilli: number, payout: number]> = [
    [100, 2050, 205],
    [1, 1999, 1], // 1.999 → 1: the fraction is never paid to us
    [3, 3333, 9], // 9.999 → 9
    [7, 1001, 7], // 7.007 → 7
    [999, 1001, 999], // 999.999 → 999
    [1000, 1001, 1001],
    [0, 2500, 0],
    [1001, 2050, 2052], // 2052.05 → 2052
    [100_000_00, 1_000_000, 10_000_000_000],
    // stake × odds = 9.0162e18, far past 2^53: exact only in BigInt.
    [9_007_199_254_740, 1001, 9_016_206_453_994],
  ];
  for (const [stakeMinor, oddsMilli, expected] of rows) {
    it(`pays ${expected} for ${stakeMinor} at ${formatOdds(oddsMilli)}`, () => {
      assert.equal(payoutMinor(stakeMinor, oddsMilli), expected);
    });
  }

  it('refuses odds of 1 or less, fractional stakes and negative stakes as bugs', () => {
    assert.throws(() => payoutMinor(100, 1000), /invariant violated/);
    assert.throws(() => payoutMinor(100.5, 2000), /invariant violated/);
    assert.throws(() => payoutMinor(-1, 2000), /invariant violated/);
    assert.throws(() => payoutMinor(100, 2000.5), /invariant violated/);
  });

  it('is the exact floor of stake × odds / 1000: never above the rational value, less than 1 below', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), oddsArb, (stakeMinor, oddsMilli) => {
        const payout = payoutMinor(stakeMinor, oddsMilli);
        const exactTimes1000 = BigInt(stakeMinor) * BigInt(oddsMilli);
        assert.ok(Number.isSafeInteger(payout));
        assert.ok(BigInt(payout) * 1000n <= exactTimes1000, 'never above the exact value');
        assert.ok((BigInt(payout) + 1n) * 1000n > exactTimes1000, 'less than one unit below');
      }),
    );
  });
});

describe('hedgeStakeFor', () => {
  it('equalises the outcomes exactly when the real solution is an integer', () => {
    const stake = hedgeStakeFor({ positiveStakeMinor: 10_000, positiveOddsMilli: 2100, hedgeOddsMilli: 2000 });
    assert.equal(stake, 10_500);
    assert.deepEqual(
      arbOutcomesMinor({ stakeMinor: 10_000, oddsMilli: 2100 }, { stakeMinor: 10_500, oddsMilli: 2000 }),
      { positiveWinsMinor: 500, hedgeWinsMinor: 500 },
    );
  });

  it('picks the integer stake with the best worst case around a fractional solution', () => {
    // Real solution 11578.95: 11578 → worst 420, 11579 → 421, 11580 → 420.
    const stake = hedgeStakeFor({ positiveStakeMinor: 10_000, positiveOddsMilli: 2200, hedgeOddsMilli: 1900 });
    assert.equal(stake, 11_579);
    assert.equal(arbWorstCaseMinor({ stakeMinor: 10_000, oddsMilli: 2200 }, { stakeMinor: 11_579, oddsMilli: 1900 }), 421);
  });

  it('takes the smaller stake when two candidates tie', () => {
    // Real solution 1051.28: 1051 and 1052 both have a worst case of -2.
    const pos = { stakeMinor: 1000, oddsMilli: 2050 };
    assert.equal(arbWorstCaseMinor(pos, { stakeMinor: 1051, oddsMilli: 1950 }), -2);
    assert.equal(arbWorstCaseMinor(pos, { stakeMinor: 1052, oddsMilli: 1950 }), -2);
    assert.equal(hedgeStakeFor({ positiveStakeMinor: 1000, positiveOddsMilli: 2050, hedgeOddsMilli: 1950 }), 1051);
  });

  it('never returns a hedge stake below one unit', () => {
    assert.equal(hedgeStakeFor({ positiveStakeMinor: 1, positiveOddsMilli: 1500, hedgeOddsMilli: 100_000 }), 1);
  });

  it('has a worst case at least as good as any other stake within ±50', () => {
    fc.assert(
      fc.property(stakeArb, commonOddsArb, commonOddsArb, (positiveStakeMinor, positiveOddsMilli, hedgeOddsMilli) => {
        const stake = hedgeStakeFor({ positiveStakeMinor, positiveOddsMilli, hedgeOddsMilli });
        const pos = { stakeMinor: positiveStakeMinor, oddsMilli: positiveOddsMilli };
        const best = arbWorstCaseMinor(pos, { stakeMinor: stake, oddsMilli: hedgeOddsMilli });
        assert.ok(Number.isSafeInteger(stake) && stake >= 1);
        assert.ok(Number.isSafeInteger(best));
        for (let other = Math.max(1, stake - 50); other <= stake + 50; other += 1) {
          const worst = arbWorstCaseMinor(pos, { stakeMinor: other, oddsMilli: hedgeOddsMilli });
          assert.ok(worst <= best, `stake ${other} has worst case ${worst} > ${best} of stake ${stake}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stays within two units of the real-valued solution, over the full odds range', () => {
    fc.assert(
      fc.property(stakeArb, oddsArb, oddsArb, (positiveStakeMinor, positiveOddsMilli, hedgeOddsMilli) => {
        const stake = hedgeStakeFor({ positiveStakeMinor, positiveOddsMilli, hedgeOddsMilli });
        const exact = BigInt(positiveStakeMinor) * BigInt(positiveOddsMilli); // = Sh·Oh
        const stakeTimesOdds = BigInt(stake) * BigInt(hedgeOddsMilli);
        const distance = stakeTimesOdds > exact ? stakeTimesOdds - exact : exact - stakeTimesOdds;
        // |stake − Sp·Op/Oh| ≤ 2, i.e. |stake·Oh − Sp·Op| ≤ 2·Oh; or the stake was clamped to 1.
        assert.ok(stake === 1 || distance <= 2n * BigInt(hedgeOddsMilli), `stake ${stake} far from the solution`);
      }),
    );
  });
});

describe('arbWorstCaseMinor', () => {
  const rows: Array<[pos: [number, number], hedge: [number, number], worst: number]> = [
    [[10_000, 2100], [10_500, 2000], 500],
    [[10_000, 2100], [10_000, 2000], 0], // positive wins: 21000 − 20000 = 1000; hedge wins: 20000 − 20000 = 0
    [[10_000, 1900], [10_000, 1900], -1000],
    [[1, 1001], [1, 1001], -1],
  ];
  for (const [[ps, po], [hs, ho], worst] of rows) {
    it(`is ${worst} for ${ps}@${po} vs ${hs}@${ho}`, () => {
      assert.equal(arbWorstCaseMinor({ stakeMinor: ps, oddsMilli: po }, { stakeMinor: hs, oddsMilli: ho }), worst);
    });
  }
});

describe('rebalanceHedge', () => {
  it('re-solves the hedge from the accepted positive and the new hedge odds', () => {
    const plan = rebalanceHedge({
      plannedPositive: { stakeMinor: 10_000, oddsMilli: 2200 },
      acceptedPositive: { stakeMinor: 5000, oddsMilli: 2100 },
      plannedHedge: { stakeMinor: 11_579, oddsMilli: 1900 },
      hedgeOddsMilli: 1850,
    });
    assert.deepEqual(plan, {
      stakeMinor: 5676,
      oddsMilli: 1850,
      worstCaseMinor: -176,
      plannedWorstCaseMinor: 421,
      stakeChangeMinor: 5676 - 11_579,
    });
  });

  it('keeps the planned hedge when nothing changed', () => {
    const plan = rebalanceHedge({
      plannedPositive: { stakeMinor: 10_000, oddsMilli: 2200 },
      acceptedPositive: { stakeMinor: 10_000, oddsMilli: 2200 },
      plannedHedge: { stakeMinor: 11_579, oddsMilli: 1900 },
      hedgeOddsMilli: 1900,
    });
    assert.equal(plan.stakeMinor, 11_579);
    assert.equal(plan.stakeChangeMinor, 0);
    assert.equal(plan.worstCaseMinor, plan.plannedWorstCaseMinor);
  });

  it('reports a worst case equal to the pair P&L at the returned stake', () => {
    fc.assert(
      fc.property(stakeArb, commonOddsArb, commonOddsArb, (stakeMinor, oddsMilli, hedgeOddsMilli) => {
        const accepted = { stakeMinor, oddsMilli };
        const plan = rebalanceHedge({
          plannedPositive: accepted,
          acceptedPositive: accepted,
          plannedHedge: { stakeMinor: 1, oddsMilli: hedgeOddsMilli },
          hedgeOddsMilli,
        });
        const outcomes = arbOutcomesMinor(accepted, { stakeMinor: plan.stakeMinor, oddsMilli: hedgeOddsMilli });
        assert.equal(plan.worstCaseMinor, Math.min(outcomes.positiveWinsMinor, outcomes.hedgeWinsMinor));
        assert.ok(Number.isSafeInteger(plan.worstCaseMinor) && Number.isSafeInteger(plan.stakeChangeMinor));
      }),
    );
  });
});
