// Circuit breakers per bookmaker (pure): scopes, what counts as a failure, when a circuit trips, how long it
// stays open, and the state machine itself. The Redis scripts (src/store/lua/circuit_*.lua) apply exactly these
// rules in one atomic step per change; test/store/circuit.test.ts runs both side by side on random sequences.
import { assertNever } from './types.js';
import { IDENTIFIER_RE } from './validation.js';

export type CircuitState = 'closed' | 'open' | 'half_open';
export const circuitStates: readonly CircuitState[] = ['closed', 'open', 'half_open'];
export type CircuitKind = 'provider' | 'account';

/**
 * What a circuit covers: a whole bookmaker, or one of our accounts at it (the bookmaker's account: provider and
 * account id, compared ignoring case as the credentials and the arb checks do; whitelabels share it).
 */
export type CircuitScope =
  | { kind: 'provider'; provider: string }
  | { kind: 'account'; provider: string; accountId: string };

export type ParsedCircuitScope = { ok: true; scope: CircuitScope } | { ok: false; error: string };

export function providerCircuit(provider: string): CircuitScope {
  return { kind: 'provider', provider };
}

export function accountCircuit(provider: string, accountId: string): CircuitScope {
  return { kind: 'account', provider, accountId: accountId.toLowerCase() };
}

/** The one text form of a scope (Redis key suffix, API path segment, events): `provider:P` or `account:P:ACCOUNT`. */
export function formatCircuitScope(scope: CircuitScope): string {
  switch (scope.kind) {
    case 'provider': return `provider:${scope.provider}`;
    case 'account': return `account:${scope.provider}:${scope.accountId.toLowerCase()}`;
    default: return assertNever(scope, 'circuit scope');
  }
}

/** Parses a scope's text form; an empty, partial or malformed scope is an error, never a default. */
export function parseCircuitScope(text: string): ParsedCircuitScope {
  const [kind, ...ids] = text.split(':');
  const bad = ids.find((id) => !IDENTIFIER_RE.test(id));
  if (bad !== undefined) return { ok: false, error: `circuit (${JSON.stringify(text.slice(0, 80))}): ${JSON.stringify(bad.slice(0, 80))} is not an identifier [A-Za-z0-9_-]{1,64}` };
  if (kind === 'provider' && ids.length === 1) return { ok: true, scope: providerCircuit(ids[0] as string) };
  if (kind === 'account' && ids.length === 2) return { ok: true, scope: accountCircuit(ids[0] as string, ids[1] as string) };
  return { ok: false, error: `circuit (${JSON.stringify(text.slice(0, 80))}) must be provider:PROVIDER or account:PROVIDER:ACCOUNT` };
}

/** The scope the CLI's flags name: `--provider P`, or `--provider P --account A`. */
export function circuitScopeFromFlags(flags: { provider?: string; account?: string }): ParsedCircuitScope {
  if (flags.provider === undefined) return { ok: false, error: 'name the bookmaker: --provider P (and --account A for one account\'s circuit)' };
  return parseCircuitScope(flags.account === undefined ? `provider:${flags.provider}` : `account:${flags.provider}:${flags.account}`);
}

// ---- what counts ------------------------------------------------------------------------------

/**
 * Where an outcome counts. Placements and reads (lookups by reference, status checks) have windows of their own:
 * a bookmaker whose placements time out while its reads answer (or the other way round) trips on the one that
 * fails, however many answers the other has.
 */
export type OutcomeClass = 'place' | 'read';

export interface Classified {
  class: OutcomeClass;
  /** The bookmaker's health: null when the answer says nothing about it (an account refused). */
  provider: 'success' | 'failure' | null;
  /** An answer about our account (credentials refused, account limited): it counts toward the account's circuit. */
  accountFailure: boolean;
}

/** A placement's answer as the Provider port gives it (src/providers/provider.ts PlaceOutcome; only what counts here). */
export type PlacementAnswer = { kind: 'accepted' } | { kind: 'pending' } | { kind: 'in_doubt' } | { kind: 'not_sent' } | { kind: 'rejected'; reason: string };
/** A lookup's or status check's answer (the port's LookupOutcome). */
export type ReadAnswer = { kind: 'found' } | { kind: 'not_found' } | { kind: 'unavailable' };

