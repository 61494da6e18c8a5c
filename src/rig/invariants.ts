// The safety checks (the chaos invariants; the demo and the tests run the bookmaker-side ones), checked from a snapshot alone (pure): the simulators' logs and bet states first, the executor's records second.
import { reconcile, type SettlementOutcome } from '../domain/settlement.js';
import { isFinalBetStatus } from '../domain/types.js';
import type { SimLogEntry } from '../sim/bookmaker.js';
import type { BookSnapshot, ChaosSnapshot, JournalPlacement, PairPlan, StreamRow } from './snapshot.js';

export interface InvariantResult {
  id: number;
  name: string;
  /** How many things the check looked at (bets, requests, arbs, ...). */
  checked: number;
  violations: number;
  /** At most examplesMax human-readable violations. */
  examples: string[];
}

export const examplesMax = 5;

export type LegLetter = 'p' | 'h';

export interface RefParts {
  arbId: string;
  leg: LegLetter;
  attempt: number;
}

// `be1.{arbId}.{p|h}{n}`: ours (src/domain/pair.ts clientRefFor) and the naive bench executor alike.
const refPattern = /^be1\.([^.]+)\.([ph])([1-9][0-9]*)$/;

/** The arb, leg and attempt a client reference belongs to, or null when it is not of the `be1` scheme. */
export function legOf(clientRef: string): RefParts | null {
  const m = refPattern.exec(clientRef);
  if (m === null) return null;
  return { arbId: m[1] as string, leg: m[2] as LegLetter, attempt: Number(m[3]) };
}

/** One distinct bet a simulator holds, joined with the log entry that committed it. */
export interface BetFact {
  book: string;
  ticketId: string;
  clientRef: string;
  accountId: string;
  ref: RefParts | null;
  committedAtMs: number;
  committedSeq: number;
  /** Decision of the committing request: `timeout_after_commit` means its answer was lost. */
  committedDecision: SimLogEntry['decision'];
  requestedStakeMinor: number;
  stakeMinor: number;
  /** The bookmaker's final view: accepted, rejected, pending or a settled status. */
  status: string;
  accepted: boolean;
  /** When it got its (latest) final result at the bookmaker; absent while unsettled. */
  settledAtMs?: number;
}

const placingStates = new Set(['received', 'positive_placing', 'hedge_placing']);
const placementExposureReasons = new Set(['hedge_failed_positive_active', 'hedge_in_doubt', 'positive_in_doubt']);

class Tally {
  checked = 0;
  violations = 0;
  readonly examples: string[] = [];

  /** Counts `count` violations (default 1) described by one example. */
  violate(example: string, count = 1): void {
    if (count <= 0) return;
    this.violations += count;
    if (this.examples.length < examplesMax) this.examples.push(example);
  }

  result(id: number, name: string): InvariantResult {
    return { id, name, checked: this.checked, violations: this.violations, examples: this.examples };
  }
}

function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/** A committing request whose answer never reached the executor: it can only learn of the bet by a lookup. */
function answerLost(decision: SimLogEntry['decision']): boolean {
  return decision === 'timeout_after_commit' || decision === 'commit_late';
}

function isAcceptedStatus(status: string): boolean {
  return status === 'accepted' || isFinalBetStatus(status);
}

/**
 * Every bet the simulators hold, from their logs (the first entry naming a ticket committed it) and
 * their final bet states, in commit order across books.
 */
export function betFacts(s: Pick<ChaosSnapshot, 'books'>): BetFact[] {
  const facts: BetFact[] = [];
  for (const book of s.books) {
    const finals = new Map(book.bets.map((b) => [b.ticketId, b]));
    const seen = new Set<string>();
    for (const entry of book.log) {
      if (entry.ticketId === undefined || seen.has(entry.ticketId)) continue;
      seen.add(entry.ticketId);
      const final = finals.get(entry.ticketId);
      const loggedStatus = answerLost(entry.decision) ? 'accepted' : entry.decision;
      const status = final?.status ?? loggedStatus;
      facts.push({
        book: book.name, ticketId: entry.ticketId, clientRef: entry.clientRef, accountId: entry.accountId, ref: legOf(entry.clientRef),
        // A late commit is logged when its request arrives and committed later.
        committedAtMs: final?.committedAtMs ?? entry.atMs, committedSeq: entry.seq, committedDecision: entry.decision,
        requestedStakeMinor: entry.stakeMinor, stakeMinor: final?.stakeMinor ?? entry.acceptedStakeMinor ?? 0,
        status, accepted: isAcceptedStatus(status),
        ...(final?.settledAtMs !== undefined ? { settledAtMs: final.settledAtMs } : {}),
      });
    }
  }
  return facts.sort((a, b) => a.committedAtMs - b.committedAtMs || a.book.localeCompare(b.book) || a.committedSeq - b.committedSeq);
}

/** Accepted bets of one leg by arbId, in commit order. */
function acceptedLegs(bets: readonly BetFact[], leg: LegLetter): Map<string, BetFact[]> {
  return groupBy(bets.filter((b) => b.accepted && b.ref?.leg === leg), (b) => (b.ref as RefParts).arbId);
}

function plansByArb(s: ChaosSnapshot): Map<string, PairPlan> {
  return new Map(s.plans.filter((p) => !p.invalid).map((p) => [p.arbId, p]));
}

