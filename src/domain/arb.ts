// Whether two legs make an arbitrage: which outcomes of their market they cover, and the pair's P&L in each.
//
// The executor is the last line of defence against a scanner bug, so nothing here assumes that the
// two legs are opposite. A small market model says which (positive, hedge) results can happen
// together; a pair *covers* its market when no possible outcome loses a leg without another leg
// winning. Anything the model does not understand is "unproven": every combination of won and lost
// is then possible, including both legs losing.
//
// Selections (compared case-insensitively, as the simulated bookmaker settles them) are
// `<base>` or `<base>_<line>`:
// - base pairs, side 0 / side 1: home/away, 1/2, over/under, yes/no, back/lay. A pair of bare bases
//   of one family (home vs away) is a two-way market: exactly one side wins.
// - over_L / under_L: a total line, L unsigned ("over_2.5"). over_L wins when the total X > L,
//   loses when X < L, and is void (a push, stake returned) when X = L.
// - home_±H / away_±H (and 1_±H / 2_±H): an Asian handicap on the home margin M. home_H wins when
//   M + H > 0, away_H wins when H − M > 0; void when = 0. A non-zero H carries its sign.
// Lines must be whole or half numbers: a quarter line (2.25) settles half won / half lost, which is
// not modelled, so it is unproven. Bare "+1.5"/"-1.5" do not say whose handicap they are: unproven.
// Bare and lined selections, two families, or a market named as three-way (1x2, with a draw) are
// unproven too. Scores are integers, so a half line never pushes and a whole line can.
import { payoutMinor, type PricedStake } from './money.js';
import { invariant, type Minor } from './types.js';

/** What the model needs of a leg: where it is and what it backs. */
export interface LegMarket {
  eventId: string;
  market: string;
  selection: string;
}

export type LegResult = 'won' | 'lost' | 'void';

export interface PairOutcome {
  positive: LegResult;
  hedge: LegResult;
}

export interface Coverage {
  /** Every outcome the model admits for the two legs, each once. */
  outcomes: readonly PairOutcome[];
  /** Null when every outcome has a winning leg or returns every stake; else why the pair is not covered. */
  uncoveredReason: string | null;
}

type Family = 'home_away' | 'one_two' | 'over_under' | 'yes_no' | 'back_lay';
type LineKind = 'handicap' | 'total' | 'none';

const bases: Readonly<Record<string, { family: Family; side: 0 | 1 }>> = {
  home: { family: 'home_away', side: 0 }, away: { family: 'home_away', side: 1 },
  1: { family: 'one_two', side: 0 }, 2: { family: 'one_two', side: 1 },
  over: { family: 'over_under', side: 0 }, under: { family: 'over_under', side: 1 },
  yes: { family: 'yes_no', side: 0 }, no: { family: 'yes_no', side: 1 },
  back: { family: 'back_lay', side: 0 }, lay: { family: 'back_lay', side: 1 },
};
const lineKinds: Readonly<Record<Family, LineKind>> = {
  home_away: 'handicap', one_two: 'handicap', over_under: 'total', yes_no: 'none', back_lay: 'none',
};

/**
 * A lined selection as a threshold on the market's integer score X (the total, or the home margin):
 * 'above' wins when 2X > thresholdHalves, 'below' when 2X < thresholdHalves, void when equal.
 */
interface Lined { kind: 'lined'; family: Family; direction: 'above' | 'below'; thresholdHalves: number; scoreMin: number | null }
interface Bare { kind: 'bare'; family: Family; side: 0 | 1 }
type ParsedSelection = Lined | Bare | { kind: 'unknown'; why: string };

// Lines up to 999.5: the score range searched below stays small and every number exact.
const SELECTION_RE = /^([a-z0-9]+)(?:_([+-]?)(\d{1,3})(?:\.(\d{1,3}))?)?$/;
const THREE_WAY_MARKET_RE = /(?:^|[_.-])(?:1x2|3way|3_way|three_way)(?:$|[_.-])/;

/** Line text → half-points (2.5 → 5), or null when it is not a whole or half number. */
function lineHalves(whole: string, fraction: string | undefined): number | null {
  const thousandths = Number((fraction ?? '').padEnd(3, '0'));
  if (thousandths !== 0 && thousandths !== 500) return null;
  return Number(whole) * 2 + (thousandths === 500 ? 1 : 0);
}

