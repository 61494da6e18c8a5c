// Settlement returns, pair P&L and the reconciliation classification: full tables and properties.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ODDS_MILLI_MAX } from '../../src/domain/money.js';
import {
  legPnlMinor,
  legReturnMinor,
  pairPnlMinor,
  reconcile,
  type SettledBet,
  type SettlementOutcome,
} from '../../src/domain/settlement.js';
import { finalBetStatuses, type FinalBetStatus } from '../../src/domain/types.js';

const statusArb = fc.constantFrom(...finalBetStatuses);
const betArb = fc.record({
  stakeMinor: fc.integer({ min: 1, max: 100_000_00 }),
  oddsMilli: fc.integer({ min: 1001, max: ODDS_MILLI_MAX }),
  status: statusArb,
});

describe('reconcile', () => {
  // Written out by hand, not derived from the rules: [positive, hedge, exposure reason or null].
  const rows: Array<[FinalBetStatus, FinalBetStatus, string | null]> = [
    ['won', 'won', 'both_won_unexpected'],
    ['won', 'lost', null],
    ['won', 'void', 'hedge_void_positive_active'],
    ['won', 'half_won', 'partial_settlement_won_half_won'],
    ['won', 'half_lost', 'partial_settlement_won_half_lost'],
    ['lost', 'won', null],
    ['lost', 'lost', 'both_lost_unexpected'],
    ['lost', 'void', 'hedge_void_positive_active'],
    ['lost', 'half_won', 'partial_settlement_lost_half_won'],
    ['lost', 'half_lost', 'partial_settlement_lost_half_lost'],
    ['void', 'won', 'positive_void_hedge_active'],
    ['void', 'lost', 'positive_void_hedge_active'],
    ['void', 'void', null],
    ['void', 'half_won', 'positive_void_hedge_active'],
    ['void', 'half_lost', 'positive_void_hedge_active'],
    ['half_won', 'won', 'partial_settlement_half_won_won'],
    ['half_won', 'lost', 'partial_settlement_half_won_lost'],
    ['half_won', 'void', 'hedge_void_positive_active'],
    ['half_won', 'half_won', 'partial_settlement_half_won_half_won'],
    ['half_won', 'half_lost', 'partial_settlement_half_won_half_lost'],
    ['half_lost', 'won', 'partial_settlement_half_lost_won'],
    ['half_lost', 'lost', 'partial_settlement_half_lost_lost'],
    ['half_lost', 'void', 'hedge_void_positive_active'],
    ['half_lost', 'half_won', 'partial_settlement_half_lost_half_won'],
    ['half_lost', 'half_lost', 'partial_settlement_half_lost_half_lost'],
  ];

  it('has a row for every one of the 25 pairs of final statuses', () => {
    const covered = new Set(rows.map(([p, h]) => `${p}_${h}`));
    assert.equal(covered.size, 25);
    for (const p of finalBetStatuses) for (const h of finalBetStatuses) assert.ok(covered.has(`${p}_${h}`));
  });

  for (const [positiveStatus, hedgeStatus, reason] of rows) {
    const title = reason === null ? 'no exposure' : reason;
    it(`classifies positive ${positiveStatus} / hedge ${hedgeStatus} as ${title}`, () => {
      const expected =
        reason === null
          ? { exposure: false, actualOutcome: `${positiveStatus}_${hedgeStatus}` }
          : { exposure: true, reason, actualOutcome: `${positiveStatus}_${hedgeStatus}` };
      assert.deepEqual(reconcile({ positiveStatus, hedgeStatus }), expected);
    });
  }

  const timeoutRows: Array<[SettlementOutcome, SettlementOutcome]> = [
    ...finalBetStatuses.map((s): [SettlementOutcome, SettlementOutcome] => ['timeout', s]),
    ...finalBetStatuses.map((s): [SettlementOutcome, SettlementOutcome] => [s, 'timeout']),
    ['timeout', 'timeout'],
  ];
  for (const [positiveStatus, hedgeStatus] of timeoutRows) {
    it(`flags positive ${positiveStatus} / hedge ${hedgeStatus} as settlement_timeout`, () => {
      assert.deepEqual(reconcile({ positiveStatus, hedgeStatus }), {
        exposure: true,
        reason: 'settlement_timeout',
        actualOutcome: `${positiveStatus}_${hedgeStatus}`,
      });
    });
  }
});

