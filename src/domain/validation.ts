// Job validation: the `bet-pairs` job schema (zod) and its conversion to a validated BetPair.
//
// Every error is collected, each as "<field path> <problem>", with the offending value in
// parentheses beside its limit: `positiveBet.stakeMinor (120000) > stakeMinorMax (100000)`.
// Unknown keys, at the top level and inside a leg, are ignored (dropped), so that the platform can
// add fields to the job without breaking executors that do not know them yet. A leg key that would
// change the bet if it were honoured (LEG_TERMS_NOT_IN_CONTRACT, a leg `currency` other than the
// pair's) is an error instead: dropping it would place a bet other than the one asked for.
//
// The pair must also be an arbitrage (the executor is the last line of defence against a scanner
// bug): both legs on one event and market, on different selections that provably cover every outcome
// (src/domain/arb.ts), on two accounts, with a planned worst case at or above worstCaseMinorMin and a
// margin no larger than arbMarginBpsMax.
import { z } from 'zod';
import { arbMarginBps, describeOutcome, legCoverage, plannedWorstCase } from './arb.js';
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

/**
 * Default floor of a pair's planned worst case: an arb must not lose in any outcome. A scanner that
 * rounds the hedge stake to a whole minor unit loses at most about half the hedge odds plus one unit
 * to rounding, which only pushes a pair below 0 when its margin is smaller than that: a pair with
 * nothing to win, so refusing it costs nothing.
 */
export const WORST_CASE_MINOR_MIN_DEFAULT: Minor = 0;
/** Default ceiling of the margin the two prices leave (20 %): real arbs leave a few percent. */
export const ARB_MARGIN_BPS_MAX_DEFAULT = 2_000;

export interface ValidationLimits {
  /** Largest stake accepted for one leg, in minor units. */
  stakeMinorMax: Minor;
  /** Lowest planned worst case (P&L of the worst outcome) accepted, minor units. Default WORST_CASE_MINOR_MIN_DEFAULT. */
  worstCaseMinorMin?: Minor;
  /** Largest margin 10000 × (1 − 1/p − 1/h) accepted, basis points. Default ARB_MARGIN_BPS_MAX_DEFAULT. */
  arbMarginBpsMax?: number;
}
export const defaultValidationLimits: ValidationLimits = {
  stakeMinorMax: 100_000_00,
  worstCaseMinorMin: WORST_CASE_MINOR_MIN_DEFAULT,
  arbMarginBpsMax: ARB_MARGIN_BPS_MAX_DEFAULT,
};

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
      /** Optional: when the event is expected to end (same forms as createdAt); settlement polls from then. */
      expectedEndAt: createdAtSchema,
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

/**
 * Leg keys the contract does not read but that would change the bet if they were honoured: a lay
 * placed as a back (`side`), a stake or price read in other units or formats (`stake`, `price`,
 * `oddsFormat`), another line (`line`, `handicap`). Dropping one would place a bet other than the one
 * the scanner asked for, so each is refused wherever it appears in a leg, whatever its value.
 */
export const LEG_TERMS_NOT_IN_CONTRACT = ['stake', 'price', 'oddsFormat', 'side', 'line', 'handicap'] as const;
/** Pair keys a leg may repeat, only with the pair's value: a leg in another currency is another bet. */
const PAIR_KEYS_A_LEG_MAY_REPEAT = ['currency', 'arbId', 'betPairId'] as const;
const LEGS = [['positiveBet', 'positive'], ['hedgeBet', 'hedge']] as const;

/** A raw leg's field when it is a string matching `pattern`, else null (the schema reports it). */
function rawField(leg: Record<string, unknown>, key: string, pattern: RegExp): string | null {
  const value = leg[key];
  return typeof value === 'string' && pattern.test(value) ? value : null;
}