function parseSelection(selection: string): ParsedSelection {
  const match = SELECTION_RE.exec(selection.toLowerCase());
  const base = match === null ? undefined : bases[match[1] ?? ''];
  if (match === null || base === undefined) return { kind: 'unknown', why: `"${selection}" is not a known selection` };
  const [, , sign, whole, fraction] = match;
  if (whole === undefined) return { kind: 'bare', family: base.family, side: base.side };
  const halves = lineHalves(whole, fraction);
  if (halves === null) return { kind: 'unknown', why: `"${selection}" is a split (quarter) line, settled half won/half lost` };
  switch (lineKinds[base.family]) {
    case 'none':
      return { kind: 'unknown', why: `"${selection}" has a line, which ${base.family} selections do not take` };
    case 'total':
      if (sign !== '') return { kind: 'unknown', why: `"${selection}" has a signed total line` };
      return { kind: 'lined', family: base.family, direction: base.side === 0 ? 'above' : 'below', thresholdHalves: halves, scoreMin: 0 };
    case 'handicap': {
      if (sign === '' && halves !== 0) return { kind: 'unknown', why: `"${selection}" has a handicap without a sign` };
      const handicapHalves = sign === '-' ? -halves : halves;
      // home_H wins when M + H > 0, i.e. 2M > −2H; away_H wins when H − M > 0, i.e. 2M < 2H.
      return base.side === 0
        ? { kind: 'lined', family: base.family, direction: 'above', thresholdHalves: -handicapHalves, scoreMin: null }
        : { kind: 'lined', family: base.family, direction: 'below', thresholdHalves: handicapHalves, scoreMin: null };
    }
  }
}

function lineResult(selection: Lined, score: number): LegResult {
  const twice = 2 * score;
  if (twice === selection.thresholdHalves) return 'void';
  return (twice > selection.thresholdHalves) === (selection.direction === 'above') ? 'won' : 'lost';
}

/**
 * Scores that reach every result of the given lines together. A leg's result changes only at its
 * threshold, so the scores at and on either side of each threshold reach every combination.
 */
function scoresAround(lines: readonly Lined[]): number[] {
  const scores = new Set<number>();
  for (const { thresholdHalves, scoreMin } of lines) {
    const below = Math.floor(thresholdHalves / 2);
    for (const score of [below - 1, below, below + 1, below + 2]) {
      if (scoreMin === null || score >= scoreMin) scores.add(score);
    }
  }
  return [...scores];
}

/** The results a leg can have on its own: over_0 cannot lose (a total is never negative). */
function resultsAlone(selection: ParsedSelection): LegResult[] {
  if (selection.kind !== 'lined') return ['won', 'lost'];
  return [...new Set(scoresAround([selection]).map((score) => lineResult(selection, score)))];
}

function distinctOutcomes(outcomes: readonly PairOutcome[]): PairOutcome[] {
  return [...new Map(outcomes.map((o) => [`${o.positive}/${o.hedge}`, o])).values()];
}

/** Nothing ties the two legs together: every combination of what each can have on its own. */
function unproven(why: string, positive: ParsedSelection, hedge: ParsedSelection): Coverage {
  const hedgeResults = resultsAlone(hedge);
  const outcomes = resultsAlone(positive).flatMap((p) => hedgeResults.map((h): PairOutcome => ({ positive: p, hedge: h })));
  return { outcomes, uncoveredReason: why };
}

/** Every (positive, hedge) result over the integer scores of one market. */
function linedOutcomes(positive: Lined, hedge: Lined): PairOutcome[] {
  const scores = scoresAround([positive, hedge]);
  return distinctOutcomes(scores.map((score) => ({ positive: lineResult(positive, score), hedge: lineResult(hedge, score) })));
}

function sameSideOutcomes(positive: Bare, hedge: Bare): PairOutcome[] {
  if (positive.side === hedge.side) return [{ positive: 'won', hedge: 'won' }, { positive: 'lost', hedge: 'lost' }];
  return [{ positive: 'won', hedge: 'lost' }, { positive: 'lost', hedge: 'won' }];
}

/** An outcome that loses a leg while no leg wins, if any. */
function uncoveredOutcome(outcomes: readonly PairOutcome[]): PairOutcome | undefined {
  return outcomes.find((o) => o.positive !== 'won' && o.hedge !== 'won' && (o.positive === 'lost' || o.hedge === 'lost'));
}

export function describeOutcome(outcome: PairOutcome): string {
  return `positive ${outcome.positive}, hedge ${outcome.hedge}`;
}