describe('legReturnMinor', () => {
  const rows: Array<[stakeMinor: number, oddsMilli: number, status: FinalBetStatus, returned: number]> = [
    [1001, 2050, 'won', 2052], // 2052.05 floored
    [1001, 2050, 'lost', 0],
    [1001, 2050, 'void', 1001],
    [1001, 2050, 'half_won', 1526], // 500 paid at 2.05 = 1025, plus 501 refunded (rational 1526.525)
    [1001, 2050, 'half_lost', 500], // the odd unit counts as lost (rational 500.5)
    [1000, 2050, 'half_won', 1525], // 500 × 2.05 + 500
    [1000, 2050, 'half_lost', 500],
    [1, 1500, 'won', 1],
    [1, 1500, 'half_won', 1], // nothing paid at odds, the one unit refunded
    [1, 1500, 'half_lost', 0],
    [3, 3333, 'won', 9],
    [3, 3333, 'half_won', 5], // payout(1, 3.333) = 3, plus 2 refunded
    [3, 3333, 'half_lost', 1],
  ];
  for (const [stakeMinor, oddsMilli, status, expected] of rows) {
    it(`returns ${expected} for ${stakeMinor} at ${oddsMilli} ${status}`, () => {
      assert.equal(legReturnMinor(stakeMinor, oddsMilli, status), expected);
    });
  }

  it('returns between 0 and the exact stake × odds / 1000, as a safe integer', () => {
    fc.assert(
      fc.property(betArb, ({ stakeMinor, oddsMilli, status }) => {
        const returned = legReturnMinor(stakeMinor, oddsMilli, status);
        assert.ok(Number.isSafeInteger(returned));
        assert.ok(returned >= 0);
        assert.ok(BigInt(returned) * 1000n <= BigInt(stakeMinor) * BigInt(oddsMilli));
      }),
    );
  });

  it('orders the statuses: lost ≤ half_lost ≤ void ≤ half_won ≤ won', () => {
    fc.assert(
      fc.property(betArb, ({ stakeMinor, oddsMilli }) => {
        const r = (s: FinalBetStatus) => legReturnMinor(stakeMinor, oddsMilli, s);
        assert.ok(r('lost') <= r('half_lost') && r('half_lost') <= r('void'));
        assert.ok(r('void') <= r('half_won') && r('half_won') <= r('won'));
      }),
    );
  });
});

describe('legPnlMinor and pairPnlMinor', () => {
  it('gives a leg P&L of return minus stake', () => {
    assert.equal(legPnlMinor(1001, 2050, 'won'), 1051);
    assert.equal(legPnlMinor(1001, 2050, 'lost'), -1001);
    assert.equal(legPnlMinor(1001, 2050, 'void'), 0);
    assert.equal(legPnlMinor(1001, 2050, 'half_won'), 525);
    assert.equal(legPnlMinor(1001, 2050, 'half_lost'), -501);
  });

  it('sums the bets of a pair, a leg possibly made of several bets', () => {
    const bets: SettledBet[] = [
      { stakeMinor: 10_000, oddsMilli: 2200, status: 'won' }, // +12000
      { stakeMinor: 6000, oddsMilli: 1900, status: 'lost' }, // −6000 (hedge, first part)
      { stakeMinor: 5579, oddsMilli: 1850, status: 'lost' }, // −5579 (hedge, top-up)
    ];
    assert.equal(pairPnlMinor(bets), 421);
    assert.equal(pairPnlMinor([]), 0);
  });

  it('equals the sum of the leg P&Ls, as a safe integer', () => {
    fc.assert(
      fc.property(fc.array(betArb, { maxLength: 8 }), (bets) => {
        const total = pairPnlMinor(bets);
        let expected = 0;
        for (const bet of bets) expected += legReturnMinor(bet.stakeMinor, bet.oddsMilli, bet.status) - bet.stakeMinor;
        assert.ok(Number.isSafeInteger(total));
        assert.equal(total, expected);
      }),
    );
  });
});
