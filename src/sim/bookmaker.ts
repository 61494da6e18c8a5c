// The simulated bookmaker's model (no HTTP): placements, dedupe by client ref, scripted faults, seeded settlement.
import { isFinalBetStatus, invariant, type FinalBetStatus, type Minor, type OddsMilli } from '../domain/types.js';
import type { PlaceRequest } from '../providers/provider.js';
import type { WireBet } from '../providers/protocol.js';
import {
  commitDelayMsDefault,
  FaultQueue,
  hangMsDefault,
  lookupFaultKinds,
  pendingPollsDefault,
  placementFaultKinds,
  transportFaultKinds,
  type FaultSpec,
  type QueuedFault,
  type SimFaultKind,
} from './faults.js';
import { seededSettlement } from './settlement.js';

export const entriesMaxDefault = 1_000_000;
export const settleAfterMsDefault = 1000;

export interface SimBookmakerOptions {
  name: string;
  seed: number;
  now: () => number;
  /** false: a bookmaker that does not deduplicate client refs (every placement is a new bet). */
  dedupe?: boolean;
  /** An accepted bet settles (seeded) this long after acceptance; null = only by explicit settle(). */
  settleAfterMs?: number | null;
  /** Cap on log entries and on bets; beyond it the simulator throws. */
  entriesMax?: number;
}

export type PlacementDecision =
  | 'accepted'
  | 'rejected'
  | 'pending'
  | 'duplicate'
  | 'error_500'
  | 'timeout_before_commit'
  | 'timeout_after_commit'
  /** No answer (500 or a hang) and nothing committed yet: the bet is committed `delayMs` later. */
  | 'commit_late';

/** One placement request as the bookmaker received it, and what it decided. */
export interface SimLogEntry {
  seq: number;
  atMs: number;
  clientRef: string;
  accountId: string;
  eventId: string;
  market: string;
  selection: string;
  stakeMinor: Minor;
  oddsMilli: OddsMilli;
  decision: PlacementDecision;
  ticketId?: string;
  acceptedStakeMinor?: Minor;
  acceptedOddsMilli?: OddsMilli;
  reason?: string;
  fault?: string;
}

/** One lookup by client reference as the bookmaker received it. */
export interface SimLookupEntry {
  atMs: number;
  clientRef: string;
  answer: 'found' | 'not_found' | 'error_500';
}

/** A bet as the simulator exposes it: the wire bet plus what it was placed on. */
export interface SimBetView extends WireBet {
  eventId: string;
  market: string;
  selection: string;
  currency: string;
  /** When the bet got its (latest) final result, bookmaker clock; absent while unsettled. */
  settledAtMs?: number;
  /**
   * When the bookmaker took the bet, bookmaker clock; absent while pending or rejected. Later than the request for
   * a bet pending first or committed late: the moment an account's cooldown must be measured from.
   */
  acceptedAtMs?: number;
}

export type SimPlaceResult =
  | { kind: 'answer'; bet: SimBetView; duplicate: boolean }
  | { kind: 'error_500' }
  /** The answer is lost: the HTTP layer hangs for hangMs, then drops the connection. */
  | { kind: 'no_answer'; committed: boolean; hangMs: number };

export type SimLookupResult = { kind: 'found'; bet: SimBetView } | { kind: 'not_found' } | { kind: 'error_500' };

/**
 * A sick bookmaker (POST /_sim/sick): every bookmaker request fails the same way until it is cured, placements
 * (logged, decision error_500 or timeout_before_commit, fault `sick`, nothing committed), lookups, status checks
 * and account requests alike. The model's own reads (tests, the chaos snapshot) are not affected.
 */
export type Sickness = { mode: 'error_500' } | { mode: 'timeout'; hangMs: number };

/** An account's standing (POST /_sim/accounts): limited → placements rejected `account_limited`; suspended → 403. */
export type SimAccountStatus = 'active' | 'limited' | 'suspended';
export const accountLimitedReason = 'account_limited';

