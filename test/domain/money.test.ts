// Odds parsing and formatting, payout rounding: tables and properties (hedge sizing: hedge.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ODDS_MILLI_MAX, formatMinor, formatOdds, parseOdds, payoutMinor } from '../../src/domain/money.js';

/** parseOdds reduced to its value: oddsMilli, or null when refused. */
function parseOddsMilli(text: string): number | null {
  const result = parseOdds(text);
  return result.ok ? result.oddsMilli : null;
}

const oddsArb = fc.integer({ min: 1001, max: ODDS_MILLI_MAX });

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
