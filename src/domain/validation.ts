// Job validation: the `bet-pairs` job schema (zod) and its conversion to a validated BetPair.
//
// Every error is collected, each as "<field path> <problem>", with the offending value in
// parentheses beside its limit: `positiveBet.stakeMinor (120000) > stakeMinorMax (100000)`.
// Unknown keys, at the top level and inside a leg, are ignored (dropped), so that the platform can
// add fields to the job without breaking executors that do not know them yet.
import { z } from 'zod';
import { parseOdds } from './money.js';
import { invariant, type BetPair, type LegInput, type Minor } from './types.js';

/**
 * Account, provider, whitelabel and every other id: they become parts of Redis keys
 * (`cooldown:{whitelabel}:{provider}:{accountId}`), so nothing that could forge or collide a key
 * (`:`, `*`, braces, spaces, dots, non-ASCII) is allowed.
 */
export const IDENTIFIER_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** Market and selection names: ids plus `.` and `+` ("over_2.5", "+1.5"), still no `:`, spaces or braces. */
export const MARKET_RE = /^[A-Za-z0-9_.+-]{1,64}$/;
export const CURRENCY_RE = /^[A-Z]{3}$/;
/**
 * createdAt plausibility window, in unix ms: below 1e12 (2001-09-09) is almost surely seconds, at or
 * above 1e14 (year 5138) almost surely microseconds; either would make the staleness check meaningless.
 */
export const CREATED_AT_MS_MIN = 1e12;
export const CREATED_AT_MS_MAX_EXCLUSIVE = 1e14;

export interface ValidationLimits {
  /** Largest stake accepted for one leg, in minor units. */
  stakeMinorMax: Minor;
}
export const defaultValidationLimits: ValidationLimits = { stakeMinorMax: 100_000_00 };

export type ParseResult = { ok: true; pair: BetPair } | { ok: false; errors: string[] };

const SHOWN_CHARS_MAX = 40;

