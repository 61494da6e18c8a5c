// The chaos run's invariants, checked from its snapshot alone (pure): the simulators' logs and bet states first, the executor's records second.
import { reconcile, type SettlementOutcome } from '../src/domain/settlement.js';
import { isFinalBetStatus } from '../src/domain/types.js';
import type { SimLogEntry } from '../src/sim/bookmaker.js';
import type { ChaosSnapshot, PairPlan } from './snapshot.js';

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

function isAcceptedStatus(status: string): boolean {
  return status === 'accepted' || isFinalBetStatus(status);
}

/**
 * Every bet the simulators hold, from their logs (the first entry naming a ticket committed it) and
 * their final bet states, in commit order across books.
 */
export function betFacts(s: ChaosSnapshot): BetFact[] {
  const facts: BetFact[] = [];
  for (const book of s.books) {
    const finals = new Map(book.bets.map((b) => [b.ticketId, b]));
    const seen = new Set<string>();
    for (const entry of book.log) {
      if (entry.ticketId === undefined || seen.has(entry.ticketId)) continue;
      seen.add(entry.ticketId);
      const final = finals.get(entry.ticketId);
      const loggedStatus = entry.decision === 'timeout_after_commit' ? 'accepted' : entry.decision;
      const status = final?.status ?? loggedStatus;
      facts.push({
        book: book.name, ticketId: entry.ticketId, clientRef: entry.clientRef, accountId: entry.accountId, ref: legOf(entry.clientRef),
        committedAtMs: entry.atMs, committedSeq: entry.seq, committedDecision: entry.decision,
        requestedStakeMinor: entry.stakeMinor, stakeMinor: final?.stakeMinor ?? entry.acceptedStakeMinor ?? 0,
        status, accepted: isAcceptedStatus(status),
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

/** Arbs and bet pairs with an exposure record, a review entry or an exposure alert. */
function exposedIndex(s: ChaosSnapshot, records: 'all' | 'review'): { arbs: Set<string>; pairs: Set<string> } {
  const arbs = new Set<string>();
  const pairs = new Set<string>();
  const sources = records === 'all' ? [...Object.values(s.exposureKeys), ...Object.values(s.reviewOpen)] : Object.values(s.reviewOpen);
  for (const record of sources) {
    if (typeof record.arb_id === 'string') arbs.add(record.arb_id);
    if (typeof record.bet_pair_id === 'string') pairs.add(record.bet_pair_id);
  }
  if (records === 'all') {
    for (const e of s.events) if (e.type === 'exposure_alert' && typeof e.data.arbId === 'string') arbs.add(e.data.arbId);
  }
  return { arbs, pairs };
}

function isExposed(index: { arbs: Set<string>; pairs: Set<string> }, arbId: string, plan: PairPlan | undefined): boolean {
  return index.arbs.has(arbId) || (plan !== undefined && index.pairs.has(plan.betPairId));
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
export function checkHedgeAfterPositive(s: ChaosSnapshot, bets: readonly BetFact[]): InvariantResult {
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

/** 3. Every accepted positive has an accepted hedge within the deadline, or an exposure record or alert. */
export function checkHedgedOrAlerted(s: ChaosSnapshot, bets: readonly BetFact[]): InvariantResult {
  const t = new Tally();
  const plans = plansByArb(s);
  const exposed = exposedIndex(s, 'all');
  const hedges = acceptedLegs(bets, 'h');
  for (const [arbId, positives] of acceptedLegs(bets, 'p')) {
    t.checked += 1;
    const positive = positives[0] as BetFact;
    const hedge = hedges.get(arbId)?.[0];
    if (isExposed(exposed, arbId, plans.get(arbId))) continue;
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

/** 4. No placement on an account inside another arb's cooldown (simulator times; repeats of a known ref are not new bets). */
export function checkCooldown(s: ChaosSnapshot): InvariantResult {
  const t = new Tally();
  const gapMsMin = s.cooldownMs - s.cooldownToleranceMs;
  const arbOf = (entry: SimLogEntry) => legOf(entry.clientRef)?.arbId ?? entry.clientRef;
  for (const book of s.books) {
    const placements = book.log.filter((e) => e.decision !== 'duplicate');
    for (const [accountId, entries] of groupBy(placements, (e) => e.accountId)) {
      t.checked += entries.length;
      for (let i = 1; i < entries.length; i++) {
        const before = entries[i - 1] as SimLogEntry;
        const entry = entries[i] as SimLogEntry;
        if (arbOf(before) === arbOf(entry)) continue;
        const gapMs = entry.atMs - before.atMs;
        if (gapMs >= gapMsMin) continue;
        t.violate(`${book.name}/${accountId}: ${entry.clientRef} at ${entry.atMs} ms, ${gapMs} ms after ${before.clientRef} < cooldownMs (${s.cooldownMs}) - tolerance (${s.cooldownToleranceMs})`);
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
  for (const plan of s.plans.filter((p) => !p.invalid)) {
    t.checked += 1;
    const why = unfinishedState(s.journalStates[plan.arbId], settlementExpected);
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
  const plans = plansByArb(s);
  const review = exposedIndex(s, 'review');
  for (const [arbId, state] of Object.entries(s.journalStates)) {
    if (state !== 'positive_in_doubt' && state !== 'hedge_in_doubt') continue;
    t.checked += 1;
    if (!isExposed(review, arbId, plans.get(arbId))) t.violate(`${arbId}: journal ${state} without a review entry`);
  }
  // The executor learned of a bet when it announced it accepted: bet_accepted is written in the same
  // atomic step as the journal transition that records the leg accepted.
  const learned = new Set(s.events.filter((e) => e.type === 'bet_accepted' && typeof e.data.clientRef === 'string').map((e) => e.data.clientRef as string));
  for (const bet of bets.filter((b) => b.committedDecision === 'timeout_after_commit')) {
    t.checked += 1;
    const arbId = bet.ref?.arbId ?? bet.clientRef;
    if (learned.has(bet.clientRef) || isExposed(review, arbId, plans.get(arbId))) continue;
    t.violate(`${arbId}: ${betName(bet)} taken but its answer was lost; never announced accepted and no review entry (journal: ${s.journalStates[arbId] ?? 'none'})`);
  }
  return t.result(7, 'nothing in doubt without a review flag');
}

/** The classification a settled arb should carry, from the simulators' final statuses (placement exposures keep their reason). */
function expectedSettlement(positive: BetFact, hedge: BetFact, settled: Record<string, unknown>, alerts: Set<string>): { actualOutcome: string; exposureReason: string | null } {
  const placement = settled.placement;
  if ((placement === 'hedge_failed' || placement === 'hedge_in_doubt') && typeof settled.exposureReason === 'string' && alerts.has(settled.exposureReason)) {
    // A pair flagged at placement keeps its placement exposure; settlement only adds the positive's result.
    return { actualOutcome: `${positive.status}_${placement === 'hedge_failed' ? 'failed' : 'in_doubt'}`, exposureReason: settled.exposureReason };
  }
  const verdict = reconcile({ positiveStatus: positive.status as SettlementOutcome, hedgeStatus: hedge.status as SettlementOutcome });
  return { actualOutcome: verdict.actualOutcome, exposureReason: verdict.exposure ? verdict.reason : null };
}

/** 8. Every arb whose two legs are final at the simulators is reconciled exactly once, as the simulators' statuses say. */
export function checkReconciled(s: ChaosSnapshot, bets: readonly BetFact[]): InvariantResult {
  const t = new Tally();
  const settledRows = groupBy(s.events.filter((e) => e.type === 'arb_settled' && typeof e.data.arbId === 'string'), (e) => e.data.arbId as string);
  const alertsByArb = new Map<string, Set<string>>();
  for (const e of s.events) {
    if (e.type !== 'exposure_alert' || typeof e.data.arbId !== 'string' || !placementExposureReasons.has(String(e.data.exposure_reason))) continue;
    alertsByArb.set(e.data.arbId, (alertsByArb.get(e.data.arbId) ?? new Set()).add(String(e.data.exposure_reason)));
  }
  const hedges = acceptedLegs(bets, 'h');
  const inScope = new Set<string>();
  for (const [arbId, positives] of acceptedLegs(bets, 'p')) {
    const positive = positives[0] as BetFact;
    const hedge = hedges.get(arbId)?.[0];
    if (hedge === undefined || !isFinalBetStatus(positive.status) || !isFinalBetStatus(hedge.status)) continue;
    inScope.add(arbId);
    t.checked += 1;
    const rows = settledRows.get(arbId) ?? [];
    const row = rows[0];
    if (row === undefined) {
      t.violate(`${arbId}: ${positive.status}/${hedge.status} at the bookmakers, never reconciled (no arb_settled)`);
      continue;
    }
    if (rows.length > 1) {
      t.violate(`${arbId}: reconciled ${rows.length} times (arb_settled ${rows.map((r) => r.id).join(', ')})`);
      continue;
    }
    const want = expectedSettlement(positive, hedge, row.data, alertsByArb.get(arbId) ?? new Set());
    const got = { actualOutcome: row.data.actualOutcome, exposureReason: row.data.exposureReason ?? null };
    if (got.actualOutcome !== want.actualOutcome || got.exposureReason !== want.exposureReason) {
      t.violate(`${arbId}: arb_settled says ${String(got.actualOutcome)} / ${String(got.exposureReason)}, the bookmakers' ${positive.status}/${hedge.status} give ${want.actualOutcome} / ${String(want.exposureReason)}`);
    }
  }
  for (const [arbId, rows] of settledRows) {
    if (!inScope.has(arbId) && rows.length > 1) t.violate(`${arbId}: reconciled ${rows.length} times (arb_settled ${rows.map((r) => r.id).join(', ')})`);
  }
  return t.result(8, 'every settled pair reconciled once, rightly');
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
  ];
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