/** Rejection reasons that say the account, not the bet, is refused: the credentials, or a limit on the account. */
export function isAccountFailureReason(reason: string, accountFailureReasons: readonly string[]): boolean {
  if (reason.startsWith('unauthorized')) return true;
  return accountFailureReasons.some((r) => reason === r || reason.startsWith(`${r}:`));
}

/**
 * A placement's answer. Taken, pending, or refused by a business rule (odds moved, stake, market closed): the
 * bookmaker works. Timeout, 5xx, dropped or refused connection, unreadable answer (in doubt, not sent): it does
 * not. 401/403 and the configured account reasons: the account's circuit, not the bookmaker's.
 */
export function classifyPlacement(outcome: PlacementAnswer, accountFailureReasons: readonly string[]): Classified {
  switch (outcome.kind) {
    case 'accepted':
    case 'pending':
      return { class: 'place', provider: 'success', accountFailure: false };
    case 'rejected':
      return isAccountFailureReason(outcome.reason, accountFailureReasons)
        ? { class: 'place', provider: null, accountFailure: true }
        : { class: 'place', provider: 'success', accountFailure: false };
    case 'in_doubt':
    case 'not_sent':
      return { class: 'place', provider: 'failure', accountFailure: false };
    default: return assertNever(outcome, 'placement outcome');
  }
}

/** A lookup or status check: an answer about the bet (found, or an explicit not_found) is a working bookmaker. */
export function classifyRead(outcome: ReadAnswer): Classified {
  switch (outcome.kind) {
    case 'found':
    case 'not_found':
      return { class: 'read', provider: 'success', accountFailure: false };
    case 'unavailable':
      return { class: 'read', provider: 'failure', accountFailure: false };
    default: return assertNever(outcome, 'lookup outcome');
  }
}

// ---- when a circuit trips ---------------------------------------------------------------------

export interface CircuitSettings {
  /** Length of the sliding window the outcomes are counted over. */
  windowMs: number;
  /** Failures / volume of one class in the window at which a bookmaker's circuit opens. */
  failureRatio: number;
  /** Fewer outcomes than this in a class's window never open the circuit (one failure in one call says nothing). */
  minVolume: number;
  /** Account answers (401/403, limits) within the window that open the account's circuit. */
  accountFailuresMin: number;
  /** How long a circuit stays open before a probe may test it; doubled for each open in a row, up to coolOffMsMax. */
  coolOffMs: number;
  coolOffMsMax: number;
}

export interface ClassCounts {
  ok: number;
  fail: number;
}

/** The outcomes counted in a circuit's window (a batch, or the window's sums). */
export interface WindowCounts {
  place: ClassCounts;
  read: ClassCounts;
  /** Account answers only: the account's circuit counts its failures, not its successes. */
  accountFail: number;
}

export function emptyCounts(): WindowCounts {
  return { place: { ok: 0, fail: 0 }, read: { ok: 0, fail: 0 }, accountFail: 0 };
}

export function addCounts(a: WindowCounts, b: WindowCounts): WindowCounts {
  return {
    place: { ok: a.place.ok + b.place.ok, fail: a.place.fail + b.place.fail },
    read: { ok: a.read.ok + b.read.ok, fail: a.read.fail + b.read.fail },
    accountFail: a.accountFail + b.accountFail,
  };
}

export function countsEmpty(c: WindowCounts): boolean {
  return c.place.ok + c.place.fail + c.read.ok + c.read.fail + c.accountFail === 0;
}

/** The figures that opened a circuit (they go with its `circuit_opened` event). */
export interface Trip {
  class: OutcomeClass | 'account';
  failures: number;
  volume: number;
  ratio: number;
}

/**
 * Whether a window's counts open the circuit: a bookmaker's when, in either class, the volume reaches minVolume
 * and failures reach failureRatio of it (placements looked at first); an account's when its failures reach
 * accountFailuresMin. The Lua step computes `fail >= ratio * volume` in the same double arithmetic.
 */
