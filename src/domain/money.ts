// Exact odds and money arithmetic: odds parsing/formatting, payouts, hedge stakes, worst-case P&L.
//
// Money is an integer count of minor units; odds are integer thousandths (2.050 → 2050). Products
// are taken in BigInt so that no intermediate value can silently lose precision above 2^53, and
// every division says which way it rounds and why. Inputs that break these rules are bugs of the
// caller (validation has already run), so they fail an invariant rather than return an error.
import { invariant, type Minor, type OddsMilli } from './types.js';

/** Odds are kept in thousandths: at most 3 decimals in the decimal form. */
export const ODDS_DECIMALS_MAX = 3;
const MILLI = 1000n;
/** Decimal odds must be > 1 (1.000 returns only the stake: no bet at all). */
export const ODDS_MILLI_MIN_EXCLUSIVE: OddsMilli = 1000;
/** Decimal odds above 1000 are refused: no real market prices there, and it bounds every product. */
export const ODDS_MILLI_MAX: OddsMilli = 1_000_000;

/** A stake at a price: one bet, or the planned/accepted terms of a leg. */
export interface PricedStake {
  stakeMinor: Minor;
  oddsMilli: OddsMilli;
}

export type OddsParseResult = { ok: true; oddsMilli: OddsMilli } | { ok: false; reason: string };

// Plain decimal only: no sign, no exponent, no spaces, no leading zeros ("02.5"), no bare "2." or ".5".
const DECIMAL_RE = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/**
 * Parses decimal odds text digit by digit into thousandths, never through a float. The reason
 * names the broken rule; the caller puts the field and the value in front of it.
 */
export function parseOdds(text: string): OddsParseResult {
  const match = DECIMAL_RE.exec(text);
  if (match === null) return { ok: false, reason: 'is not a plain decimal number (like 2.05)' };
  const integerDigits = match[1] ?? '';
  const fractionDigits = match[2] ?? '';
  if (fractionDigits.length > ODDS_DECIMALS_MAX) {
    return { ok: false, reason: `has ${fractionDigits.length} decimals > ${ODDS_DECIMALS_MAX} allowed` };
  }
  // More than 4 integer digits is ≥ 10000, above the maximum; checking the length first keeps the
  // Number() conversion below exact for any input length.
  if (integerDigits.length > 4) return { ok: false, reason: `> oddsMax (${formatOddsShort(ODDS_MILLI_MAX)})` };
  const oddsMilli = Number(integerDigits) * 1000 + Number(fractionDigits.padEnd(ODDS_DECIMALS_MAX, '0'));
  if (oddsMilli <= ODDS_MILLI_MIN_EXCLUSIVE) return { ok: false, reason: 'must be > 1' };
  if (oddsMilli > ODDS_MILLI_MAX) return { ok: false, reason: `> oddsMax (${formatOddsShort(ODDS_MILLI_MAX)})` };
  return { ok: true, oddsMilli };
}

/** Odds text → thousandths, or null when the text is not valid odds (syntax or range). */
export function parseOddsMilli(text: string): OddsMilli | null {
  const result = parseOdds(text);
  return result.ok ? result.oddsMilli : null;
}

/** Thousandths → decimal odds with exactly 3 decimals: 2050 → "2.050". */
export function formatOdds(oddsMilli: OddsMilli): string {
  invariant(Number.isSafeInteger(oddsMilli) && oddsMilli >= 0, `oddsMilli (${oddsMilli}) is a non-negative integer`);
  const whole = Math.trunc(oddsMilli / 1000); // exact: a non-negative safe integer, truncation = floor
  return `${whole}.${String(oddsMilli % 1000).padStart(3, '0')}`;
}

/** Thousandths → shortest decimal form, for messages: 1_000_000 → "1000", 2050 → "2.05". */
function formatOddsShort(oddsMilli: OddsMilli): string {
  return formatOdds(oddsMilli).replace(/\.?0+$/, '');
}