export type SimSettleResult =
  | { kind: 'settled'; bet: SimBetView }
  | { kind: 'not_found' }
  | { kind: 'not_accepted'; status: SimBetView['status'] };

type Placement = 'accepted' | 'pending' | 'rejected';

interface SimBet {
  ticketId: string;
  request: PlaceRequest;
  placement: Placement;
  oddsMilli: OddsMilli;
  stakeMinor: Minor;
  reason: string | undefined;
  currentOddsMilli: OddsMilli | undefined;
  acceptedAtMs: number | null;
  pending: { pollsLeft: number; then: 'accepted' | 'rejected'; reason: string } | null;
  settlement: FinalBetStatus | null;
  settledAtMs: number | null;
  /** A result set ahead of time is waiting for it (no automatic settlement meanwhile). */
  scheduledResult?: boolean;
}

/** A `commit_late` request: the bookmaker commits it when `dueAtMs` has passed (checked on every call). */
interface LateCommit {
  dueAtMs: number;
  request: PlaceRequest;
  entry: SimLogEntry;
  fault: QueuedFault;
}

/** What a placement commits, before it is recorded. */
type Commit = Pick<SimBet, 'placement' | 'oddsMilli' | 'stakeMinor' | 'reason' | 'currentOddsMilli' | 'pending'>;

const rejectedReasonDefault = 'rejected_by_bookmaker';

export class SimBookmaker {
  readonly name: string;
  readonly seed: number;
  readonly dedupe: boolean;
  readonly settleAfterMs: number | null;
  private readonly now: () => number;
  private readonly entriesMax: number;
  private readonly faultQueue = new FaultQueue();
  private entries: SimLogEntry[] = [];
  private bets: SimBet[] = [];
  private byTicket = new Map<string, SimBet>();
  private byRef = new Map<string, SimBet>();
  private lateCommits: LateCommit[] = [];
  private sick: Sickness | null = null;
  private readonly accounts = new Map<string, SimAccountStatus>();
  /** Settlement feed: every result set (settled or re-settled), numbered; per account, in order. */
  private settlementSeq = 0;
  private settledByAccount = new Map<string, Array<{ seq: number; bet: SimBet }>>();
  /** Accepted bets in acceptance order, for automatic settlement; `autoNext` is the first not yet looked at. */
  private autoQueue: SimBet[] = [];
  private autoNext = 0;
  /** Settlements set ahead of time (`settleAt`), applied once their time has come; sorted by `atMs` when read. */
  private scheduled: Array<{ atMs: number; bet: SimBet; result: FinalBetStatus }> = [];
  private scheduledSorted = true;
  /** Settlement requests received (per-ticket status, batched status, feed pages), for tests and the bench. */
  requests = newRequestCounts();
  /** Lookups by client reference, in order (bounded like the placement log): proof of a lookup from the bookmaker's side. */
  private lookups: SimLookupEntry[] = [];

  constructor(options: SimBookmakerOptions) {
    invariant(options.name.length > 0, 'sim bookmaker name is empty');
    invariant(Number.isSafeInteger(options.seed), `sim seed (${options.seed}) is not a safe integer`);
    this.name = options.name;
    this.seed = options.seed;
    this.now = options.now;
    this.dedupe = options.dedupe ?? true;
    this.settleAfterMs = options.settleAfterMs === undefined ? settleAfterMsDefault : options.settleAfterMs;
    this.entriesMax = options.entriesMax ?? entriesMaxDefault;
    const settle = this.settleAfterMs;
    invariant(settle === null || (Number.isSafeInteger(settle) && settle >= 0), `settleAfterMs (${settle}) is not >= 0`);
  }

  addFault(spec: FaultSpec): QueuedFault {
    return this.faultQueue.add(spec);
  }

  removeFault(id: number): boolean {
    return this.faultQueue.remove(id);
  }

  faults(): QueuedFault[] {
    return this.faultQueue.pending();
  }

  log(): SimLogEntry[] {
    this.commitDue();
    return this.entries.map((entry) => ({ ...entry }));
  }

