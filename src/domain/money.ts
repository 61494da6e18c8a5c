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