/** The arb a review entry is about: its record's arb_id (open entries), or its resolution's record (resolved ones). */
function reviewArbOf(entry: Record<string, unknown>): string | null {
  if (typeof entry.arb_id === 'string') return entry.arb_id;
  const record = entry.record;
  if (typeof record !== 'object' || record === null) return null;
  const arbId = (record as Record<string, unknown>).arb_id;
  return typeof arbId === 'string' ? arbId : null;
}

/** Review entries (open and resolved) by the arb they name, as JSON text, for "does it name this bet". */
function reviewTextByArb(s: ChaosSnapshot): Map<string, string> {
  const texts = new Map<string, string>();
  for (const entry of [...Object.values(s.reviewOpen), ...Object.values(s.reviewResolved)]) {
    const arbId = reviewArbOf(entry);
    if (arbId !== null) texts.set(arbId, `${texts.get(arbId) ?? ''}${JSON.stringify(entry)}`);
  }
  return texts;
}

/**
 * Arbs with an exposure: `all` = an exposure record, a review entry (open or resolved) or an exposure alert
 * naming the arb; `review` = a review entry only. Matched by arb, never by betPairId: arbs may share one.
 */
function exposedArbs(s: ChaosSnapshot, records: 'all' | 'review'): Set<string> {
  const arbs = new Set(reviewTextByArb(s).keys());
  if (records === 'review') return arbs;
  for (const record of Object.values(s.exposureKeys)) if (typeof record.arb_id === 'string') arbs.add(record.arb_id);
  for (const e of s.events) if (e.type === 'exposure_alert' && typeof e.data.arbId === 'string') arbs.add(e.data.arbId);
  return arbs;
}

function betName(b: BetFact): string {
  return `${b.clientRef} (${b.book} ${b.ticketId}, ${b.stakeMinor}/${b.requestedStakeMinor} taken, ${b.status})`;
}

/** 1. At most one accepted bet per client reference, and a fully taken leg is never placed again under another reference. */
export function checkNoDoublePlacement(bets: readonly BetFact[]): InvariantResult {
  const t = new Tally();
  const accepted = bets.filter((b) => b.accepted);
  t.checked = accepted.length;
  // Each offending bet is counted once, whichever rule finds it first.
  const doubled = new Map<string, string>();
  const keyOf = (b: BetFact) => `${b.book}/${b.ticketId}`;
  for (const group of groupBy(accepted, (b) => `${b.book}|${b.clientRef}`).values()) {
    for (const extra of group.slice(1)) {
      doubled.set(keyOf(extra), `${extra.book}: ${extra.clientRef} accepted ${group.length} times (tickets ${group.map((b) => b.ticketId).join(', ')})`);
    }
  }
  const legs = groupBy(accepted.filter((b) => b.ref !== null), (b) => `${b.ref?.arbId}|${b.ref?.leg}`);
  for (const group of legs.values()) {
    // A partial acceptance topped up by a later attempt is legitimate; anything after a full one is not.
    const fullAt = group.findIndex((b) => b.stakeMinor >= b.requestedStakeMinor);
    if (fullAt < 0) continue;
    const full = group[fullAt] as BetFact;
    for (const later of group.slice(fullAt + 1)) {
      if (doubled.has(keyOf(later))) continue;
      const leg = later.ref?.leg === 'p' ? 'positive' : 'hedge';
      doubled.set(keyOf(later), `${later.ref?.arbId}: ${leg} placed again as ${betName(later)} after ${betName(full)} was fully accepted`);
    }
  }
  for (const why of doubled.values()) t.violate(why);
  return t.result(1, 'one accepted bet per client ref and per leg');
}

/** 2. Every hedge request reached its bookmaker after the arb's positive was accepted. */
export function checkHedgeAfterPositive(s: Pick<ChaosSnapshot, 'books'>, bets: readonly BetFact[]): InvariantResult {
  const t = new Tally();
  const positives = acceptedLegs(bets, 'p');
  for (const book of s.books) {
    for (const entry of book.log) {
      const ref = legOf(entry.clientRef);
      if (ref?.leg !== 'h') continue;
      t.checked += 1;
      const accepted = positives.get(ref.arbId) ?? [];
      if (accepted.some((p) => p.committedAtMs <= entry.atMs)) continue;
      const first = accepted[0];
      const positive = first ? `its positive ${betName(first)} was taken only at ${first.committedAtMs} ms` : 'no positive of the arb was accepted';
      t.violate(`${book.name}: hedge request ${entry.clientRef} at ${entry.atMs} ms, but ${positive}`);
    }
  }
  return t.result(2, 'no hedge before its positive was accepted');
}

function voidedInTime(bet: BetFact, deadlineMs: number): boolean {
  return bet.status === 'void' && bet.settledAtMs !== undefined && bet.settledAtMs - bet.committedAtMs <= deadlineMs;
}

/**
 * 3. Every accepted positive has an accepted hedge within the deadline, or an exposure record or alert; a
 * positive voided by its bookmaker within that deadline needs neither.
 */