  /** Makes every bookmaker request fail (null: cured). */
  setSickness(sickness: Sickness | null): void {
    this.sick = sickness === null ? null : { ...sickness };
  }

  sickness(): Sickness | null {
    return this.sick === null ? null : { ...this.sick };
  }

  setAccountStatus(accountId: string, status: SimAccountStatus): void {
    if (status === 'active') this.accounts.delete(accountId.toLowerCase());
    else this.accounts.set(accountId.toLowerCase(), status);
  }

  /** An account's standing (accounts compared ignoring case); active unless set otherwise. */
  accountStatus(accountId: string): SimAccountStatus {
    return this.accounts.get(accountId.toLowerCase()) ?? 'active';
  }

  /** The bet held under a client reference, as the control endpoints see it (not a lookup: not logged, no fault). */
  peek(clientRef: string): SimBetView | undefined {
    this.commitDue();
    const bet = this.byRef.get(clientRef);
    return bet === undefined ? undefined : this.view(bet);
  }

  /**
   * Control: a bet held pending (`pending_then_accept` / `_reject`) is decided on its next status poll instead of
   * after the polls it had left, so a test can keep a bet pending for as long as a condition of its own takes.
   * False when no bet under the reference is pending.
   */
  releasePending(clientRef: string): boolean {
    const bet = this.byRef.get(clientRef);
    if (bet === undefined || bet.placement !== 'pending' || bet.pending === null) return false;
    bet.pending.pollsLeft = 0;
    return true;
  }

  /** Every lookup by client reference received, in order, with what it answered. */
  lookupLog(): SimLookupEntry[] {
    return this.lookups.map((entry) => ({ ...entry }));
  }

  reset(): void {
    this.sick = null;
    this.accounts.clear();
    this.lookups = [];
    this.faultQueue.clear();
    this.entries = [];
    this.bets = [];
    this.byTicket = new Map();
    this.byRef = new Map();
    this.lateCommits = [];
    this.settlementSeq = 0;
    this.settledByAccount = new Map();
    this.autoQueue = [];
    this.autoNext = 0;
    this.scheduled = [];
    this.scheduledSorted = true;
    this.requests = newRequestCounts();
  }

  place(request: PlaceRequest): SimPlaceResult {
    this.commitDue();
    this.assertRoom(this.entries.length, 'log entries');
    if (this.sick !== null) {
      // Sick: nothing is committed, whatever the request (a repeat of a known reference too).
      const decision: PlacementDecision = this.sick.mode === 'error_500' ? 'error_500' : 'timeout_before_commit';
      this.append(request, decision, null, null);
      const entry = this.entries[this.entries.length - 1];
      if (entry !== undefined) entry.fault = 'sick';
      return this.sick.mode === 'error_500' ? { kind: 'error_500' } : { kind: 'no_answer', committed: false, hangMs: this.sick.hangMs };
    }
    const existing = this.dedupe ? this.byRef.get(request.clientRef) : undefined;
    if (existing !== undefined) return this.placeDuplicate(request, existing);
    // A limited account takes no new bet (a repeat of a bet it took before is answered above).
    if (this.accountStatus(request.accountId) === 'limited') {
      const bet = this.record(request, { ...commitFor(request, null), placement: 'rejected', reason: accountLimitedReason }, null);
      this.append(request, 'rejected', bet, null);
      return { kind: 'answer', bet: this.placementView(bet), duplicate: false };
    }
    const fault = this.faultQueue.take(placementFaultKinds, request);
    if (fault?.fault === 'error_500') return this.refuse(request, fault, 'error_500', { kind: 'error_500' });
    if (fault?.fault === 'timeout_before_commit') {
      return this.refuse(request, fault, 'timeout_before_commit', { kind: 'no_answer', committed: false, hangMs: hangMsOf(fault) });
    }
    if (fault?.fault === 'commit_late') return this.deferCommit(request, fault);
    const bet = this.record(request, commitFor(request, fault), fault);
    if (fault?.fault === 'timeout_after_commit') {
      this.append(request, 'timeout_after_commit', bet, fault);
      return { kind: 'no_answer', committed: true, hangMs: hangMsOf(fault) };
    }
    this.append(request, bet.placement, bet, fault);
    return { kind: 'answer', bet: this.placementView(bet), duplicate: false };
  }