export function tripOf(kind: CircuitKind, counts: WindowCounts, s: CircuitSettings): Trip | null {
  if (kind === 'account') {
    return counts.accountFail >= s.accountFailuresMin ? { class: 'account', failures: counts.accountFail, volume: counts.accountFail, ratio: 1 } : null;
  }
  for (const cls of ['place', 'read'] as const) {
    const { ok, fail } = counts[cls];
    const volume = ok + fail;
    if (volume >= s.minVolume && volume > 0 && fail >= s.failureRatio * volume) return { class: cls, failures: fail, volume, ratio: fail / volume };
  }
  return null;
}

/** Opens in a row beyond this no longer double the cool-off (2^30 × anything is past every max). */
const streakDoublingsMax = 30;

/** How long the `streak`-th open in a row (1, 2, …) stays open: coolOffMs doubled each time, at most coolOffMsMax. */
export function coolOffMsFor(streak: number, s: Pick<CircuitSettings, 'coolOffMs' | 'coolOffMsMax'>): number {
  const doublings = Math.min(Math.max(streak, 1) - 1, streakDoublingsMax);
  return Math.min(s.coolOffMs * 2 ** doublings, s.coolOffMsMax);
}

// ---- the state machine --------------------------------------------------------------------------

/** A circuit as stored (the fields the transitions read and write). */
export interface CircuitRecord {
  state: CircuitState;
  /**
   * Bumped by every transition (gobreaker's generation): a batch of outcomes counted under another generation, or
   * a probe's result granted under one, is dropped rather than applied to a circuit that has moved on.
   */
  generation: number;
  /** Forced open by an operator: never probed, only a forced close closes it. */
  forced: boolean;
  /** Opens in a row (trips and failed probes) since the circuit last stayed closed a whole window, or was forced closed. */
  streak: number;
  /** Open: when a probe may test it (null when forced). */
  openUntilMs: number | null;
  /** When it last closed (null: never opened). */
  closedAtMs: number | null;
  /** Half-open: the probe lock's holder and expiry (another worker may take an expired one). */
  probeToken: string | null;
  probeUntilMs: number | null;
}

export function closedCircuit(): CircuitRecord {
  return { state: 'closed', generation: 0, forced: false, streak: 0, openUntilMs: null, closedAtMs: null, probeToken: null, probeUntilMs: null };
}

export type TransitionReason = 'failure_ratio' | 'account_failures' | 'cool_off_over' | 'probe_succeeded' | 'probe_failed' | 'forced';

export interface Transition {
  from: CircuitState;
  to: CircuitState;
  reason: TransitionReason;
}

export type CircuitInput =
  /** Outcomes counted by a worker; `window` is the window's counts with this batch added (the store keeps the window). */
  | { kind: 'report'; generationSeen: number | null; window: WindowCounts }
  /** A worker asks for the probe lock of a circuit that may be due. */
  | { kind: 'probe_begin'; token: string; lockMs: number }
  /** The probe's result, under the generation its lock was granted in. */
  | { kind: 'probe_end'; token: string; generation: number; ok: boolean }
  | { kind: 'force_open' }
  | { kind: 'force_close' };

export type CircuitReply =
  /** Applied (a report counted, a probe granted or ended, a forced change made). */
  | 'ok'
  /** A report not counted: the circuit is not closed, or moved to another generation since the batch began. */
  | 'dropped'
  /** No probe now: not open, not due yet, forced, or another worker holds a live lock. */
  | 'busy'
  /** A probe result for a lock that is no longer this worker's (expired and retaken, or the circuit moved on). */
  | 'fenced'
  /** Forced into the state it was already forced into (open), or closed already (close): nothing changes state. */
  | 'already';

export interface Step {
  record: CircuitRecord;
  reply: CircuitReply;
  transition: Transition | null;
  /** The figures of a trip (report that opened the circuit). */
  trip: Trip | null;
  /** The window's counts are cleared (every transition starts a fresh window). */
  clearWindow: boolean;
}

