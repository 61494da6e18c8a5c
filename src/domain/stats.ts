// Operations statistics, pure: UTC days, latency buckets and their quantiles, P&L of settled pairs by day and currency.
import type { Minor } from './types.js';

/** Upper bounds (ms) of the bookmaker latency buckets; a last, unbounded bucket follows. */
export const LATENCY_BUCKETS_MS: readonly number[] = [5, 10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

/** The outcomes of a placement call as counted per provider (the Provider port's kinds, plus a thrown error). */
export const PLACE_OUTCOMES = ['accepted', 'pending', 'rejected', 'in_doubt', 'not_sent', 'error'] as const;
export type PlaceOutcomeName = (typeof PLACE_OUTCOMES)[number];

const dayMs = 86_400_000;
/** Most days one statistics question may span. */
export const STATS_DAYS_MAX = 366;

/** The UTC day (YYYY-MM-DD) of a unix-ms instant. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Parses YYYY-MM-DD (a real calendar day) to its first unix ms, or null. */
export function parseUtcDay(text: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return null;
  const ms = Date.parse(`${text}T00:00:00Z`);
  return Number.isNaN(ms) || utcDay(ms) !== text ? null : ms;
}

/** Every UTC day from `from` to `to`, both included, oldest first; null when the range is reversed or too long. */
export function utcDays(fromMs: number, toMs: number, daysMax = STATS_DAYS_MAX): string[] | null {
  const first = Math.floor(fromMs / dayMs);
  const last = Math.floor(toMs / dayMs);
  if (last < first || last - first + 1 > daysMax) return null;
  const days: string[] = [];
  for (let d = first; d <= last; d++) days.push(utcDay(d * dayMs));
  return days;
}

/** Index of the bucket a latency falls in (the last index is the unbounded bucket). */
export function latencyBucket(latencyMs: number): number {
  const i = LATENCY_BUCKETS_MS.findIndex((upperMs) => latencyMs <= upperMs);
  return i === -1 ? LATENCY_BUCKETS_MS.length : i;
}

/**
 * The q-quantile of a bucketed latency, as the upper bound of the bucket it falls in (an upper estimate:
 * a p99 of "250" means 99 % of calls took at most 250 ms). null: no calls, or it falls in the unbounded bucket.
 */
export function bucketQuantileMs(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i] ?? 0;
    if (seen >= rank) return LATENCY_BUCKETS_MS[i] ?? null;
  }
  return null;
}

/** What one pair's result adds to a P&L day: its P&L (or an unknown), and whether it was an exposure. */
export interface PnlResult {
  /** null: a result is unknown (a timeout); counted apart, never as 0. */
  pnlMinor: Minor | null;
  exposure: boolean;
}

/**
 * One settled pair as the P&L projection counts it: from an `arb_settled` entry, or from an `arb_resettled`
 * one (then `previous` is the result it replaces: the correction, new result minus old, is booked on the day
 * the re-settlement was recorded, as an accountant posts a correction, and the pair is not counted again).
 */
export interface SettledPairFact extends PnlResult {
  day: string;
  currency: string;
  previous?: PnlResult;
}

function pnlResultOf(data: Record<string, unknown>): PnlResult | null {
  const pnl = data.pnlMinor;
  const pnlMinor = typeof pnl === 'number' && Number.isSafeInteger(pnl) ? pnl : null;
  if (pnl !== null && pnl !== undefined && pnlMinor === null) return null;
  return { pnlMinor, exposure: typeof data.exposureReason === 'string' };
}

/** The `arb_settled` / `arb_resettled` data as a P&L fact, or null when it does not carry one (never guessed). */
export function settledPairFact(data: Record<string, unknown>, atMs: number, resettled = false): SettledPairFact | null {
  const currency = data.currency;
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) return null;
  const result = pnlResultOf(data);
  if (result === null) return null;
  if (!resettled) return { day: utcDay(atMs), currency, ...result };
  const before = data.previous;
  const previous = typeof before === 'object' && before !== null ? pnlResultOf(before as Record<string, unknown>) : null;
  return previous === null ? null : { day: utcDay(atMs), currency, ...result, previous };
}

/** Hash increments (field → amount) of the day hashes a batch of facts touches: day → field → increment. */
export function pnlIncrements(facts: readonly SettledPairFact[]): Map<string, Map<string, number>> {
  const byDay = new Map<string, Map<string, number>>();
  const add = (day: string, field: string, n: number) => {
    const fields = byDay.get(day) ?? new Map<string, number>();
    fields.set(field, (fields.get(field) ?? 0) + n);
    byDay.set(day, fields);
  };
  const count = (f: SettledPairFact, result: PnlResult, sign: 1 | -1) => {
    if (result.pnlMinor === null) add(f.day, `${f.currency}:pnl_unknown`, sign);
    else add(f.day, `${f.currency}:pnl_minor`, sign * result.pnlMinor);
    if (result.exposure) add(f.day, `${f.currency}:exposures`, sign);
  };
  for (const f of facts) {
    if (f.previous) {
      add(f.day, `${f.currency}:corrections`, 1);
      count(f, f.previous, -1);
    } else {
      add(f.day, `${f.currency}:pairs`, 1);
    }
    count(f, f, 1);
  }
  // A correction that changes nothing nets to 0: those fields are dropped (HINCRBY by 0 is noise).
  for (const fields of byDay.values()) for (const [field, n] of fields) if (n === 0) fields.delete(field);
  return byDay;
}