/**
 * How bookmakers compare names: ignoring case (the reference simulator settles "Home" as "home";
 * account logins are case-insensitive at most bookmakers). Valid identifiers are ASCII, so
 * toLowerCase is a plain ASCII fold, independent of locale.
 */
export function sameIgnoringCase(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** "{whitelabel}:{provider}:{accountId}" of a raw leg after defaulting, or null if any part is invalid. */
function rawAccountKey(leg: Record<string, unknown>, pair: Record<string, unknown>): string | null {
  const parts = [leg.whitelabel === undefined ? pair.whitelabel : leg.whitelabel,
    leg.provider === undefined ? pair.provider : leg.provider, leg.accountId];
  const valid = parts.every((part) => typeof part === 'string' && IDENTIFIER_RE.test(part));
  return valid ? parts.join(':') : null; // ':' cannot occur inside a valid identifier
}

/** Leg keys that conflict with the pair or would change the bet (see LEG_TERMS_NOT_IN_CONTRACT). */
function legConflictErrors(raw: Record<string, unknown>, legs: Record<'positiveBet' | 'hedgeBet', Record<string, unknown>>): string[] {
  const errors: string[] = [];
  for (const [name] of LEGS) {
    const leg = legs[name];
    for (const key of PAIR_KEYS_A_LEG_MAY_REPEAT) {
      if (key in leg && leg[key] !== raw[key]) {
        errors.push(`${name}.${key} (${show(leg[key])}) is not the pair's ${key} (${show(raw[key])}); a leg may repeat it only unchanged`);
      }
    }
    for (const key of LEG_TERMS_NOT_IN_CONTRACT) {
      if (key in leg) errors.push(`${name}.${key} (${show(leg[key])}) is not in the contract and would change the bet; refused, not ignored`);
    }
  }
  return errors;
}

/** Both legs on one account? Whitelabel, provider and account are compared ignoring case, as a bookmaker does. */
function sameAccountErrors(raw: Record<string, unknown>, legs: Record<'positiveBet' | 'hedgeBet', Record<string, unknown>>): string[] {
  const positiveAccount = rawAccountKey(legs.positiveBet, raw);
  const hedgeAccount = rawAccountKey(legs.hedgeBet, raw);
  if (positiveAccount === null || hedgeAccount === null || !sameIgnoringCase(positiveAccount, hedgeAccount)) return [];
  const shown = show(legs.hedgeBet.accountId);
  return [`hedgeBet.accountId (${shown}) is the positive leg's account (${positiveAccount}), compared ignoring case; the legs must use different accounts`];
}

/**
 * One event and market, two selections that provably cover every outcome. Event and market must be
 * equal exactly: the simulated bookmaker settles "EV-1" and "ev-1" as two events, so only an exact
 * match proves one event. Selections must differ ignoring case, since bookmakers settle "HOME" as "home".
 * Each comparison is the one that refuses when in doubt.
 */
function marketErrors(legs: Record<'positiveBet' | 'hedgeBet', Record<string, unknown>>): string[] {
  const [positive, hedge] = [legs.positiveBet, legs.hedgeBet];
  const errors: string[] = [];
  for (const [key, pattern] of [['eventId', IDENTIFIER_RE], ['market', MARKET_RE]] as const) {
    const [p, h] = [rawField(positive, key, pattern), rawField(hedge, key, pattern)];
    if (p !== null && h !== null && p !== h) {
      errors.push(`hedgeBet.${key} (${show(h)}) is not the positive leg's ${key} (${show(p)}); both legs must be on one event and market (compared exactly)`);
    }
  }
  const [eventId, market] = [rawField(positive, 'eventId', IDENTIFIER_RE), rawField(positive, 'market', MARKET_RE)];
  const [p, h] = [rawField(positive, 'selection', MARKET_RE), rawField(hedge, 'selection', MARKET_RE)];
  if (errors.length > 0 || eventId === null || market === null || p === null || h === null) return errors;
  if (sameIgnoringCase(p, h)) {
    return [`hedgeBet.selection (${show(h)}) is the positive leg's selection (${show(p)}), compared ignoring case; the legs must back different selections`];
  }
  const coverage = legCoverage({ eventId, market, selection: p }, { eventId, market, selection: h });
  if (coverage.uncoveredReason === null) return [];
  return [`hedgeBet.selection (${show(h)}) and the positive leg's (${show(p)}) do not provably cover every outcome of market ${show(market)}: ${coverage.uncoveredReason}`];
}

/**
 * Rules across the two legs. Checked on the raw input, independently of the schema, so that they
 * are reported together with every other error (zod skips object refinements after a field error).
 */
function crossLegErrors(raw: unknown): string[] {
  if (!isRecord(raw) || !isRecord(raw.positiveBet) || !isRecord(raw.hedgeBet)) return [];
  const legs = { positiveBet: raw.positiveBet, hedgeBet: raw.hedgeBet };
  return [...legConflictErrors(raw, legs), ...sameAccountErrors(raw, legs), ...marketErrors(legs)];
}

/** Money rules of a parsed pair: its planned worst case over every outcome its legs can have, and its margin. */
function moneyErrors(pair: BetPair, limits: ValidationLimits): string[] {
  const worstCaseMinorMin = limits.worstCaseMinorMin ?? WORST_CASE_MINOR_MIN_DEFAULT;
  const arbMarginBpsMax = limits.arbMarginBpsMax ?? ARB_MARGIN_BPS_MAX_DEFAULT;
  const errors: string[] = [];
  const worst = plannedWorstCase(pair);
  if (worst.worstCaseMinor < worstCaseMinorMin) {
    errors.push(`worstCaseMinor (${worst.worstCaseMinor}) < worstCaseMinorMin (${worstCaseMinorMin}): the planned pair loses that much when ${describeOutcome(worst.outcome)}`);
  }
  const marginBps = arbMarginBps(pair.positive.oddsMilli, pair.hedge.oddsMilli);
  if (marginBps > arbMarginBpsMax) {
    errors.push(`arbMarginBps (${marginBps}) > arbMarginBpsMax (${arbMarginBpsMax}): prices this far apart are a scanner bug or a palpable error a bookmaker voids later, not an arb`);
  }
  return errors;
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
    ...(job.expectedEndAt === null ? {} : { expectedEndAtMs: job.expectedEndAt }),
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

function assertLimits(limits: ValidationLimits): void {
  const { worstCaseMinorMin, arbMarginBpsMax } = limits;
  invariant(worstCaseMinorMin === undefined || Number.isSafeInteger(worstCaseMinorMin), `worstCaseMinorMin (${worstCaseMinorMin}) is an integer`);
  invariant(
    arbMarginBpsMax === undefined || (Number.isSafeInteger(arbMarginBpsMax) && arbMarginBpsMax >= 0 && arbMarginBpsMax <= 10_000),
    `arbMarginBpsMax (${arbMarginBpsMax}) is an integer in [0, 10000]`,
  );
}

/**
 * Validates raw job data into a BetPair that is an arbitrage, or returns every error found. Never
 * throws on bad input.
 */
export function parseBetPair(raw: unknown, limits: ValidationLimits = defaultValidationLimits): ParseResult {
  assertLimits(limits);
  const parsed = schemaFor(limits).safeParse(raw);
  const errors = parsed.success ? [] : parsed.error.issues.map((issue) => `${formatPath(issue.path)} ${issue.message}`);
  errors.push(...crossLegErrors(raw));
  if (!parsed.success) return { ok: false, errors };
  // The money rules need parsed odds and stakes; they run even when a cross-leg rule failed, so that
  // the rejection shows what the pair would have risked (a same-side pair: both stakes).
  const pair = toBetPair(parsed.data);
  errors.push(...moneyErrors(pair, limits));
  return errors.length > 0 ? { ok: false, errors } : { ok: true, pair };
}