function moved(record: CircuitRecord, to: CircuitState, reason: TransitionReason, changes: Partial<CircuitRecord>, trip: Trip | null = null): Step {
  const next: CircuitRecord = { ...record, ...changes, state: to, generation: record.generation + 1 };
  return { record: next, reply: 'ok', transition: { from: record.state, to, reason }, trip, clearWindow: true };
}

function unchanged(record: CircuitRecord, reply: CircuitReply, changes: Partial<CircuitRecord> = {}): Step {
  return { record: { ...record, ...changes }, reply, transition: null, trip: null, clearWindow: false };
}

/** The streak of an open that starts now: reset when the circuit had stayed closed a whole window. */
function streakOfNewOpen(record: CircuitRecord, nowMs: number, s: CircuitSettings): number {
  const calm = record.state === 'closed' && record.closedAtMs !== null && nowMs - record.closedAtMs >= s.windowMs;
  return (calm ? 0 : record.streak) + 1;
}

/**
 * One step of a circuit (by Redis time `nowMs`): closed → open on a trip, open → half-open when a worker takes the
 * probe lock after the cool-off, half-open → closed on a probe that succeeded, → open again on one that failed;
 * an operator forces open (stays open, never probed) or closed. Every transition bumps the generation.
 */
export function stepCircuit(record: CircuitRecord, input: CircuitInput, nowMs: number, s: CircuitSettings, kind: CircuitKind): Step {
  switch (input.kind) {
    case 'report': {
      if (record.state !== 'closed') return unchanged(record, 'dropped');
      if (input.generationSeen !== null && input.generationSeen !== record.generation) return unchanged(record, 'dropped');
      const trip = tripOf(kind, input.window, s);
      if (trip === null) return unchanged(record, 'ok');
      const streak = streakOfNewOpen(record, nowMs, s);
      return moved(record, 'open', kind === 'account' ? 'account_failures' : 'failure_ratio', { streak, openUntilMs: nowMs + coolOffMsFor(streak, s), probeToken: null, probeUntilMs: null }, trip);
    }
    case 'probe_begin': {
      if (record.forced) return unchanged(record, 'busy');
      if (record.state === 'open' && record.openUntilMs !== null && nowMs >= record.openUntilMs) {
        return moved(record, 'half_open', 'cool_off_over', { probeToken: input.token, probeUntilMs: nowMs + input.lockMs });
      }
      // The lock of a worker that died or hung mid-probe has expired: another one takes it (no transition).
      if (record.state === 'half_open' && record.probeUntilMs !== null && nowMs >= record.probeUntilMs) {
        return unchanged(record, 'ok', { probeToken: input.token, probeUntilMs: nowMs + input.lockMs });
      }
      return unchanged(record, 'busy');
    }
    case 'probe_end': {
      if (record.state !== 'half_open' || record.probeToken !== input.token || record.generation !== input.generation) return unchanged(record, 'fenced');
      if (input.ok) return moved(record, 'closed', 'probe_succeeded', { closedAtMs: nowMs, openUntilMs: null, probeToken: null, probeUntilMs: null });
      const streak = record.streak + 1;
      return moved(record, 'open', 'probe_failed', { streak, openUntilMs: nowMs + coolOffMsFor(streak, s), probeToken: null, probeUntilMs: null });
    }
    case 'force_open': {
      if (record.forced) return unchanged(record, 'already');
      return moved(record, 'open', 'forced', { forced: true, openUntilMs: null, probeToken: null, probeUntilMs: null });
    }
    case 'force_close': {
      if (record.state === 'closed' && !record.forced) return unchanged(record, 'already');
      return moved(record, 'closed', 'forced', { forced: false, streak: 0, closedAtMs: nowMs, openUntilMs: null, probeToken: null, probeUntilMs: null });
    }
    default: return assertNever(input, 'circuit input');
  }
}

/** Whether a pair needing this circuit may start: only when it is closed (open and half-open both refuse). */
export function circuitAllowsNewPairs(state: CircuitState): boolean {
  return state === 'closed';
}

/** Numeric form for the state gauge: 0 closed, 1 half-open, 2 open. */
export function circuitStateValue(state: CircuitState): number {
  return state === 'closed' ? 0 : state === 'half_open' ? 1 : 2;
}
