// Is it an arb: the market model's outcomes, the worst case over them, and a property test against a
// brute force that settles generated pairs from what the generator meant, never from arb.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  arbMarginBps, coveredWorstCaseMinor, legCoverage, plannedWorstCaseMinor, type LegMarket, type PairOutcome,
} from '../../src/domain/arb.js';
import { parseBetPair } from '../../src/domain/validation.js';

function leg(selection: string, market = 'm', eventId = 'ev-1'): LegMarket {
  return { eventId, market, selection };
}

function outcomeSet(outcomes: readonly PairOutcome[]): string[] {
  return outcomes.map((o) => `${o.positive}/${o.hedge}`).sort();
}

describe('legCoverage', () => {
  const rows: Array<{ name: string; positive: LegMarket; hedge: LegMarket; outcomes: string[]; covered: boolean }> = [
    { name: 'home / away: exactly one wins', positive: leg('home'), hedge: leg('away'), outcomes: ['lost/won', 'won/lost'], covered: true },
    { name: 'the same selection: both win or both lose', positive: leg('home'), hedge: leg('HOME'), outcomes: ['lost/lost', 'won/won'], covered: false },
    { name: 'over_2 / under_2: a whole line can push', positive: leg('over_2'), hedge: leg('under_2'), outcomes: ['lost/won', 'void/void', 'won/lost'], covered: true },
    { name: 'over_2.5 / under_3.5: a middle, both win on 3', positive: leg('over_2.5'), hedge: leg('under_3.5'), outcomes: ['lost/won', 'won/lost', 'won/won'], covered: true },
    { name: 'over_3.5 / under_2.5: a gap, both lose on 3', positive: leg('over_3.5'), hedge: leg('under_2.5'), outcomes: ['lost/lost', 'lost/won', 'won/lost'], covered: false },
    { name: 'home_-1.5 / away_+1.5: one handicap seen from both sides', positive: leg('home_-1.5'), hedge: leg('away_+1.5'), outcomes: ['lost/won', 'won/lost'], covered: true },
    { name: 'home_0 / away_0 (draw no bet): a draw voids both', positive: leg('home_0'), hedge: leg('away_0'), outcomes: ['lost/won', 'void/void', 'won/lost'], covered: true },
    { name: 'two events: anything', positive: leg('home'), hedge: leg('away', 'm', 'ev-2'), outcomes: ['lost/lost', 'lost/won', 'won/lost', 'won/won'], covered: false },
    { name: 'two markets: anything', positive: leg('home'), hedge: leg('away', 'm2'), outcomes: ['lost/lost', 'lost/won', 'won/lost', 'won/won'], covered: false },
    { name: 'an unknown selection: anything', positive: leg('home'), hedge: leg('draw'), outcomes: ['lost/lost', 'lost/won', 'won/lost', 'won/won'], covered: false },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const coverage = legCoverage(row.positive, row.hedge);
      assert.deepEqual(outcomeSet(coverage.outcomes), row.outcomes);
      assert.equal(coverage.uncoveredReason === null, row.covered, String(coverage.uncoveredReason));
    });
  }
});

describe('worst case of a pair', () => {
  const fixture = { stakeMinor: 10_000, oddsMilli: 2_100 };
  const hedge = { stakeMinor: 10_244, oddsMilli: 2_050 };
  it('is +756 for the harness fixture (10000 @ 2.100 home, 10244 @ 2.050 away)', () => {
    assert.equal(plannedWorstCaseMinor({ positive: { ...leg('home'), ...fixture }, hedge: { ...leg('away'), ...hedge } }), 756);
  });

  it('is -20244 for the same fixture with both legs on home (the red team\'s pair, announced +756)', () => {
    assert.equal(plannedWorstCaseMinor({ positive: { ...leg('home'), ...fixture }, hedge: { ...leg('home'), ...hedge } }), -20_244);
  });

  it('counts every hedge bet on the hedge selection (retries and re-prices)', () => {
    const coverage = legCoverage(leg('home'), leg('away'));
    const hedges = [{ stakeMinor: 4_000, oddsMilli: 2_050 }, { stakeMinor: 6_244, oddsMilli: 2_050 }];
    // positive wins: 21000 − 10000 − 10244 = 756; hedge wins: 8200 + 12800 − 10244 − 10000 = 756
    assert.equal(coveredWorstCaseMinor(coverage, [fixture], hedges), 756);
    assert.equal(coveredWorstCaseMinor(coverage, [fixture], []), -10_000, 'unhedged: the positive can lose');
  });
});