  lookupByClientRef(clientRef: string): SimLookupResult {
    this.commitDue();
    const bet = this.byRef.get(clientRef);
    const fault = this.faultQueue.take(lookupFaultKinds, { accountId: bet?.request.accountId, clientRef });
    if (this.lookups.length < this.entriesMax) this.lookups.push({ atMs: this.now(), clientRef, answer: fault !== null ? 'error_500' : bet === undefined ? 'not_found' : 'found' });
    if (fault !== null) return { kind: 'error_500' };
    if (bet === undefined) return { kind: 'not_found' };
    this.applyDueSettlements();
    this.settleIfDue(bet);
    return { kind: 'found', bet: this.view(bet) };
  }

  /** A status poll: advances a pending bet towards its outcome and settles an accepted one when due. */
  status(ticketId: string): SimLookupResult {
    this.requests.status++;
    this.commitDue();
    const bet = this.byTicket.get(ticketId);
    if (bet === undefined) return { kind: 'not_found' };
    this.pollPending(bet);
    this.applyDueSettlements();
    this.settleIfDue(bet);
    return { kind: 'found', bet: this.view(bet) };
  }

  settle(ticketIdOrClientRef: string, result: FinalBetStatus): SimSettleResult {
    invariant(isFinalBetStatus(result), `settle result (${String(result)}) is not a final status`);
    this.commitDue();
    const bet = this.byTicket.get(ticketIdOrClientRef) ?? this.byRef.get(ticketIdOrClientRef);
    if (bet === undefined) return { kind: 'not_found' };
    if (bet.placement !== 'accepted') return { kind: 'not_accepted', status: bet.placement };
    this.setResult(bet, result, this.now());
    return { kind: 'settled', bet: this.view(bet) };
  }

  /**
   * Settles a bet at a given time (control: the bench and tests schedule results ahead). A time already
   * passed settles it now, with `settledAtMs` = `atMs`; a later one when the model next looks after it.
   */
  settleAt(ticketIdOrClientRef: string, result: FinalBetStatus, atMs: number = this.now()): SimSettleResult {
    invariant(isFinalBetStatus(result), `settle result (${String(result)}) is not a final status`);
    invariant(Number.isSafeInteger(atMs), `settleAt atMs (${atMs}) is not an integer`);
    this.commitDue();
    const bet = this.byTicket.get(ticketIdOrClientRef) ?? this.byRef.get(ticketIdOrClientRef);
    if (bet === undefined) return { kind: 'not_found' };
    if (bet.placement !== 'accepted') return { kind: 'not_accepted', status: bet.placement };
    if (atMs <= this.now()) this.setResult(bet, result, atMs);
    else {
      this.scheduled.push({ atMs, bet, result });
      this.scheduledSorted = false;
      bet.scheduledResult = true;
    }
    return { kind: 'settled', bet: this.view(bet) };
  }

  /** Statuses of several tickets in one request: each as `status()` would answer it (pending bets advance). */
  statuses(ticketIds: readonly string[]): { bets: SimBetView[]; notFound: string[] } {
    this.requests.statuses++;
    this.requests.status -= ticketIds.length; // counted once, as one batched request
    const bets: SimBetView[] = [];
    const notFound: string[] = [];
    for (const ticketId of ticketIds) {
      const result = this.status(ticketId);
      if (result.kind === 'found') bets.push(result.bet);
      else notFound.push(ticketId);
    }
    return { bets, notFound };
  }