export function checkHedgedOrAlerted(s: ChaosSnapshot, bets: readonly BetFact[]): InvariantResult {
  const t = new Tally();
  const exposed = exposedArbs(s, 'all');
  const hedges = acceptedLegs(bets, 'h');
  for (const [arbId, positives] of acceptedLegs(bets, 'p')) {
    t.checked += 1;
    const positive = positives[0] as BetFact;
    const hedge = hedges.get(arbId)?.[0];
    if (exposed.has(arbId)) continue;
    // A positive the bookmaker voided before a hedge was due stakes nothing: it is not hedged (#10), nor alerted.
    if (hedge === undefined && positives.every((p) => voidedInTime(p, s.hedgeOrAlertDeadlineMs))) continue;
    if (hedge === undefined) {
      t.violate(`${arbId}: positive ${betName(positive)} accepted, no accepted hedge and no exposure record or alert`);
      continue;
    }
    const lagMs = hedge.committedAtMs - positive.committedAtMs;
    if (lagMs > s.hedgeOrAlertDeadlineMs) {
      t.violate(`${arbId}: hedge ${betName(hedge)} taken ${lagMs} ms after the positive > hedgeOrAlertDeadlineMs (${s.hedgeOrAlertDeadlineMs}), no exposure`);
    }
  }
  return t.result(3, 'accepted positive hedged in time or alerted');
}

/** One moment a bookmaker saw an account bet on: a request arriving, or a bet taken later than its request. */
interface AccountMoment {
  atMs: number;
  clientRef: string;
  accountId: string;
  what: 'sent' | 'taken';
}

/**
 * Each new request at its arrival (a repeat of a known ref is not a new bet), and each bet again when the
 * bookmaker took it later than that (pending first, committed late), in time order.
 */
function accountMoments(book: BookSnapshot): AccountMoment[] {
  const moments: AccountMoment[] = book.log
    .filter((e) => e.decision !== 'duplicate')
    .map((e) => ({ atMs: e.atMs, clientRef: e.clientRef, accountId: e.accountId, what: 'sent' as const }));
  // The first entry naming a ticket is the request that committed it.
  const arrivals = new Map<string, number>();
  for (const e of book.log) if (e.ticketId !== undefined && !arrivals.has(e.ticketId)) arrivals.set(e.ticketId, e.atMs);
  for (const bet of book.bets) {
    const sentAtMs = arrivals.get(bet.ticketId);
    if (bet.acceptedAtMs === undefined || (sentAtMs !== undefined && bet.acceptedAtMs <= sentAtMs)) continue;
    moments.push({ atMs: bet.acceptedAtMs, clientRef: bet.clientRef, accountId: bet.accountId, what: 'taken' });
  }
  return moments.sort((a, b) => a.atMs - b.atMs);
}

/**
 * 4. No placement on an account inside another arb's cooldown, by the bookmakers' times: when a request arrived
 * and when the bet was taken (acceptedAtMs), so a pending bet or a late commit counts when it became a bet.
 */
export function checkCooldown(s: Pick<ChaosSnapshot, 'cooldownMs' | 'cooldownToleranceMs' | 'books'>): InvariantResult {
  const t = new Tally();
  const gapMsMin = s.cooldownMs - s.cooldownToleranceMs;
  const arbOf = (m: AccountMoment) => legOf(m.clientRef)?.arbId ?? m.clientRef;
  for (const book of s.books) {
    for (const [accountId, moments] of groupBy(accountMoments(book), (m) => m.accountId)) {
      t.checked += moments.filter((m) => m.what === 'sent').length;
      for (let i = 1; i < moments.length; i++) {
        const before = moments[i - 1] as AccountMoment;
        const moment = moments[i] as AccountMoment;
        if (arbOf(before) === arbOf(moment)) continue;
        const gapMs = moment.atMs - before.atMs;
        if (gapMs >= gapMsMin) continue;
        t.violate(`${book.name}/${accountId}: ${moment.clientRef} ${moment.what} at ${moment.atMs} ms, ${gapMs} ms after ${before.clientRef} ${before.what} < cooldownMs (${s.cooldownMs}) - tolerance (${s.cooldownToleranceMs})`);
      }
    }
  }
  return t.result(4, 'no placement inside an account cooldown');
}

/** 5. Every request a simulator received has its own `bookmaker_request` audit row (matched one to one by client ref). */
export function checkAudited(s: ChaosSnapshot): InvariantResult {
  const t = new Tally();
  const rowsLeft = new Map<string, number>();
  for (const row of s.audit) {
    const ref = row.data.clientRef;
    if (row.type === 'bookmaker_request' && typeof ref === 'string') rowsLeft.set(ref, (rowsLeft.get(ref) ?? 0) + 1);
  }
  for (const book of s.books) {
    for (const entry of book.log) {
      t.checked += 1;
      const left = rowsLeft.get(entry.clientRef) ?? 0;
      if (left > 0) {
        rowsLeft.set(entry.clientRef, left - 1);
        continue;
      }
      t.violate(`${book.name}: request #${entry.seq} ${entry.clientRef} at ${entry.atMs} ms (${entry.decision}) has no bookmaker_request audit row`);
    }
  }
  return t.result(5, 'every placement in the audit stream');
}

/** Why a valid pair's journal state is not an end state, or null when it is one. */
function unfinishedState(state: string | undefined, settlementExpected: boolean): string | null {
  if (state === undefined) return 'no journal: the pair is lost';
  if (placingStates.has(state)) return `stuck in ${state}`;
  // Flagged pairs (hedge_failed / hedge_in_doubt) may still be settling; both ends are accepted.
  if (state === 'hedged' && settlementExpected) return 'executed but never settled';
  return null;
}