describe('arbMarginBps', () => {
  const rows: Array<[number, number, number]> = [
    [2_500, 2_500, 2_000], [2_000, 2_000, 0], [2_100, 2_050, 360], [1_010, 1_010, -9_802], [1_000_000, 1_000_000, 9_980],
  ];
  for (const [p, h, bps] of rows) {
    it(`${p / 1000} / ${h / 1000} leaves ${bps} bps (rounded down)`, () => assert.equal(arbMarginBps(p, h), bps));
  }
});

// ---- property: exactly the arbs pass, and the worst case equals a brute force over every outcome ----

type Result = 'won' | 'lost' | 'void';
/** How the generator means a selection: settled by the test itself on a result of the market. */
type Meaning =
  | { kind: 'side'; family: string; side: 0 | 1 } // bare two-way: world is the winning side
  | { kind: 'total'; over: boolean; halves: number } // world: the total X ≥ 0
  | { kind: 'handicap'; home: boolean; halves: number } // world: the home margin M
  | { kind: 'unknown' }; // the executor cannot know: anything may happen

interface Spec {
  selections: [string, string];
  meanings: [Meaning, Meaning];
  market: string;
  threeWay: boolean;
}

const families: Array<[string, string, string]> = [
  ['home_away', 'home', 'away'], ['one_two', '1', '2'], ['over_under', 'over', 'under'], ['yes_no', 'yes', 'no'], ['back_lay', 'back', 'lay'],
];

function recase(text: string, mask: number): string {
  return [...text].map((c, i) => ((mask >> (i % 16)) & 1 ? c.toUpperCase() : c)).join('');
}

function lineText(halves: number, signed: boolean): string {
  const magnitude = Math.abs(halves);
  const text = `${Math.floor(magnitude / 2)}${magnitude % 2 === 1 ? '.5' : ''}`;
  if (!signed) return text;
  return `${halves < 0 ? '-' : '+'}${text}`;
}

const sideSpec: fc.Arbitrary<Spec> = fc
  .record({ family: fc.constantFrom(...families), pSide: fc.constantFrom(0, 1), hSide: fc.constantFrom(0, 1, 1), pMask: fc.nat(), hMask: fc.nat() })
  .map(({ family: [name, a, b], pSide, hSide: hOffset, pMask, hMask }) => {
    const hSide = ((pSide + hOffset) % 2) as 0 | 1; // mostly opposite, sometimes the same side
    const text = (side: number) => (side === 0 ? a : b);
    return {
      selections: [recase(text(pSide), pMask), recase(text(hSide), hMask)],
      meanings: [{ kind: 'side', family: name, side: pSide as 0 | 1 }, { kind: 'side', family: name, side: hSide }],
      market: 'match_winner',
      threeWay: false,
    };
  });

const totalSpec: fc.Arbitrary<Spec> = fc
  .record({ halves: fc.integer({ min: 0, max: 12 }), delta: fc.constantFrom(0, 0, 0, -2, -1, 1, 2), pOver: fc.boolean(), hOpposite: fc.constantFrom(true, true, false), mask: fc.nat() })
  .map(({ halves, delta, pOver, hOpposite, mask }) => {
    const hHalves = Math.max(0, halves + delta);
    const hOver = hOpposite ? !pOver : pOver;
    const text = (over: boolean, h: number) => `${over ? 'over' : 'under'}_${lineText(h, false)}`;
    return {
      selections: [recase(text(pOver, halves), mask), text(hOver, hHalves)],
      meanings: [{ kind: 'total', over: pOver, halves }, { kind: 'total', over: hOver, halves: hHalves }],
      market: 'total_goals',
      threeWay: false,
    };
  });