  /**
   * An account's bets whose result was set (settled, or re-settled) after `cursor`, oldest first, at most
   * `limit`; the cursor of the last one returned (the same cursor when none), and whether more are waiting.
   * No cursor: from the first result. The cursor is the feed's sequence number, opaque to clients.
   */
  settledSince(accountId: string, cursor: string | null, limit: number): { bets: SimBetView[]; cursor: string; more: boolean } {
    this.requests.settled++;
    this.requests.settledByAccount.set(accountId, (this.requests.settledByAccount.get(accountId) ?? 0) + 1);
    this.commitDue();
    this.applyDueSettlements();
    const after = cursor === null ? 0 : Number(cursor);
    const feed = this.settledByAccount.get(accountId) ?? [];
    let lo = 0;
    let hi = feed.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((feed[mid]?.seq ?? 0) <= after) lo = mid + 1;
      else hi = mid;
    }
    const page = feed.slice(lo, lo + limit);
    const last = page[page.length - 1];
    return {
      bets: page.map((entry) => this.view(entry.bet)),
      cursor: String(last?.seq ?? (Number.isSafeInteger(after) ? after : 0)),
      more: lo + limit < feed.length,
    };
  }

  /** Applies every automatic and scheduled settlement whose time has come (the feed must not miss one). */
  private applyDueSettlements(): void {
    const nowMs = this.now();
    if (this.settleAfterMs !== null) {
      while (this.autoNext < this.autoQueue.length) {
        const bet = this.autoQueue[this.autoNext];
        if (bet === undefined || bet.acceptedAtMs === null || nowMs - bet.acceptedAtMs < this.settleAfterMs) break;
        this.settleIfDue(bet);
        this.autoNext++;
      }
    }
    if (this.scheduled.length === 0) return;
    if (!this.scheduledSorted) {
      this.scheduled.sort((a, b) => a.atMs - b.atMs);
      this.scheduledSorted = true;
    }
    let due = 0;
    while (due < this.scheduled.length && (this.scheduled[due]?.atMs ?? Infinity) <= nowMs) due++;
    for (const item of this.scheduled.splice(0, due)) {
      item.bet.scheduledResult = false;
      this.setResult(item.bet, item.result, item.atMs);
    }
  }

  /** Sets a bet's (latest) result and enters it in its account's settlement feed. */
  private setResult(bet: SimBet, result: FinalBetStatus, atMs: number): void {
    bet.settlement = result;
    bet.settledAtMs = atMs;
    this.settlementSeq++;
    const accountId = bet.request.accountId;
    let feed = this.settledByAccount.get(accountId);
    if (feed === undefined) {
      feed = [];
      this.settledByAccount.set(accountId, feed);
    }
    feed.push({ seq: this.settlementSeq, bet });
  }

  /**
   * A `commit_late` request: logged now with no ticket, answered with a 500 (or a hang), and committed as a
   * plain acceptance once `delayMs` has passed, as a bookmaker whose queue was still holding it would.
   */
  private deferCommit(request: PlaceRequest, fault: QueuedFault): SimPlaceResult {
    this.append(request, 'commit_late', null, fault);
    const entry = this.entries[this.entries.length - 1];
    invariant(entry !== undefined, 'commit_late entry was just appended');
    this.lateCommits.push({ dueAtMs: this.now() + (fault.params.delayMs ?? commitDelayMsDefault), request: { ...request }, entry, fault });
    if (fault.params.hangMs !== undefined) return { kind: 'no_answer', committed: false, hangMs: fault.params.hangMs };
    return { kind: 'error_500' };
  }

  /** Commits every late request that is due. With dedupe on, a ref committed meanwhile (a resend) is not committed twice. */
  private commitDue(): void {
    if (this.lateCommits.length === 0) return;
    const nowMs = this.now();
    const due = this.lateCommits.filter((c) => c.dueAtMs <= nowMs);
    if (due.length === 0) return;
    this.lateCommits = this.lateCommits.filter((c) => c.dueAtMs > nowMs);
    for (const late of due) {
      if (this.dedupe && this.byRef.has(late.request.clientRef)) continue;
      // Committed when it came due, whenever the next call let the model notice.
      const bet = this.record(late.request, commitFor(late.request, null), late.fault, late.dueAtMs);
      // The request's own log entry names the bet it finally committed.
      Object.assign(late.entry, betFields(bet));
    }
  }

  private placeDuplicate(request: PlaceRequest, existing: SimBet): SimPlaceResult {
    const fault = this.faultQueue.take(transportFaultKinds, request);
    if (fault === null) {
      this.append(request, 'duplicate', existing, null);
      return { kind: 'answer', bet: this.placementView(existing), duplicate: true };
    }
    // A transport fault on a repeat: the original bet stands, nothing new is committed, the answer is lost.
    this.append(request, transportDecision(fault.fault), existing, fault);
    if (fault.fault === 'error_500') return { kind: 'error_500' };
    return { kind: 'no_answer', committed: false, hangMs: hangMsOf(fault) };
  }

  private refuse(request: PlaceRequest, fault: QueuedFault, decision: PlacementDecision, result: SimPlaceResult): SimPlaceResult {
    this.append(request, decision, null, fault);
    return result;
  }

  private record(request: PlaceRequest, commit: Commit, fault: QueuedFault | null, atMs = this.now()): SimBet {
    this.assertRoom(this.bets.length, 'bets');
    const ticketId = `${this.name}-${this.bets.length + 1}`;
    const acceptedAtMs = commit.placement === 'accepted' ? atMs : null;
    // settleAs: the bookmaker settles (e.g. voids) the bet the moment it takes it, before anyone looks it up.
    const settleAs = commit.placement === 'accepted' ? fault?.params.settleAs ?? null : null;
    const bet: SimBet = { ...commit, ticketId, request: { ...request }, acceptedAtMs, settlement: null, settledAtMs: null };
    this.bets.push(bet);
    this.byTicket.set(ticketId, bet);
    if (!this.byRef.has(request.clientRef)) this.byRef.set(request.clientRef, bet);
    if (settleAs !== null) this.setResult(bet, settleAs, atMs);
    if (acceptedAtMs !== null) this.autoQueue.push(bet);
    return bet;
  }

  private append(request: PlaceRequest, decision: PlacementDecision, bet: SimBet | null, fault: QueuedFault | null): void {
    const entry: SimLogEntry = {
      seq: this.entries.length + 1,
      atMs: this.now(),
      clientRef: request.clientRef,
      accountId: request.accountId,
      eventId: request.eventId,
      market: request.market,
      selection: request.selection,
      stakeMinor: request.stakeMinor,
      oddsMilli: request.oddsMilli,
      decision,
    };
    if (bet !== null) Object.assign(entry, betFields(bet));
    if (fault !== null) entry.fault = fault.fault;
    this.entries.push(entry);
  }

  private pollPending(bet: SimBet): void {
    const pending = bet.pending;
    if (bet.placement !== 'pending' || pending === null) return;
    if (pending.pollsLeft > 0) {
      pending.pollsLeft -= 1;
      return;
    }
    bet.placement = pending.then;
    bet.pending = null;
    if (pending.then === 'accepted') {
      bet.acceptedAtMs = this.now();
      this.autoQueue.push(bet);
    } else bet.reason = pending.reason;
  }

  private settleIfDue(bet: SimBet): void {
    if (bet.placement !== 'accepted' || bet.settlement !== null || bet.scheduledResult === true) return;
    if (this.settleAfterMs === null || bet.acceptedAtMs === null) return;
    if (this.now() - bet.acceptedAtMs < this.settleAfterMs) return;
    const { eventId, market, selection } = bet.request;
    // When it became due, not when someone looked.
    this.setResult(bet, seededSettlement(this.seed, eventId, market, selection), bet.acceptedAtMs + this.settleAfterMs);
  }

  /** The bet as a placement answer reports it: its placement status, never a settlement. */
  private placementView(bet: SimBet): SimBetView {
    return { ...this.view(bet), status: bet.placement };
  }

  private view(bet: SimBet): SimBetView {
    const { request } = bet;
    const view: SimBetView = {
      ticketId: bet.ticketId,
      clientRef: request.clientRef,
      accountId: request.accountId,
      eventId: request.eventId,
      market: request.market,
      selection: request.selection,
      currency: request.currency,
      status: bet.settlement ?? bet.placement,
      oddsMilli: bet.oddsMilli,
      stakeMinor: bet.stakeMinor,
    };
    if (bet.reason !== undefined) view.reason = bet.reason;
    if (bet.currentOddsMilli !== undefined) view.currentOddsMilli = bet.currentOddsMilli;
    if (bet.settledAtMs !== null) view.settledAtMs = bet.settledAtMs;
    if (bet.acceptedAtMs !== null) view.acceptedAtMs = bet.acceptedAtMs;
    return view;
  }

  private assertRoom(count: number, what: string): void {
    if (count >= this.entriesMax) throw new Error(`sim ${what} (${count}) >= entriesMax (${this.entriesMax})`);
  }
}