/** 6. Every enqueued pair reached an end state and no job is left active, waiting, failed (or delayed, when settling). */
export function checkTerminal(s: ChaosSnapshot): InvariantResult {
  const t = new Tally();
  const settlementExpected = s.settlementExpected ?? s.executor === 'ours';
  const refused = new Set(s.events.filter((e) => e.type === 'arb_rejected' && typeof e.data.arbId === 'string').map((e) => e.data.arbId as string));
  for (const plan of s.plans.filter((p) => !p.invalid)) {
    t.checked += 1;
    const state = s.journalStates[plan.arbId];
    // A createdAt far ahead may be refused at intake rather than blocked: both are ends.
    if (state === undefined && plan.refusable === true && refused.has(plan.arbId)) continue;
    const why = unfinishedState(state, settlementExpected);
    if (why !== null) t.violate(`${plan.arbId}: ${why}`);
  }
  const invalidDeliveries = s.plans.filter((p) => p.invalid).reduce((sum, p) => sum + p.deliveries, 0);
  t.checked += invalidDeliveries;
  // An invalid job's arbId is echoed only when it is itself a safe identifier; otherwise it is null.
  const invalidArbIds = new Set(s.plans.filter((p) => p.invalid).map((p) => p.arbId));
  const rejected = s.events.filter((e) => e.type === 'arb_rejected' && (e.data.arbId === null || invalidArbIds.has(String(e.data.arbId)))).length;
  t.violate(`invalid deliveries: ${invalidDeliveries}, but arb_rejected events for them: ${rejected}`, invalidDeliveries - rejected);
  const stuckStates = settlementExpected ? ['active', 'waiting', 'prioritized', 'delayed', 'failed'] : ['active', 'waiting', 'prioritized', 'failed'];
  for (const [queue, counts] of Object.entries(s.queueCounts)) {
    t.checked += 1;
    for (const state of stuckStates) {
      const count = counts[state] ?? 0;
      t.violate(`queue ${queue}: ${count} job(s) ${state} at the end`, count);
    }
  }
  return t.result(6, 'every pair and job reached an end state');
}

/** 7. Nothing left in doubt without a review entry: journal in-doubt states, and every bet whose answer was lost. */
export function checkInDoubtReviewed(s: ChaosSnapshot, bets: readonly BetFact[]): InvariantResult {
  const t = new Tally();
  const review = exposedArbs(s, 'review');
  for (const [arbId, state] of Object.entries(s.journalStates)) {
    if (state !== 'positive_in_doubt' && state !== 'hedge_in_doubt') continue;
    t.checked += 1;
    if (!review.has(arbId)) t.violate(`${arbId}: journal ${state} without a review entry`);
  }
  // The executor learned of a bet when it announced it accepted: bet_accepted is written in the same
  // atomic step as the journal transition that records the leg accepted.
  const learned = new Set(s.events.filter((e) => e.type === 'bet_accepted' && typeof e.data.clientRef === 'string').map((e) => e.data.clientRef as string));
  // A void bet returns its stake: nothing is at risk if nobody learns of it (a hedge sent beside it is #10's).
  for (const bet of bets.filter((b) => answerLost(b.committedDecision) && b.accepted && b.status !== 'void')) {
    t.checked += 1;
    const arbId = bet.ref?.arbId ?? bet.clientRef;
    if (learned.has(bet.clientRef) || review.has(arbId)) continue;
    t.violate(`${arbId}: ${betName(bet)} taken but its answer was lost; never announced accepted and no review entry (journal: ${s.journalStates[arbId] ?? 'none'})`);
  }
  return t.result(7, 'nothing in doubt without a review flag');
}

/**
 * The event a re-reconciliation writes (issue 7, re-settlement: a bet's result changed after the pair was
 * reconciled). ASSUMED name, with arb_settled's fields (positiveStatus, hedgeStatus, actualOutcome,
 * exposureReason); change it here if the executor names it otherwise.
 */
export const reReconciliationEvent = 'arb_resettled';

/** The classification a settled arb should carry, from the simulators' final statuses (placement exposures keep their reason). */
function expectedSettlement(positive: BetFact, hedge: BetFact, settled: Record<string, unknown>, alerts: Set<string>): { actualOutcome: string; exposureReason: string | null } {
  const placement = settled.placement;
  if ((placement === 'hedge_failed' || placement === 'hedge_in_doubt') && typeof settled.exposureReason === 'string' && alerts.has(settled.exposureReason)) {
    // A pair flagged at placement keeps its placement exposure; settlement only adds the positive's result.
    return { actualOutcome: `${positive.status}_${placement === 'hedge_failed' ? 'failed' : 'in_doubt'}`, exposureReason: settled.exposureReason };
  }
  if (placement === 'positive_in_doubt' && typeof settled.exposureReason === 'string' && alerts.has(settled.exposureReason)) {
    // The executor never learned the positive (its review flag says so): only the hedge is settled by it.
    return { actualOutcome: `in_doubt_${hedge.status}`, exposureReason: settled.exposureReason };
  }
  const verdict = reconcile({ positiveStatus: positive.status as SettlementOutcome, hedgeStatus: hedge.status as SettlementOutcome });
  return { actualOutcome: verdict.actualOutcome, exposureReason: verdict.exposure ? verdict.reason : null };
}

function rowsByArb(s: ChaosSnapshot, type: string): Map<string, StreamRow[]> {
  return groupBy(s.events.filter((e) => e.type === type && typeof e.data.arbId === 'string'), (e) => e.data.arbId as string);
}

/** The arb's latest reconciliation, first or re-reconciliation (the events stream is in order). */
function lastReconciliation(first: StreamRow[], again: StreamRow[]): StreamRow | undefined {
  const last = [first.at(-1), again.at(-1)].filter((r): r is StreamRow => r !== undefined);
  return last.sort((a, b) => compareStreamIds(a.id, b.id)).at(-1);
}