/** A bounded, printable rendering of an input value for an error message. */
function show(value: unknown): string {
  if (typeof value === 'string') {
    if (value.length <= SHOWN_CHARS_MAX) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, SHOWN_CHARS_MAX))}… (${value.length} chars)`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (value === undefined) return 'undefined';
  return Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** zod error option: "is required" when absent, else the value and what was expected. */
function expected(what: string): { error: (issue: { input?: unknown }) => string } {
  return {
    error: (issue) => (issue.input === undefined ? 'is required' : `(${show(issue.input)}) must be ${what}`),
  };
}

function patterned(pattern: RegExp) {
  return z.string(expected('a string')).regex(pattern, {
    error: (issue) => `(${show(issue.input)}) must match ${String(pattern)}`,
  });
}

const identifier = () => patterned(IDENTIFIER_RE);

/** Odds as a JSON number or a decimal string, converted exactly (never through float × 1000). */
const oddsSchema = z
  .union([z.number(), z.string()], expected('decimal odds (a number or a decimal string)'))
  .transform((value, ctx) => {
    // For a number, String() gives the shortest text that reads back as the same double: 2.05 → "2.05".
    const result = parseOdds(typeof value === 'number' ? String(value) : value);
    if (result.ok) return result.oddsMilli;
    ctx.addIssue({ code: 'custom', message: `(${show(value)}) ${result.reason}`, input: value });
    return z.NEVER;
  });

function stakeSchema(stakeMinorMax: Minor) {
  return z.number(expected('an integer number of minor units')).superRefine((stake, ctx) => {
    if (!Number.isSafeInteger(stake) || stake < 1) {
      ctx.addIssue({ code: 'custom', message: `(${show(stake)}) must be a positive integer (minor units)` });
    } else if (stake > stakeMinorMax) {
      ctx.addIssue({ code: 'custom', message: `(${stake}) > stakeMinorMax (${stakeMinorMax})` });
    }
  });
}

// RFC 3339 §5.6, plus what its §5.6 notes allow: a lower-case "t"/"z" and a space in place of the
// "T". Seconds may be omitted (ISO 8601 allows it; accepted before RFC 3339 forms were). Fraction
// digits are not bounded by the RFC; the pattern is anchored and linear, so a long one costs nothing.
const RFC_3339_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
}

/** True when unix ms `ms` is 23:59:59.999 UTC on the last day of a month, where a leap second is inserted. */
function isLastMsOfUtcMonth(ms: number): boolean {
  const next = new Date(ms + 1); // pure arithmetic on the argument, no clock
  return next.getUTCDate() === 1 && next.getUTCHours() === 0 && next.getUTCMinutes() === 0 &&
    next.getUTCSeconds() === 0 && next.getUTCMilliseconds() === 0;
}

/**
 * Strict RFC 3339 date-time with a zone ("2024-05-01T12:00:00Z", "2024-05-01 14:00:00+02:00",
 * "2024-05-01t12:00:00z") → unix ms, or null. Date.parse is not used: it accepts other formats and
 * rolls Feb 30 over into March. Digits past milliseconds are truncated (floor), which is exact enough
 * for an age check. A leap second (:60, only at 23:59 UTC on a month's last day, RFC 3339 §5.7) is
 * read as 23:59:59.999: unix time has no such second.
 */
export function parseIsoTimestampMs(text: string): number | null {
  const m = RFC_3339_RE.exec(text);
  if (m === null) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as
    [number, number, number, number, number];
  const second = Number(m[6] ?? '0');
  const millisecond = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3));
  const offsetHours = Number(m[10] ?? '0');
  const offsetMinutes = Number(m[11] ?? '0');
  const valid =
    month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 &&
    minute <= 59 && second <= 60 && offsetHours <= 23 && offsetMinutes <= 59;
  if (!valid) return null;
  const offsetMs = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  // Date.UTC is pure arithmetic on its arguments (no clock). Years < 100 map to 19xx there, but
  // those lie far below CREATED_AT_MS_MIN and are refused by the caller anyway.
  if (second === 60) {
    const ms = Date.UTC(year, month - 1, day, hour, minute, 59, 999) - offsetMs;
    return isLastMsOfUtcMonth(ms) ? ms : null;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, millisecond) - offsetMs;
}

/** Why a createdAt value (and its ms, or null when unreadable) is refused, or null when it is fine. */
function createdAtProblem(value: string | number, ms: number | null): string | null {
  const shown = `(${show(value)})`;
  if (ms === null) return `${shown} must be an RFC 3339 date-time with a zone (like 2024-05-01T12:00:00Z)`;
  if (!Number.isSafeInteger(ms)) return `${shown} must be an integer number of unix ms`;
  if (ms < CREATED_AT_MS_MIN) return `${shown} < createdAtMsMin (${CREATED_AT_MS_MIN}); seconds instead of ms?`;
  if (ms >= CREATED_AT_MS_MAX_EXCLUSIVE) {
    return `${shown} >= createdAtMsMax (${CREATED_AT_MS_MAX_EXCLUSIVE}); microseconds instead of ms?`;
  }
  return null;
}

/** Optional; null is read as absent too, since many JSON writers emit null for a missing value. */
const createdAtSchema = z
  .union([z.string(), z.number(), z.null()], expected('an RFC 3339 date-time string or unix ms'))
  .optional()
  .transform((value, ctx): number | null => {
    if (value === undefined || value === null) return null;
    const ms = typeof value === 'string' ? parseIsoTimestampMs(value) : value;
    const problem = createdAtProblem(value, ms);
    if (problem === null && ms !== null) return ms;
    ctx.addIssue({ code: 'custom', message: problem ?? 'is invalid', input: value });
    return z.NEVER;
  });

function legSchema(limits: ValidationLimits) {
  return z.object(
    {
      betId: identifier(),
      accountId: identifier(),
      provider: identifier().optional(),
      whitelabel: identifier().optional(),
      eventId: identifier(),
      market: patterned(MARKET_RE),
      selection: patterned(MARKET_RE),
      odds: oddsSchema,
      stakeMinor: stakeSchema(limits.stakeMinorMax),
    },
    expected('an object'),
  );
}

/** The job-data schema for given limits. Unknown keys are stripped, not refused (see the header). */
export function betPairSchema(limits: ValidationLimits) {
  invariant(
    Number.isSafeInteger(limits.stakeMinorMax) && limits.stakeMinorMax >= 1,
    `stakeMinorMax (${limits.stakeMinorMax}) is a positive integer`,
  );
  const leg = legSchema(limits);
  return z.object(
    {
      arbId: identifier(),
      betPairId: identifier(),
      whitelabel: identifier(),
      provider: identifier(),
      currency: patterned(CURRENCY_RE),
      createdAt: createdAtSchema,
      positiveBet: leg,
      hedgeBet: leg,
    },
    expected('an object'),
  );
}

type BetPairSchema = ReturnType<typeof betPairSchema>;
type ParsedJob = z.output<BetPairSchema>;
type ParsedLeg = ParsedJob['positiveBet'];

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'job';
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "{whitelabel}:{provider}:{accountId}" of a raw leg after defaulting, or null if any part is invalid. */
function rawAccountKey(leg: Record<string, unknown>, pair: Record<string, unknown>): string | null {
  const parts = [leg.whitelabel === undefined ? pair.whitelabel : leg.whitelabel,
    leg.provider === undefined ? pair.provider : leg.provider, leg.accountId];
  const valid = parts.every((part) => typeof part === 'string' && IDENTIFIER_RE.test(part));
  return valid ? parts.join(':') : null; // ':' cannot occur inside a valid identifier
}

/**
 * Rules across the two legs. Checked on the raw input, independently of the schema, so that they
 * are reported together with every other error (zod skips object refinements after a field error).
 */
function crossLegErrors(raw: unknown): string[] {
  if (!isRecord(raw) || !isRecord(raw.positiveBet) || !isRecord(raw.hedgeBet)) return [];
  const positiveAccount = rawAccountKey(raw.positiveBet, raw);
  const hedgeAccount = rawAccountKey(raw.hedgeBet, raw);
  if (positiveAccount === null || positiveAccount !== hedgeAccount) return [];
  const shown = show(raw.hedgeBet.accountId);
  return [`hedgeBet.accountId (${shown}) is the positive leg's account (${positiveAccount}); the legs must use different accounts`];
}