const handicapSpec: fc.Arbitrary<Spec> = fc
  .record({ halves: fc.integer({ min: -8, max: 8 }), delta: fc.constantFrom(0, 0, 0, -1, 1, 2), pHome: fc.boolean(), hOpposite: fc.constantFrom(true, true, false), numbered: fc.boolean() })
  .map(({ halves, delta, pHome, hOpposite, numbered }) => {
    const hHome = hOpposite ? !pHome : pHome;
    // The complementary handicap seen from the other side has the opposite sign.
    const hHalves = (hOpposite ? -halves : halves) + delta;
    const name = (home: boolean) => (numbered ? (home ? '1' : '2') : home ? 'home' : 'away');
    return {
      selections: [`${name(pHome)}_${lineText(halves, true)}`, `${name(hHome)}_${lineText(hHalves, true)}`],
      meanings: [{ kind: 'handicap', home: pHome, halves }, { kind: 'handicap', home: hHome, halves: hHalves }],
      market: 'asian_handicap',
      threeWay: false,
    };
  });

// No two of these make a known opposite pair: each pair is either the same selection or unproven.
const unknownShapes = ['draw', 'x', '+1.5', '-1.5', 'over_2.25', 'under_2.25', 'home_+0.75', 'home', 'over', 'under_2.5', 'yes', 'home_1.5', 'no_1.5', 'away_-0.75'];
const unknownSpec: fc.Arbitrary<Spec> = fc
  .record({ p: fc.constantFrom(...unknownShapes), h: fc.constantFrom(...unknownShapes), mask: fc.nat() })
  .map(({ p, h, mask }) => ({
    selections: [p, recase(h, mask)],
    meanings: [{ kind: 'unknown' }, { kind: 'unknown' }],
    market: 'match_winner',
    threeWay: false,
  }));

const threeWaySpec: fc.Arbitrary<Spec> = fc.constantFrom<Spec>(
  { selections: ['1', '2'], meanings: [{ kind: 'side', family: 'one_two', side: 0 }, { kind: 'side', family: 'one_two', side: 1 }], market: '1x2', threeWay: true },
  { selections: ['home', 'away'], meanings: [{ kind: 'side', family: 'home_away', side: 0 }, { kind: 'side', family: 'home_away', side: 1 }], market: 'three_way', threeWay: true },
);

function settleTotal(over: boolean, halves: number, total: number): Result {
  if (2 * total === halves) return 'void';
  return (2 * total > halves) === over ? 'won' : 'lost';
}

function settleHandicap(home: boolean, halves: number, margin: number): Result {
  // home +H wins when M + H > 0; away +H wins when H − M > 0.
  const score = home ? 2 * margin + halves : halves - 2 * margin;
  if (score === 0) return 'void';
  return score > 0 ? 'won' : 'lost';
}

const everyPair = (a: readonly Result[], b: readonly Result[]) => a.flatMap((x) => b.map((y): [Result, Result] => [x, y]));
const totals = Array.from({ length: 21 }, (_, i) => i); // 0..20 goals: every line generated is below 8
const margins = Array.from({ length: 41 }, (_, i) => i - 20); // -20..20

/** What one leg can end as on its own, over every result of its market. */
function alone(m: Meaning): Result[] {
  switch (m.kind) {
    case 'total': return [...new Set(totals.map((x) => settleTotal(m.over, m.halves, x)))];
    case 'handicap': return [...new Set(margins.map((x) => settleHandicap(m.home, m.halves, x)))];
    case 'side': case 'unknown': return ['won', 'lost'];
  }
}