/** When the executor last re-checked each bet (bookmaker_status audit rows of its re-check jobs, Redis time). */
function lastRecheckMs(s: ChaosSnapshot): Map<string, number> {
  const last = new Map<string, number>();
  for (const a of s.audit) {
    if (a.type !== 'bookmaker_status' || a.data.recheck !== true || typeof a.data.clientRef !== 'string') continue;
    last.set(a.data.clientRef, Math.max(last.get(a.data.clientRef) ?? 0, Number(a.id.split('-')[0])));
  }
  return last;
}

/** Orders Redis stream ids ("ms-seq") numerically. */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

/**
 * 8. Every arb whose two legs are final at the simulators is reconciled exactly once (one arb_settled), and
 * its latest reconciliation (arb_settled or a re-reconciliation after a re-settled result) classifies it
 * as the simulators' final statuses say.
 */
export function checkReconciled(s: ChaosSnapshot, bets: readonly BetFact[]): InvariantResult {
  const t = new Tally();
  const settledRows = rowsByArb(s, 'arb_settled');
  const againRows = rowsByArb(s, reReconciliationEvent);
  const alertsByArb = new Map<string, Set<string>>();
  for (const e of s.events) {
    if (e.type !== 'exposure_alert' || typeof e.data.arbId !== 'string' || !placementExposureReasons.has(String(e.data.exposure_reason))) continue;
    alertsByArb.set(e.data.arbId, (alertsByArb.get(e.data.arbId) ?? new Set()).add(String(e.data.exposure_reason)));
  }
  const hedges = acceptedLegs(bets, 'h');
  const lastRecheck = lastRecheckMs(s);
  const inScope = new Set<string>();
  const twice = (arbId: string, rows: StreamRow[]) => t.violate(`${arbId}: reconciled ${rows.length} times (arb_settled ${rows.map((r) => r.id).join(', ')})`);
  for (const [arbId, positives] of acceptedLegs(bets, 'p')) {
    const positive = positives[0] as BetFact;
    const hedge = hedges.get(arbId)?.[0];
    if (hedge === undefined || !isFinalBetStatus(positive.status) || !isFinalBetStatus(hedge.status)) continue;
    // A result changed at the bookmaker after the executor's one re-check of that bet is, by design, not
    // seen (README: Re-settlement): the latest reconciliation cannot be held to it.
    if ([positive, hedge].some((b) => b.settledAtMs !== undefined && (lastRecheck.get(b.clientRef) ?? Infinity) < b.settledAtMs)) continue;
    inScope.add(arbId);
    t.checked += 1;
    const rows = settledRows.get(arbId) ?? [];
    if (rows.length === 0) {
      t.violate(`${arbId}: ${positive.status}/${hedge.status} at the bookmakers, never reconciled (no arb_settled)`);
      continue;
    }
    if (rows.length > 1) {
      twice(arbId, rows);
      continue;
    }
    const again = againRows.get(arbId) ?? [];
    const row = lastReconciliation(rows, again) as StreamRow;
    const want = expectedSettlement(positive, hedge, row.data, alertsByArb.get(arbId) ?? new Set());
    const got = { actualOutcome: row.data.actualOutcome, exposureReason: row.data.exposureReason ?? null };
    if (got.actualOutcome !== want.actualOutcome || got.exposureReason !== want.exposureReason) {
      const which = again.length > 0 ? `its last re-reconciliation (${reReconciliationEvent} ${row.id})` : 'arb_settled';
      t.violate(`${arbId}: ${which} says ${String(got.actualOutcome)} / ${String(got.exposureReason)}, the bookmakers' final ${positive.status}/${hedge.status} give ${want.actualOutcome} / ${String(want.exposureReason)}`);
    }
  }
  for (const [arbId, rows] of settledRows) if (!inScope.has(arbId) && rows.length > 1) twice(arbId, rows);
  for (const [arbId, rows] of againRows) {
    if (!settledRows.has(arbId)) t.violate(`${arbId}: re-reconciled (${reReconciliationEvent} ${rows[0]?.id}) but never reconciled first`);
  }
  return t.result(8, 'every settled pair reconciled once, rightly');
}

/** Where the journal records a client reference, if anywhere. */
function journalPlacementOf(s: ChaosSnapshot, arbId: string, clientRef: string): JournalPlacement | undefined {
  const doc = s.journalDocs[arbId];
  if (doc === undefined) return undefined;
  return [doc.positive, ...doc.hedges].find((p): p is JournalPlacement => p !== null && p.clientRef === clientRef);
}

/** Statuses that say "the bookmaker does not hold this bet": a record keeping one beside a live bet is wrong. */
const notHeldStatuses = new Set(['planned', 'rejected', 'not_placed']);

function journalSays(s: ChaosSnapshot, arbId: string, placement: JournalPlacement | undefined): string {
  if (s.journalDocs[arbId] === undefined) return 'no journal';
  if (placement === undefined) return `no placement of it (state ${s.journalDocs[arbId]?.state})`;
  return `${placement.status}${placement.ticketId ? ` as ${placement.ticketId}` : ''} (state ${s.journalDocs[arbId]?.state})`;
}

/**
 * 9. The records say what the bookmakers hold. Every accepted bet of a valid arb is named by the arb's journal
 * with its ticket (accepted, or settled/void as the executor learned), or is in doubt with a review entry, or
 * is named by a review entry of the arb (a possibly-sent placement); every placement the journal records as
 * accepted is held by its bookmaker under that ticket.
 */
