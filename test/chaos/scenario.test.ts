// The chaos scenario's stake_rounding class: each of its hedge prices really leaves the rebalanced hedge short.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildScenario, roundingShortPrices } from '../../chaos/scenario.js';
import { hedgeTargetReturnMinor, nextHedgeStakeMinor } from '../../src/domain/hedge.js';
import { payoutMinor } from '../../src/domain/money.js';

describe('chaos class stake_rounding', () => {
  it('each price: an arb, and after a half-taken positive the rebalanced hedge taken in full returns 1 short of its share', () => {
    for (const [oddsMilli, stakeMinor] of roundingShortPrices) {
      assert.ok(1 / 2.1 + 1000 / oddsMilli < 1, `${oddsMilli} makes the pair an arb`);
      assert.ok(payoutMinor(stakeMinor, oddsMilli) >= 21_000 && payoutMinor(stakeMinor - 1, oddsMilli) < 21_000, `${stakeMinor} is the smallest covering stake at ${oddsMilli}`);
      const target = hedgeTargetReturnMinor({ stakeMinor: 10_000, oddsMilli: 2_100 }, { stakeMinor: 5_000, oddsMilli: 2_100 }, { stakeMinor, oddsMilli });
      const rebalanced = nextHedgeStakeMinor(target, [], oddsMilli, 1_000_000);
      assert.equal(target - payoutMinor(rebalanced, oddsMilli), 1, `${oddsMilli}: the rebalanced hedge returns 1 short`);
      // What the executor before dc3ebc1 did next: a top-up bet of a unit or two on a leg already placed.
      assert.ok(nextHedgeStakeMinor(target, [{ stakeMinor: rebalanced, oddsMilli }], oddsMilli, 1_000_000) > 0);
    }
  });

  it('is drawn only when asked, on pairs with no other fault: a half-taken positive and a short price', () => {
    const options = { seed: 9, pairs: 400, accountsPerBook: 12, durationMs: 10_000, workers: 3, lockTtlMs: 1_000 };
    const base = buildScenario(options);
    assert.equal(base.pairs.filter((p) => p.plan.faultClass === 'stake_rounding').length, 0);
    const rounded = buildScenario({ ...options, classes: ['stake_rounding'] }).pairs.filter((p) => p.plan.faultClass === 'stake_rounding');
    assert.ok(rounded.length >= 10, `${rounded.length} pairs`);
    for (const p of rounded) {
      assert.deepEqual(p.faultsA.map((f) => f.fault), ['partial']);
      assert.deepEqual(p.faultsB, []);
      const hedge = p.data.hedgeBet as { odds: string; stakeMinor: number };
      assert.ok(roundingShortPrices.some(([o, s]) => (o / 1000).toFixed(3) === hedge.odds && s === hedge.stakeMinor));
    }
  });
});