/** Every (positive, hedge) result that can happen, settled by this test from what the generator meant. */
function bruteOutcomes(spec: Spec, sameEventAndMarket: boolean): Array<[Result, Result]> {
  const [p, h] = spec.meanings;
  const sameSelection = spec.selections[0].toLowerCase() === spec.selections[1].toLowerCase();
  if (sameEventAndMarket && sameSelection && p.kind === 'unknown') return [['won', 'won'], ['lost', 'lost']];
  if (!sameEventAndMarket || p.kind === 'unknown' || h.kind === 'unknown') return everyPair(alone(p), alone(h)); // independent, as far as anyone knows
  const worlds: Array<[Result, Result]> = [];
  if (p.kind === 'side' && h.kind === 'side') {
    for (const winner of [0, 1]) worlds.push([p.side === winner ? 'won' : 'lost', h.side === winner ? 'won' : 'lost']);
    if (spec.threeWay) worlds.push(['lost', 'lost']); // the draw
  } else if (p.kind === 'total' && h.kind === 'total') {
    for (const total of totals) worlds.push([settleTotal(p.over, p.halves, total), settleTotal(h.over, h.halves, total)]);
  } else if (p.kind === 'handicap' && h.kind === 'handicap') {
    for (const margin of margins) worlds.push([settleHandicap(p.home, p.halves, margin), settleHandicap(h.home, h.halves, margin)]);
  } else {
    assert.fail('the generator pairs meanings of one kind');
  }
  return worlds;
}

function brutePnlMinor(result: Result, stakeMinor: number, oddsMilli: number): bigint {
  if (result === 'void') return 0n;
  if (result === 'lost') return -BigInt(stakeMinor);
  return (BigInt(stakeMinor) * BigInt(oddsMilli)) / 1000n - BigInt(stakeMinor);
}

interface Generated {
  spec: Spec;
  eventMode: 'same' | 'other' | 'recased';
  marketMode: 'same' | 'other';
  accountMode: 'other' | 'same' | 'recased' | 'same_id_other_provider';
  currencyMode: 'absent' | 'same' | 'other';
  positiveOddsMilli: number;
  hedgeOddsMilli: number;
  positiveStakeMinor: number;
  hedgeStakeMinor: number;
  worstCaseMinorMin: number;
  arbMarginBpsMax: number;
}

const oddsMilli = fc.oneof(fc.integer({ min: 1_001, max: 6_000 }), fc.constantFrom(1_010, 1_001, 1_000_000, 2_000, 2_500));
const generated: fc.Arbitrary<Generated> = fc
  .record({
    spec: fc.oneof({ arbitrary: sideSpec, weight: 4 }, { arbitrary: totalSpec, weight: 3 }, { arbitrary: handicapSpec, weight: 3 }, { arbitrary: unknownSpec, weight: 1 }, { arbitrary: threeWaySpec, weight: 1 }),
    eventMode: fc.constantFrom('same', 'same', 'same', 'same', 'other', 'recased'),
    marketMode: fc.constantFrom('same', 'same', 'same', 'same', 'same', 'other'),
    accountMode: fc.constantFrom('other', 'other', 'other', 'other', 'same', 'recased', 'same_id_other_provider'),
    currencyMode: fc.constantFrom('absent', 'absent', 'absent', 'same', 'other'),
    positiveOddsMilli: oddsMilli,
    marginPerMille: fc.integer({ min: -40, max: 60 }),
    randomHedgeOdds: fc.option(oddsMilli, { freq: 4 }),
    positiveStakeMinor: fc.integer({ min: 1, max: 200_000 }),
    stakeNoiseMinor: fc.integer({ min: -5, max: 5 }),
    worstCaseMinorMin: fc.oneof(fc.constant(0), fc.integer({ min: -300, max: 300 })),
    arbMarginBpsMax: fc.oneof(fc.constant(2_000), fc.integer({ min: 0, max: 10_000 })),
  })
  .map((g) => {
    // Mostly a hedge priced near an arb with the given margin, 1/p + 1/h = 1 − margin; sometimes any odds.
    const implied = 1_000_000 - g.marginPerMille * 1_000 - 1_000_000_000 / g.positiveOddsMilli;
    const nearArb = implied > 0 ? Math.ceil(1_000_000_000 / implied) : 1_000_000;
    const hedgeOddsMilli = g.randomHedgeOdds ?? Math.min(1_000_000, Math.max(1_001, nearArb));
    const balanced = Math.round((g.positiveStakeMinor * g.positiveOddsMilli) / hedgeOddsMilli);
    const hedgeStakeMinor = Math.min(10_000_000, Math.max(1, balanced + g.stakeNoiseMinor));
    return { ...g, hedgeOddsMilli, hedgeStakeMinor };
  });