export function checkRecordsMatchBookmaker(s: ChaosSnapshot, bets: readonly BetFact[]): InvariantResult {
  const t = new Tally();
  const plans = plansByArb(s);
  const reviews = reviewTextByArb(s);
  for (const bet of bets) {
    if (!bet.accepted || bet.ref === null || !plans.has(bet.ref.arbId)) continue;
    t.checked += 1;
    const arbId = bet.ref.arbId;
    const placement = journalPlacementOf(s, arbId, bet.clientRef);
    const review = reviews.get(arbId);
    if (placement?.ticketId === bet.ticketId && !notHeldStatuses.has(placement.status)) continue;
    if (placement?.status === 'in_doubt' && review !== undefined) continue;
    if (review !== undefined && (review.includes(`"${bet.clientRef}"`) || review.includes(`"${bet.ticketId}"`))) continue;
    const reviewNote = review === undefined ? 'no review entry' : 'its review entry does not name it';
    t.violate(`${arbId}: ${betName(bet)} is live at the bookmaker; the journal says ${journalSays(s, arbId, placement)} and ${reviewNote}`);
  }
  const held = new Map(bets.map((b) => [`${b.book}|${b.ticketId}`, b]));
  for (const [arbId, doc] of Object.entries(s.journalDocs)) {
    for (const p of [doc.positive, ...doc.hedges]) {
      if (p === null || p.status !== 'accepted') continue;
      t.checked += 1;
      const bet = p.ticketId === undefined ? undefined : held.get(`${p.provider}|${p.ticketId}`);
      if (bet !== undefined && bet.clientRef === p.clientRef && bet.accepted) continue;
      const holds = bet === undefined ? 'no such bet' : betName(bet);
      t.violate(`${arbId}: the journal says ${p.clientRef} accepted as ${p.ticketId ?? '(no ticket)'} at ${p.provider}, the bookmaker holds ${holds}`);
    }
  }
  return t.result(9, 'records say what the bookmakers hold');
}

/**
 * 10. No hedge request reaches a bookmaker when every positive of its arb taken by then was already settled
 * (void, won, lost, half_*) at the bookmaker: a settled positive is not hedged. One count per arb.
 */
export function checkNoHedgeAfterSettledPositive(s: ChaosSnapshot, bets: readonly BetFact[]): InvariantResult {
  const t = new Tally();
  const positives = acceptedLegs(bets, 'p');
  const requests = s.books.flatMap((book) => book.log.map((entry) => ({ book: book.name, entry, ref: legOf(entry.clientRef) })));
  const hedgeRequests = groupBy(requests.filter((r) => r.ref?.leg === 'h'), (r) => (r.ref as RefParts).arbId);
  for (const [arbId, hedgeRequestsOfArb] of hedgeRequests) {
    const taken = positives.get(arbId) ?? [];
    let counted = false;
    let offending: string | null = null;
    for (const { book, entry } of hedgeRequestsOfArb) {
      const before = taken.filter((p) => p.committedAtMs <= entry.atMs);
      if (before.length === 0) continue; // a hedge before any positive is #2's
      counted = true;
      if (before.some((p) => p.settledAtMs === undefined || p.settledAtMs > entry.atMs)) continue;
      const p = before[0] as BetFact;
      offending ??= `${arbId}: hedge request ${entry.clientRef} reached ${book} at ${entry.atMs} ms, ${entry.atMs - (p.settledAtMs ?? 0)} ms after its positive ${betName(p)} was settled at the bookmaker`;
    }
    if (counted) t.checked += 1;
    if (offending !== null) t.violate(offending);
  }
  return t.result(10, 'no hedge after its positive was settled');
}

/**
 * 11. Every arb with an exposure (an exposure_alert, or a latest reconciliation that names one) has its own
 * review entry, open or resolved, naming its arb_id: two arbs of one betPairId are two reviews.
 */
export function checkOwnReviewEntry(s: ChaosSnapshot): InvariantResult {
  const t = new Tally();
  const exposures = new Map<string, string>();
  for (const e of s.events) {
    if (e.type === 'exposure_alert' && typeof e.data.arbId === 'string') exposures.set(e.data.arbId, String(e.data.exposure_reason));
  }
  const settled = rowsByArb(s, 'arb_settled');
  const again = rowsByArb(s, reReconciliationEvent);
  for (const arbId of new Set([...settled.keys(), ...again.keys()])) {
    const last = lastReconciliation(settled.get(arbId) ?? [], again.get(arbId) ?? []);
    const reason = last?.data.exposureReason;
    if (typeof reason === 'string' && !exposures.has(arbId)) exposures.set(arbId, reason);
  }
  const reviewed = new Set(reviewTextByArb(s).keys());
  const reviewIdsByPair = new Map<string, string[]>();
  for (const [id, entry] of Object.entries(s.reviewOpen)) {
    const pairId = typeof entry.bet_pair_id === 'string' ? entry.bet_pair_id : null;
    if (pairId !== null) reviewIdsByPair.set(pairId, [...(reviewIdsByPair.get(pairId) ?? []), `${id} (arb ${String(reviewArbOf(entry))})`]);
  }
  const planOf = new Map(s.plans.map((p) => [p.arbId, p]));
  for (const [arbId, reason] of exposures) {
    t.checked += 1;
    if (reviewed.has(arbId)) continue;
    const pairId = planOf.get(arbId)?.betPairId;
    const others = pairId === undefined ? [] : reviewIdsByPair.get(pairId) ?? [];
    const note = others.length > 0 ? `; its betPairId ${pairId} has only ${others.join(', ')}` : '';
    t.violate(`${arbId}: exposure ${reason}, but no open or resolved review entry names it${note}`);
  }
  return t.result(11, 'every exposed arb has its own review entry');
}