function sameMarketCoverage(market: string, positive: ParsedSelection, hedge: ParsedSelection): Coverage {
  if (positive.kind === 'unknown') return unproven(positive.why, positive, hedge);
  if (hedge.kind === 'unknown') return unproven(hedge.why, positive, hedge);
  if (THREE_WAY_MARKET_RE.test(market.toLowerCase())) return unproven(`market "${market}" is three-way (a draw neither leg backs)`, positive, hedge);
  if (positive.family !== hedge.family) return unproven(`the selections are of two kinds (${positive.family}, ${hedge.family})`, positive, hedge);
  let outcomes: PairOutcome[];
  if (positive.kind === 'bare' && hedge.kind === 'bare') outcomes = sameSideOutcomes(positive, hedge);
  else if (positive.kind === 'lined' && hedge.kind === 'lined') outcomes = linedOutcomes(positive, hedge);
  else return unproven('one selection has a line and the other does not', positive, hedge);
  const uncovered = uncoveredOutcome(outcomes);
  return { outcomes, uncoveredReason: uncovered === undefined ? null : `${describeOutcome(uncovered)} can happen` };
}

/**
 * The outcomes two legs can have together. Event and market must be equal exactly (a bookmaker
 * settles "EV-1" and "ev-1" as two events); selections are compared case-insensitively.
 */
export function legCoverage(positive: LegMarket, hedge: LegMarket): Coverage {
  const [p, h] = [parseSelection(positive.selection), parseSelection(hedge.selection)];
  if (positive.eventId !== hedge.eventId) return unproven('the legs are on two events', p, h);
  if (positive.market !== hedge.market) return unproven('the legs are on two markets', p, h);
  return sameMarketCoverage(positive.market, p, h);
}

/** Net result of a leg's bets in one result: won → Σ(payout − stake), lost → −Σ stake, void → 0. */
export function legPnlMinor(result: LegResult, bets: readonly PricedStake[]): Minor {
  switch (result) {
    case 'won': return bets.reduce((sum, b) => sum + payoutMinor(b.stakeMinor, b.oddsMilli) - b.stakeMinor, 0);
    case 'lost': return -bets.reduce((sum, b) => sum + b.stakeMinor, 0);
    case 'void': return 0;
  }
}

export interface WorstCase {
  worstCaseMinor: Minor;
  outcome: PairOutcome;
}

/**
 * The lowest P&L over every outcome the coverage admits, and that outcome (the first, on a tie).
 * Hedge bets all back the hedge leg's selection (retries and re-prices included), so they share its result.
 */
export function coveredWorstCase(coverage: Coverage, positiveBets: readonly PricedStake[], hedgeBets: readonly PricedStake[]): WorstCase {
  let worst: WorstCase | null = null;
  for (const outcome of coverage.outcomes) {
    const pnlMinor = legPnlMinor(outcome.positive, positiveBets) + legPnlMinor(outcome.hedge, hedgeBets);
    if (worst === null || pnlMinor < worst.worstCaseMinor) worst = { worstCaseMinor: pnlMinor, outcome };
  }
  invariant(worst !== null, 'a coverage admits at least one outcome');
  return worst;
}

export function coveredWorstCaseMinor(coverage: Coverage, positiveBets: readonly PricedStake[], hedgeBets: readonly PricedStake[]): Minor {
  return coveredWorstCase(coverage, positiveBets, hedgeBets).worstCaseMinor;
}

/** A leg as planned by the scanner: where, what, and at which stake and odds. */
export type PlannedLeg = LegMarket & PricedStake;

/** The planned pair's worst case: the planned stakes and odds over every outcome their legs can have. */
export function plannedWorstCase(pair: { positive: PlannedLeg; hedge: PlannedLeg }): WorstCase {
  const { positive, hedge } = pair;
  return coveredWorstCase(legCoverage(positive, hedge), [positive], [hedge]);
}

export function plannedWorstCaseMinor(pair: { positive: PlannedLeg; hedge: PlannedLeg }): Minor {
  return plannedWorstCase(pair).worstCaseMinor;
}

/**
 * Bookmaker margin the two prices leave, in basis points: 10000 × (1 − 1/p − 1/h), rounded down.
 * A real arb leaves a few percent; one far larger is a scanner bug or a palpable error that a
 * bookmaker voids after the fact, leaving the other leg unhedged.
 */
export function arbMarginBps(positiveOddsMilli: number, hedgeOddsMilli: number): number {
  const p = BigInt(positiveOddsMilli);
  const h = BigInt(hedgeOddsMilli);
  // 1/p + 1/h with odds in thousandths is 1000(p + h)/(p·h); BigInt division truncates towards zero,
  // so a negative margin is adjusted to the floor.
  const numerator = 10_000n * p * h - 10_000_000n * (p + h);
  const denominator = p * h;
  const quotient = numerator / denominator;
  return Number(numerator % denominator < 0n ? quotient - 1n : quotient);
}