function jobOf(g: Generated): { job: Record<string, unknown>; hedgeEventId: string; hedgeMarket: string } {
  const hedgeEventId = { same: 'ev-1', other: 'ev-2', recased: 'EV-1' }[g.eventMode];
  const hedgeMarket = g.marketMode === 'same' ? g.spec.market : `${g.spec.market}_2h`;
  const hedgeAccount = { other: { accountId: 'acc-2' }, same: { accountId: 'acc-1' }, recased: { accountId: 'ACC-1' }, same_id_other_provider: { accountId: 'acc-1', provider: 'bookB' } }[g.accountMode];
  const currency = { absent: {}, same: { currency: 'EUR' }, other: { currency: 'GBP' } }[g.currencyMode];
  const job = {
    arbId: 'arb-1', betPairId: 'bp-1', whitelabel: 'wl1', provider: 'bookA', currency: 'EUR',
    positiveBet: { betId: 'p', accountId: 'acc-1', eventId: 'ev-1', market: g.spec.market, selection: g.spec.selections[0], odds: String(g.positiveOddsMilli / 1000), stakeMinor: g.positiveStakeMinor },
    hedgeBet: { betId: 'h', ...hedgeAccount, eventId: hedgeEventId, market: hedgeMarket, selection: g.spec.selections[1], odds: String(g.hedgeOddsMilli / 1000), stakeMinor: g.hedgeStakeMinor, ...currency },
  };
  return { job, hedgeEventId, hedgeMarket };
}

describe('property: exactly the arbs pass', () => {
  it('accepts a generated pair iff the brute force says it is an arb, and the worst case equals the brute force', () => {
    const seen = new Map<string, number>();
    fc.assert(
      fc.property(generated, (g) => {
        const { job, hedgeEventId, hedgeMarket } = jobOf(g);
        const sameEventAndMarket = hedgeEventId === 'ev-1' && hedgeMarket === g.spec.market;
        const outcomes = bruteOutcomes(g.spec, sameEventAndMarket);
        const pnls = outcomes.map(([p, h]) => brutePnlMinor(p, g.positiveStakeMinor, g.positiveOddsMilli) + brutePnlMinor(h, g.hedgeStakeMinor, g.hedgeOddsMilli));
        const bruteWorst = pnls.reduce((a, b) => (b < a ? b : a));

        const planned = plannedWorstCaseMinor({
          positive: { eventId: 'ev-1', market: g.spec.market, selection: g.spec.selections[0], oddsMilli: g.positiveOddsMilli, stakeMinor: g.positiveStakeMinor },
          hedge: { eventId: hedgeEventId, market: hedgeMarket, selection: g.spec.selections[1], oddsMilli: g.hedgeOddsMilli, stakeMinor: g.hedgeStakeMinor },
        });
        assert.equal(BigInt(planned), bruteWorst, 'worstCaseMinor equals the brute force over every outcome');

        // An outcome is covered when a leg wins, or when nobody loses anything (a push).
        const covered = outcomes.every(([p, h]) => p === 'won' || h === 'won' || (p === 'void' && h === 'void'));
        const distinctSelections = g.spec.selections[0].toLowerCase() !== g.spec.selections[1].toLowerCase();
        const twoAccounts = g.accountMode === 'other' || g.accountMode === 'same_id_other_provider';
        const known = g.spec.meanings.every((m) => m.kind !== 'unknown') && !g.spec.threeWay;
        // margin > max (floored bps) ⇔ 10000·p·h − 10^7·(p + h) ≥ (max + 1)·p·h
        const [p, h] = [BigInt(g.positiveOddsMilli), BigInt(g.hedgeOddsMilli)];
        const marginTooLarge = 10_000n * p * h - 10_000_000n * (p + h) >= BigInt(g.arbMarginBpsMax + 1) * p * h;
        const reasons = {
          other_event: !sameEventAndMarket,
          same_selection: sameEventAndMarket && !distinctSelections,
          not_covering: sameEventAndMarket && distinctSelections && (!known || !covered),
          same_account: !twoAccounts,
          leg_currency: g.currencyMode === 'other',
          below_floor: bruteWorst < BigInt(g.worstCaseMinorMin),
          margin: marginTooLarge,
        };
        const isArb = Object.values(reasons).every((r) => !r);
        for (const [name, r] of Object.entries(reasons)) if (r) seen.set(name, (seen.get(name) ?? 0) + 1);
        if (isArb) seen.set('arb', (seen.get('arb') ?? 0) + 1);

        const result = parseBetPair(job, { stakeMinorMax: 10_000_000, worstCaseMinorMin: g.worstCaseMinorMin, arbMarginBpsMax: g.arbMarginBpsMax });
        assert.equal(result.ok, isArb, `${JSON.stringify(reasons)} ${result.ok ? 'accepted' : result.errors.join('; ')}`);
      }),
      { numRuns: 3_000 },
    );
    // Each way of not being an arb was generated, and arbs too: a property that never meets a case proves nothing.
    for (const name of ['arb', 'other_event', 'same_selection', 'not_covering', 'same_account', 'leg_currency', 'below_floor', 'margin']) {
      assert.ok((seen.get(name) ?? 0) >= 20, `${name} generated ${seen.get(name) ?? 0} times: ${JSON.stringify([...seen])}`);
    }
  });
});