/** Stream id "ms-seq" → its ms (Redis server time, the machine clock the simulators and runner share). */
function streamMs(id: string): number {
  return Number(id.split('-')[0]);
}

/**
 * When each request was journaled as an intent: the bookmaker_request audit rows (written in the same atomic
 * step that journals a send, and timed by Redis), by client reference, in order.
 */
function intentTimes(s: ChaosSnapshot): Map<string, number[]> {
  const times = new Map<string, number[]>();
  for (const row of s.audit) {
    const ref = row.data.clientRef;
    if (row.type === 'bookmaker_request' && typeof ref === 'string') times.set(ref, [...(times.get(ref) ?? []), streamMs(row.id)]);
  }
  return times;
}

/** The latest journaled intent of `clientRef` at or before `atMs` (the send that produced a request at atMs). */
function intentBefore(times: Map<string, number[]>, clientRef: string, atMs: number): number | undefined {
  let latest: number | undefined;
  for (const ms of times.get(clientRef) ?? []) if (ms <= atMs) latest = ms;
  return latest;
}

/**
 * 12. No positive request (first send or resend, any attempt) reaches a bookmaker while the global kill
 * switch is set, unless that send was journaled before the switch was set (its preflight passed first and
 * the request was on its way): no tolerance is guessed, the send's own journal time decides. Hedges may go:
 * a live positive must be hedged. An executor that journals nothing has every such request counted.
 */
export function checkKillSwitch(s: ChaosSnapshot): InvariantResult {
  const t = new Tally();
  const intents = intentTimes(s);
  for (const book of s.books) {
    for (const entry of book.log) {
      if (legOf(entry.clientRef)?.leg !== 'p') continue;
      t.checked += 1;
      const w = s.killWindows.find((k) => entry.atMs > k.setAtMs && entry.atMs < k.clearedAtMs);
      if (w === undefined) continue;
      const intentMs = intentBefore(intents, entry.clientRef, entry.atMs);
      // Same millisecond as the set: the send's step ran first, or its kill-switch check would have refused it.
      if (intentMs !== undefined && intentMs <= w.setAtMs) continue;
      const journaled = intentMs === undefined ? 'never journaled' : `journaled ${intentMs - w.setAtMs} ms after it was set`;
      t.violate(`${book.name}: positive request ${entry.clientRef} (#${entry.seq}, ${entry.decision}) at ${entry.atMs} ms, ${entry.atMs - w.setAtMs} ms into a kill switch (held ${w.clearedAtMs - w.setAtMs} ms), ${journaled}`);
    }
  }
  return t.result(12, 'no positive sent while the kill switch is set');
}

/**
 * 13. No positive send (first or resend) is journaled when its arb is older than arbAgeMsMax (+ tolerance),
 * the age running from the earlier of its createdAt and its first enqueue: a createdAt in the future does not
 * make an old pair young, and a resumed pair re-checks its age. A send with no journaled intent is timed by
 * its arrival at the bookmaker. One count per arb.
 */
export function checkArbAge(s: ChaosSnapshot): InvariantResult {
  const t = new Tally();
  const intents = intentTimes(s);
  const sends = new Map<string, Array<{ clientRef: string; atMs: number }>>();
  for (const book of s.books) {
    for (const entry of book.log) {
      const ref = legOf(entry.clientRef);
      if (ref?.leg === 'p') sends.set(ref.arbId, [...(sends.get(ref.arbId) ?? []), { clientRef: entry.clientRef, atMs: entry.atMs }]);
    }
  }
  const limitMs = s.arbAgeMsMax + s.arbAgeToleranceMs;
  for (const plan of s.plans) {
    const stamps = [plan.createdAtMs, plan.enqueuedAtMs].filter((ms): ms is number => ms !== undefined);
    const arbSends = sends.get(plan.arbId);
    if (arbSends === undefined || stamps.length === 0) continue;
    t.checked += 1;
    const bornAtMs = Math.min(...stamps);
    const aged = arbSends.map((send, n) => {
      const intentMs = intentBefore(intents, send.clientRef, send.atMs);
      return { ...send, n, intentMs, ageMs: (intentMs ?? send.atMs) - bornAtMs };
    });
    const late = aged.find((send) => send.ageMs > limitMs);
    if (late === undefined) continue;
    const ahead = plan.createdAtMs !== undefined && plan.enqueuedAtMs !== undefined && plan.createdAtMs > plan.enqueuedAtMs
      ? `; its createdAt ${new Date(plan.createdAtMs).toISOString()} is ${plan.createdAtMs - plan.enqueuedAtMs} ms ahead of its enqueue` : '';
    const first = late.n === 0 ? 'first send' : 'a later send';
    t.violate(`${plan.arbId}: positive ${late.clientRef} (${first}) ${late.intentMs === undefined ? 'reached the bookmaker' : 'journaled'} at age ${late.ageMs} ms > arbAgeMsMax (${s.arbAgeMsMax}) + ${s.arbAgeToleranceMs} ms${ahead}`);
  }
  return t.result(13, 'no positive sent past the arb max age');
}