// ISO 4217 currencies whose minor unit is not 1/100. Any other currency is shown with 2 decimals.
const MINOR_UNIT_DIGITS: Readonly<Record<string, number>> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, VND: 0,
  VUV: 0, XAF: 0, XOF: 0, XPF: 0, BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
};

/** Minor units → display text: (123456, "EUR") → "1234.56 EUR", (-5, "EUR") → "-0.05 EUR". */
export function formatMinor(minor: Minor, currency: string): string {
  invariant(Number.isSafeInteger(minor), `minor (${minor}) is a safe integer`);
  const digits = MINOR_UNIT_DIGITS[currency] ?? 2;
  const sign = minor < 0 ? '-' : '';
  const magnitude = String(Math.abs(minor));
  if (digits === 0) return `${sign}${magnitude} ${currency}`;
  const padded = magnitude.padStart(digits + 1, '0');
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)} ${currency}`;
}

function assertStake(stakeMinor: Minor, what: string, minimum: number): void {
  invariant(
    Number.isSafeInteger(stakeMinor) && stakeMinor >= minimum,
    `${what} (${stakeMinor}) is an integer >= ${minimum}`,
  );
}

function assertOdds(oddsMilli: OddsMilli, what: string): void {
  invariant(
    Number.isSafeInteger(oddsMilli) && oddsMilli > ODDS_MILLI_MIN_EXCLUSIVE,
    `${what} (${oddsMilli}) is an integer > ${ODDS_MILLI_MIN_EXCLUSIVE}`,
  );
}

function toSafeNumber(value: bigint, what: string): number {
  const result = Number(value);
  invariant(Number.isSafeInteger(result) && BigInt(result) === value, `${what} (${value}) is a safe integer`);
  return result;
}

/**
 * Gross return of a winning bet, stake included: floor(stake × odds / 1000). Floor, so an estimate
 * of what we are paid never rounds up in our favour. A zero stake is allowed (the paid half of a
 * one-unit half_won bet is zero).
 */
export function payoutMinor(stakeMinor: Minor, oddsMilli: OddsMilli): Minor {
  assertStake(stakeMinor, 'stakeMinor', 0);
  assertOdds(oddsMilli, 'oddsMilli');
  // Both operands are non-negative, so BigInt's truncating division is floor.
  return toSafeNumber((BigInt(stakeMinor) * BigInt(oddsMilli)) / MILLI, 'payoutMinor');
}

/** The pair's P&L in each of the two outcomes an arb is built for (one leg wins, the other loses). */
export function arbOutcomesMinor(
  positive: PricedStake,
  hedge: PricedStake,
): { positiveWinsMinor: Minor; hedgeWinsMinor: Minor } {
  const totalStakeMinor = positive.stakeMinor + hedge.stakeMinor;
  return {
    positiveWinsMinor: payoutMinor(positive.stakeMinor, positive.oddsMilli) - totalStakeMinor,
    hedgeWinsMinor: payoutMinor(hedge.stakeMinor, hedge.oddsMilli) - totalStakeMinor,
  };
}

/** The pair's guaranteed P&L: the worse of the two outcomes (negative when the arb loses money). */
export function arbWorstCaseMinor(positive: PricedStake, hedge: PricedStake): Minor {
  const outcomes = arbOutcomesMinor(positive, hedge);
  return Math.min(outcomes.positiveWinsMinor, outcomes.hedgeWinsMinor);
}

export interface HedgeStakeInput {
  positiveStakeMinor: Minor;
  positiveOddsMilli: OddsMilli;
  hedgeOddsMilli: OddsMilli;
}

/**
 * The hedge stake with the best worst-case P&L for the pair.
 *
 * The real-valued equaliser is Sh = Sp·Op/Oh. With integer stakes and floored payouts, the P&L if
 * the positive wins falls by exactly 1 per unit of hedge stake while the P&L if the hedge wins never
 * falls (Oh > 1), so the maximiser is where they cross, which is provably within
 * {floor(Sh), ceil(Sh), ceil(Sh) + 1}; we also try floor(Sh) − 1 as a guard. Ties go to the smaller
 * stake. When Oh is close to 1 the floored hedge P&L is flat over several units and a stake further
 * below could tie; we keep the near-equalising stake on purpose, because real bookmakers pay at least
 * our floored estimate, and a lower stake would give that slack away on the hedge-wins side.
 * A hedge is a real bet, so the stake is at least 1.
 */
export function hedgeStakeFor(input: HedgeStakeInput): Minor {
  assertStake(input.positiveStakeMinor, 'positiveStakeMinor', 1);
  assertOdds(input.positiveOddsMilli, 'positiveOddsMilli');
  assertOdds(input.hedgeOddsMilli, 'hedgeOddsMilli');
  const numerator = BigInt(input.positiveStakeMinor) * BigInt(input.positiveOddsMilli);
  const hedgeOdds = BigInt(input.hedgeOddsMilli);
  const floorStake = numerator / hedgeOdds; // operands positive: truncation = floor
  const ceilStake = floorStake + (numerator % hedgeOdds === 0n ? 0n : 1n);
  const candidates = [floorStake - 1n, floorStake, ceilStake, ceilStake + 1n];
  const positive = { stakeMinor: input.positiveStakeMinor, oddsMilli: input.positiveOddsMilli };
  let bestStake = 0;
  let bestWorstCase = Number.NEGATIVE_INFINITY;
  // Ascending order + strict ">" keeps the smaller stake on a tie.
  for (const candidate of candidates) {
    if (candidate < 1n) continue;
    const stakeMinor = toSafeNumber(candidate, 'hedge stake');
    const worstCase = arbWorstCaseMinor(positive, { stakeMinor, oddsMilli: input.hedgeOddsMilli });
    if (worstCase > bestWorstCase) {
      bestStake = stakeMinor;
      bestWorstCase = worstCase;
    }
  }
  invariant(bestStake >= 1, 'a hedge stake candidate >= 1 exists');
  return bestStake;
}

export interface RebalanceInput {
  /** The positive leg as planned in the job. */
  plannedPositive: PricedStake;
  /** The positive leg as the bookmaker took it (odds moved, or a partial stake). */
  acceptedPositive: PricedStake;
  /** The hedge leg as planned in the job. */
  plannedHedge: PricedStake;
  /** The odds the hedge will now be sent at (the planned odds, or a re-price). */
  hedgeOddsMilli: OddsMilli;
}

export interface HedgePlan {
  stakeMinor: Minor;
  oddsMilli: OddsMilli;
  /** Guaranteed P&L of the accepted positive with this hedge; may be negative. */
  worstCaseMinor: Minor;
  /** Guaranteed P&L the job planned, for comparison and for the audit trail. */
  plannedWorstCaseMinor: Minor;
  /** stakeMinor − plannedHedge.stakeMinor: positive when the hedge must grow (check stake limits). */
  stakeChangeMinor: Minor;
}

/**
 * The hedge to send once the positive is known: re-solved from the positive as accepted and the
 * hedge odds on offer. The caller compares worstCaseMinor to its loss limit and the stake to its
 * stake limit; this function decides nothing.
 */
export function rebalanceHedge(input: RebalanceInput): HedgePlan {
  const stakeMinor = hedgeStakeFor({
    positiveStakeMinor: input.acceptedPositive.stakeMinor,
    positiveOddsMilli: input.acceptedPositive.oddsMilli,
    hedgeOddsMilli: input.hedgeOddsMilli,
  });
  const hedge = { stakeMinor, oddsMilli: input.hedgeOddsMilli };
  return {
    stakeMinor,
    oddsMilli: input.hedgeOddsMilli,
    worstCaseMinor: arbWorstCaseMinor(input.acceptedPositive, hedge),
    plannedWorstCaseMinor: arbWorstCaseMinor(input.plannedPositive, input.plannedHedge),
    stakeChangeMinor: stakeMinor - input.plannedHedge.stakeMinor,
  };
}