describe('the fixtures the rigs share are arbs', () => {
  it('accepts the harness, chaos and bench pair (10000 @ 2.100 home / 10244 @ 2.050 away)', () => {
    const job = {
      arbId: 'a', betPairId: 'b', whitelabel: 'wl1', provider: 'bookA', currency: 'EUR',
      positiveBet: { betId: 'p', accountId: 'pa0', eventId: 'ev-1', market: 'match_winner', selection: 'home', odds: '2.100', stakeMinor: 10_000 },
      hedgeBet: { betId: 'h', accountId: 'ha0', provider: 'bookB', eventId: 'ev-1', market: 'match_winner', selection: 'away', odds: '2.050', stakeMinor: 10_244 },
    };
    assert.equal(parseBetPair(job).ok, true);
  });

  it("accepts every pair the demo's generator can make (positive 2.050–2.300, margin 2–4 %, stake 20–200)", () => {
    for (let positiveOddsMilli = 2_050; positiveOddsMilli <= 2_300; positiveOddsMilli++) {
      for (const marginPerMille of [20, 30, 40]) {
        const hedgeOddsMilli = Math.ceil(1_000_000_000 / (1_000_000 - marginPerMille * 1_000 - 1_000_000_000 / positiveOddsMilli));
        for (const stakeMinor of [2_000, 2_100, 9_900, 20_000]) {
          const hedgeStakeMinor = Math.round((stakeMinor * positiveOddsMilli) / hedgeOddsMilli);
          const worst = plannedWorstCaseMinor({
            positive: { ...leg('home'), stakeMinor, oddsMilli: positiveOddsMilli },
            hedge: { ...leg('away'), stakeMinor: hedgeStakeMinor, oddsMilli: hedgeOddsMilli },
          });
          assert.ok(worst >= 0, `${stakeMinor} @ ${positiveOddsMilli} / ${hedgeStakeMinor} @ ${hedgeOddsMilli}: ${worst}`);
          assert.ok(arbMarginBps(positiveOddsMilli, hedgeOddsMilli) <= 2_000);
        }
      }
    }
  });
});