/** 14. Nothing at all reaches a bookmaker for a pair the scenario made invalid (bad ids, or not an arb). */
export function checkNothingForInvalid(s: ChaosSnapshot): InvariantResult {
  const t = new Tally();
  const invalid = new Map(s.plans.filter((p) => p.invalid).map((p) => [p.arbId, p]));
  t.checked = invalid.size;
  const sent = new Map<string, string[]>();
  for (const book of s.books) {
    for (const entry of book.log) {
      const arbId = legOf(entry.clientRef)?.arbId;
      if (arbId !== undefined && invalid.has(arbId)) sent.set(arbId, [...(sent.get(arbId) ?? []), `${entry.clientRef} at ${book.name} (${entry.decision})`]);
    }
  }
  for (const [arbId, requests] of sent) {
    t.violate(`${arbId} (${invalid.get(arbId)?.invalidReason ?? 'invalid'}): ${requests.length} request(s) reached the bookmakers: ${requests.slice(0, 3).join(', ')}`);
  }
  return t.result(14, 'nothing placed for an invalid pair');
}

/** Runs every invariant over one snapshot. */
export function checkInvariants(s: ChaosSnapshot): InvariantResult[] {
  const bets = betFacts(s);
  return [
    checkNoDoublePlacement(bets),
    checkHedgeAfterPositive(s, bets),
    checkHedgedOrAlerted(s, bets),
    checkCooldown(s),
    checkAudited(s),
    checkTerminal(s),
    checkInDoubtReviewed(s, bets),
    checkReconciled(s, bets),
    checkRecordsMatchBookmaker(s, bets),
    checkNoHedgeAfterSettledPositive(s, bets),
    checkOwnReviewEntry(s),
    checkKillSwitch(s),
    checkArbAge(s),
    checkNothingForInvalid(s),
    checkLostChains(s),
  ];
}

/**
 * 15. A settlement poll chain that died (the lost_chain class removes a bet's poll job) is announced: the
 * arb has a settlement_lost exposure (an alert, or new information on its open or resolved entry). That it
 * is still reconciled, rightly, is #8's (every arb final at both bookmakers).
 */
export function checkLostChains(s: ChaosSnapshot): InvariantResult {
  const t = new Tally();
  const lost = new Set<string>();
  for (const e of s.events) {
    const arbId = e.data.arbId;
    if (typeof arbId !== 'string' || (e.type !== 'exposure_alert' && e.type !== 'exposure_updated')) continue;
    const record = e.data.record as Record<string, unknown> | undefined;
    if (e.data.exposure_reason === 'settlement_lost' || record?.exposure_reason === 'settlement_lost') lost.add(arbId);
  }
  for (const arbId of s.lostChains ?? []) {
    t.checked += 1;
    if (!lost.has(arbId)) t.violate(`${arbId}: its settlement poll chain was killed and no settlement_lost exposure was raised`);
  }
  return t.result(15, 'a dead settlement chain is announced');
}

/** Sums results of several runs (seeds) per invariant; examples are kept, prefixed by their run's label. */
export function sumResults(runs: Array<{ label: string; results: InvariantResult[] }>): InvariantResult[] {
  const sums = new Map<number, InvariantResult>();
  for (const { label, results } of runs) {
    for (const r of results) {
      const sum = sums.get(r.id) ?? { id: r.id, name: r.name, checked: 0, violations: 0, examples: [] };
      sum.checked += r.checked;
      sum.violations += r.violations;
      for (const example of r.examples) if (sum.examples.length < examplesMax) sum.examples.push(`[${label}] ${example}`);
      sums.set(r.id, sum);
    }
  }
  return [...sums.values()].sort((a, b) => a.id - b.id);
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** The side-by-side table: violations per invariant for ours and (optionally) the naive executor, then examples. */
export function formatTable(ours: InvariantResult[], naive?: InvariantResult[]): string {
  const nameWidth = Math.max(9, ...ours.map((r) => r.name.length));
  const checkedOf = (r: InvariantResult) => {
    const other = naive?.find((n) => n.id === r.id);
    return other ? `${r.checked}/${other.checked}` : String(r.checked);
  };
  const checkedWidth = Math.max(7, ...ours.map((r) => checkedOf(r).length));
  const header = `${pad('#', 2)}  ${pad('invariant', nameWidth)}  ${pad('checked', checkedWidth, true)}  ${pad('ours', 6, true)}${naive ? `  ${pad('naive', 6, true)}` : ''}`;
  const lines = [header, '-'.repeat(header.length)];
  for (const r of ours) {
    const n = naive?.find((x) => x.id === r.id);
    lines.push(`${pad(String(r.id), 2)}  ${pad(r.name, nameWidth)}  ${pad(checkedOf(r), checkedWidth, true)}  ${pad(String(r.violations), 6, true)}${naive ? `  ${pad(n ? String(n.violations) : '-', 6, true)}` : ''}`);
  }
  const total = (rs: InvariantResult[]) => String(rs.reduce((sum, r) => sum + r.violations, 0));
  lines.push(`${pad('', 2)}  ${pad('total', nameWidth)}  ${pad('', checkedWidth)}  ${pad(total(ours), 6, true)}${naive ? `  ${pad(total(naive), 6, true)}` : ''}`);
  if (naive) lines.push(`(checked: ours/naive)`);
  for (const [label, results] of [['ours', ours], ['naive', naive ?? []]] as const) {
    for (const r of results.filter((x) => x.violations > 0)) {
      lines.push('', `${label} #${r.id} ${r.name}: ${r.violations} violation(s), e.g.`);
      for (const example of r.examples) lines.push(`  - ${example}`);
    }
  }
  return lines.join('\n');
}