function toLeg(leg: ParsedLeg, pair: ParsedJob): LegInput {
  return {
    betId: leg.betId,
    accountId: leg.accountId,
    provider: leg.provider ?? pair.provider,
    whitelabel: leg.whitelabel ?? pair.whitelabel,
    eventId: leg.eventId,
    market: leg.market,
    selection: leg.selection,
    oddsMilli: leg.odds,
    stakeMinor: leg.stakeMinor,
  };
}

function toBetPair(job: ParsedJob): BetPair {
  return {
    arbId: job.arbId,
    betPairId: job.betPairId,
    whitelabel: job.whitelabel,
    provider: job.provider,
    currency: job.currency,
    createdAtMs: job.createdAt,
    positive: toLeg(job.positiveBet, job),
    hedge: toLeg(job.hedgeBet, job),
  };
}

// The last schema built, reused while the limits stay the same (zod compiles a schema on first use).
let cachedSchema: { stakeMinorMax: Minor; schema: BetPairSchema } | null = null;

function schemaFor(limits: ValidationLimits): BetPairSchema {
  if (cachedSchema === null || cachedSchema.stakeMinorMax !== limits.stakeMinorMax) {
    cachedSchema = { stakeMinorMax: limits.stakeMinorMax, schema: betPairSchema(limits) };
  }
  return cachedSchema.schema;
}

/** Validates raw job data into a BetPair, or returns every error found. Never throws on bad input. */
export function parseBetPair(raw: unknown, limits: ValidationLimits = defaultValidationLimits): ParseResult {
  const parsed = schemaFor(limits).safeParse(raw);
  const errors = parsed.success ? [] : parsed.error.issues.map((issue) => `${formatPath(issue.path)} ${issue.message}`);
  errors.push(...crossLegErrors(raw));
  if (!parsed.success || errors.length > 0) return { ok: false, errors };
  return { ok: true, pair: toBetPair(parsed.data) };
}