export interface SimRequestCounts {
  /** `GET /bets/:ticketId` */
  status: number;
  /** `POST /bets/status` */
  statuses: number;
  /** `GET /accounts/:id/settled`, in all and by account */
  settled: number;
  settledByAccount: Map<string, number>;
}

function newRequestCounts(): SimRequestCounts {
  return { status: 0, statuses: 0, settled: 0, settledByAccount: new Map() };
}

function transportDecision(kind: SimFaultKind): PlacementDecision {
  invariant(kind === 'error_500' || kind === 'timeout_before_commit' || kind === 'timeout_after_commit', `${kind} is not a transport fault`);
  return kind;
}

function hangMsOf(fault: QueuedFault): number {
  return fault.params.hangMs ?? hangMsDefault;
}

/** What the bookmaker commits for a new placement under `fault` (null: a plain acceptance). */
function commitFor(request: PlaceRequest, fault: QueuedFault | null): Commit {
  const base: Commit = {
    placement: 'accepted',
    oddsMilli: request.oddsMilli,
    stakeMinor: request.stakeMinor,
    reason: undefined,
    currentOddsMilli: undefined,
    pending: null,
  };
  if (fault === null) return base;
  const params = fault.params;
  switch (fault.fault) {
    case 'reject':
      return { ...base, placement: 'rejected', reason: params.reason ?? rejectedReasonDefault };
    case 'partial':
      // Rounds the taken stake down: the bookmaker never takes more than was asked.
      return { ...base, stakeMinor: params.stakeMinor ?? Math.floor(request.stakeMinor / 2) };
    case 'odds_moved':
      return oddsMovedCommit(base, request, params.oddsMilli, params.accept === true);
    case 'pending_then_accept':
    case 'pending_then_reject': {
      const then = fault.fault === 'pending_then_accept' ? 'accepted' : 'rejected';
      const pollsLeft = params.pendingPolls ?? pendingPollsDefault;
      return { ...base, placement: 'pending', pending: { pollsLeft, then, reason: params.reason ?? rejectedReasonDefault } };
    }
    default:
      // timeout_after_commit commits a plain acceptance; the other kinds never reach here.
      return base;
  }
}

function oddsMovedCommit(base: Commit, request: PlaceRequest, oddsMilli: number | undefined, accept: boolean): Commit {
  // Default move: 5% worse, rounded down (worse for the bettor).
  const moved = oddsMilli ?? Math.floor((request.oddsMilli * 95) / 100);
  if (accept) return { ...base, oddsMilli: moved };
  return { ...base, placement: 'rejected', reason: 'odds_moved', currentOddsMilli: moved };
}

function betFields(bet: SimBet): Partial<SimLogEntry> {
  const fields: Partial<SimLogEntry> = { ticketId: bet.ticketId };
  if (bet.placement === 'accepted') {
    fields.acceptedStakeMinor = bet.stakeMinor;
    fields.acceptedOddsMilli = bet.oddsMilli;
  }
  if (bet.reason !== undefined) fields.reason = bet.reason;
  return fields;
}
