// One worker's hold on one pair: the lease (renewed in the background), the journal revision, fenced writes.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { ExecutorMetrics } from '../metrics/port.js';
import { betsToPoll, type BetToPoll } from '../domain/pair-settlement.js';
import { claimLeadMs, cooldownHoldMs, type CooldownTimings, type HoldReason } from '../domain/cooldown.js';
import { assertTransition, isPlacementDone, type PairDoc, type PairState, type Placement } from '../domain/pair.js';
import { invariant, type LegRole } from '../domain/types.js';
import type { Provider } from '../providers/provider.js';
import { keys } from '../store/keys.js';
import { FencedError, JournalNotReplicatedError, pairCircuitKeys, type BlockReason, type CooldownHold, type ExposureWrite, type SendGuards, type Store, type StreamEntry } from '../store/store.js';
import type { Clock } from './clock.js';
import type { TestDefect } from './defects.js';

export type CrashPoint =
  | 'claimed'
  | 'positive_intent_journaled'
  | 'positive_answered'
  | 'positive_journaled'
  | 'hedge_answered'
  | 'hedge_journaled'
  /** Settlement scheduled, the pair not closed yet (its lease held, still in the open set). */
  | 'settlement_scheduled_open'
  | 'settlement_scheduled';

export const crashPoints: readonly CrashPoint[] = [
  'claimed', 'positive_intent_journaled', 'positive_answered', 'positive_journaled', 'hedge_answered', 'hedge_journaled', 'settlement_scheduled_open', 'settlement_scheduled',
];

/** Measures the leg window (positive's answer parsed → hedge request sent) for the benchmark. */
export interface LegWindowProbe {
  answerParsed(arbId: string, role: LegRole): void;
  requestSent(arbId: string, role: LegRole): void;
  /**
   * The worker's processor took a job naming this arbId (before anything else is done with it): the start of
   * the decision latency, which the benchmark ends when the positive request is written to the socket.
   */
  jobTaken?(arbId: string): void;
}

/** The seam to settlement: an accepted pair schedules its settlement polling (idempotent). */
export interface SettlementScheduler {
  ensureScheduled(doc: PairDoc): Promise<void>;
  /** After a pair's first reconciliation: each bet checked once more for a re-settled result. */
  scheduleRechecks(doc: PairDoc): Promise<void>;
  restartChain(bet: BetToPoll, betsPolled: number, fromPoll: number): Promise<void>;
  sweepAfterMs(): number;
}

export interface ExecutorDeps {
  config: Config;
  store: Store;
  providers: ReadonlyMap<string, Provider>;
  clock: Clock;
  sleep(ms: number): Promise<void>;
  settlement: SettlementScheduler;
  probe?: LegWindowProbe;
  /** Counters fed where events are written and bookmakers answer; absent in tests and tools that need none. */
  metrics?: ExecutorMetrics;
  crashPoint(point: CrashPoint): void;
  /** Test-only broken behaviours (src/executor/defects.ts), for proving the audit can fail; empty in production. */
  defects?: ReadonlySet<TestDefect>;
  log: Logger;
}

export interface Commit {
  doc: PairDoc;
  events?: StreamEntry[];
  audit?: StreamEntry[];
  /**
   * The account of this leg is about to be bet on: claim it until a cooldown after the request could last be
   * taken (refused if another pair holds it).
   */
  cooldownFor?: LegRole;
  /**
   * The accounts of these legs were just bet on (their answer is journaled here): hold them at least a cooldown
   * from now, after the bookmaker took the bet, so the next pair's bet is a full cooldown later.
   */
  touch?: LegRole[];
  exposure?: ExposureWrite;
  /**
   * Re-check the kill switches and the arb's age in the same step (a positive send that is not the first,
   * fresh one): the step is refused, nothing written, when one applies.
   */
  guarded?: boolean;
}

export type CommitResult = { kind: 'ok' } | { kind: 'cooldown_conflict' } | { kind: 'blocked'; reason: BlockReason; circuit?: string };

/** The outcome of journaling one more same-reference send. */
export type ResendJournal = { kind: 'ok'; placement: Placement } | { kind: 'cooldown_conflict' } | { kind: 'blocked'; reason: BlockReason; circuit?: string };

/** States whose pair waits for settlement polls before it is closed: it has accepted bets to poll. */
const settlingStates: readonly PairState[] = ['hedged', 'hedge_failed', 'hedge_in_doubt', 'positive_in_doubt'];

/** The placement is done and there are accepted bets to poll: settlement is scheduled before the pair closes. */
export function needsSettlement(doc: PairDoc): boolean {
  return settlingStates.includes(doc.state) && betsToPoll(doc).length > 0;
}

/** The arb's age runs from the earlier of the scanner's createdAt and the enqueue time (null: neither known). */
export function ageBaseMs(doc: PairDoc): number | null {
  const stamps = [doc.pair.createdAtMs, doc.pair.enqueuedAtMs].filter((ms): ms is number => typeof ms === 'number');
  return stamps.length === 0 ? null : Math.min(...stamps);
}

/** Every kill switch that applies to the pair: global, both legs' providers and accounts. */
export function killKeysOf(doc: PairDoc): string[] {
  const { positive: p, hedge: h } = doc.pair;
  return [keys.killGlobal, keys.killProvider(p.provider), keys.killProvider(h.provider), keys.killAccount(p.whitelabel, p.provider, p.accountId), keys.killAccount(h.whitelabel, h.provider, h.accountId)];
}

/** The timings an account's cooldown hold depends on, for a leg on `provider` (its effective request timeout). */
export function cooldownTimingsOf(config: Config, provider: string): CooldownTimings {
  const requestTimeoutMs = config.providers[provider]?.requestTimeoutMs ?? config.providerTimeoutMs;
  return { cooldownMs: config.cooldownMs, requestTimeoutMs, lateCommitGraceMs: config.lateCommitGraceMs, inDoubtPollMs: config.inDoubtPollMs };
}

/** How long a leg's account must stay held from now for `reason` (domain/cooldown.ts). */
export function legHoldMs(deps: Pick<ExecutorDeps, 'config' | 'defects'>, doc: PairDoc, role: LegRole, reason: HoldReason): number {
  // Test defect cooldown_after_bet: claims hold the account 1 ms; only a journaled answer holds it a cooldown.
  if (reason !== 'answered' && deps.defects?.has('cooldown_after_bet')) return 1;
  return cooldownHoldMs(reason, cooldownTimingsOf(deps.config, doc.pair[role].provider));
}

export class PairRun {
  /** Monotonic time this run took the lease: anything a previous holder sent left before it. */
  readonly startedMonoMs: number;
  private heartbeat: NodeJS.Timeout | undefined;
  private leaseLost = false;
  private released = false;
  /** Monotonic time the last successful claim or renewal was sent: the lease is ours until this + lockTtlMs. */
  private leaseRenewedMonoMs: number;
  /** Client reference journaled by this run and not sent yet: it may be sent without a lookup. */
  freshRef: string | null = null;
  /** Monotonic time this run last claimed or refreshed each leg's account cooldown (sent time of the Redis step). */
  private cooldownClaimedMonoMs: Partial<Record<LegRole, number>> = {};
  /** Monotonic time this run journaled the positive accepted: the hedge deadline runs from here. */
  positiveAcceptedMonoMs: number | null = null;
  /** Per client reference, the monotonic end of its last send whose answer was lost (a late commit may follow). */
  private readonly uncertainSendMonoMs = new Map<string, number>();

  constructor(readonly deps: ExecutorDeps, public doc: PairDoc, public rev: number, readonly token: string) {
    this.startedMonoMs = deps.clock.monoMs();
    this.leaseRenewedMonoMs = this.startedMonoMs;
  }

  /**
   * The last journal revision known to be on journalReplicasMin replicas (a WAIT issued after it answered
   * enough); -1: none yet, so a resumed pair waits before its first send even for the journal it read.
   */
  private replicatedRev = -1;

  /**
   * Before a bookmaker request leaves: every journal write of this pair so far (the request's intent, a
   * cooldown claim) is on at least journalReplicasMin replicas, so a failover cannot lose it. Skipped when
   * nothing was journaled since the last such wait (the fast-path hedge: its intent went with the positive's).
   * Fewer acknowledgements within journalWaitTimeoutMs: a `journal_not_replicated` event and a
   * JournalNotReplicatedError, nothing sent; the job is retried later and resumes from the journal.
   */
  async ensureJournalReplicated(placement: Placement): Promise<void> {
    const { journalReplicasMin: replicasMin, journalWaitTimeoutMs: timeoutMs } = this.deps.config;
    if (replicasMin === 0 || this.replicatedRev >= this.rev) return;
    const rev = this.rev;
    const startedMonoMs = this.deps.clock.monoMs();
    const acked = await this.deps.store.waitForReplicas(replicasMin, timeoutMs);
    if (acked >= replicasMin) {
      this.replicatedRev = Math.max(this.replicatedRev, rev);
      return;
    }
    const waitedMs = Math.round(this.deps.clock.monoMs() - startedMonoMs);
    const detail = `${acked} of ${replicasMin} replica(s) acknowledged the journal within ${timeoutMs} ms`;
    const data = { arbId: this.doc.arbId, betPairId: this.doc.pair.betPairId, whitelabel: this.doc.pair.whitelabel, role: placement.role, clientRef: placement.clientRef, replicasAcked: acked, journalReplicasMin: replicasMin, waitedMs, detail };
    await this.deps.store.emit([{ type: 'journal_not_replicated', data }]).catch((error: unknown) => this.deps.log.warn({ err: error, arbId: this.doc.arbId }, 'journal_not_replicated event not written'));
    this.deps.log.warn(data, 'journal not replicated: request not sent, the pair is retried later');
    throw new JournalNotReplicatedError(`${placement.clientRef} not sent: ${detail}`);
  }

  noteCooldownClaimed(role: LegRole, atMonoMs: number): void {
    this.cooldownClaimedMonoMs[role] = atMonoMs;
  }

  /** References this run has sent itself: their answers come after this run's start. */
  readonly sentRefs = new Set<string>();

  /** A send of this reference ended without a definite answer: the bookmaker may still commit it. */
  noteUncertainSend(clientRef: string): void {
    this.uncertainSendMonoMs.set(clientRef, this.deps.clock.monoMs());
  }

  /**
   * From when (monotonic) a `not_found` for this reference can be trusted: lateCommitGraceMs after its last
   * uncertain send in this run, or after this run started for a placement a previous holder may have sent.
   */
  notFoundTrustedFromMonoMs(placement: Placement, resumed: boolean): number {
    const lastMs = this.uncertainSendMonoMs.get(placement.clientRef) ?? (resumed ? this.startedMonoMs : Number.NEGATIVE_INFINITY);
    return lastMs + this.deps.config.lateCommitGraceMs;
  }

  /** How long the hedge has had since the positive was accepted: monotonic within this run, journal wall time across runs. */
  hedgeElapsedMs(): number {
    if (this.positiveAcceptedMonoMs !== null) return this.deps.clock.monoMs() - this.positiveAcceptedMonoMs;
    return Math.max(0, this.deps.clock.nowMs() - (this.doc.positiveAcceptedAtMs ?? 0));
  }

  /**
   * True within claimLeadMs of this run's last claim on the leg's account: the claim holds the account until
   * a cooldown after a request leaving now could last be taken, so it may leave without another Redis step.
   */
  cooldownFresh(role: LegRole): boolean {
    const claimedMonoMs = this.cooldownClaimedMonoMs[role];
    return claimedMonoMs !== undefined && this.deps.clock.monoMs() < claimedMonoMs + claimLeadMs(this.cooldownTimings(role));
  }

  /** The timings the hold of the leg's account depends on (its provider's request timeout among them). */
  cooldownTimings(role: LegRole): CooldownTimings {
    return cooldownTimingsOf(this.deps.config, this.doc.pair[role].provider);
  }

  /** How long the leg's account must stay held from now for `reason` (domain/cooldown.ts). */
  holdMs(role: LegRole, reason: HoldReason): number {
    return legHoldMs(this.deps, this.doc, role, reason);
  }

  /** The leg's account cooldown keys, held `reason`'s length. */
  cooldownHold(role: LegRole, mode: 'claim' | 'touch', reason: HoldReason): CooldownHold {
    const leg = this.doc.pair[role];
    return {
      key: keys.cooldown(leg.whitelabel, leg.provider, leg.accountId),
      ownerKey: keys.cooldownOwner(leg.whitelabel, leg.provider, leg.accountId),
      mode,
      holdMs: this.holdMs(role, reason),
    };
  }

  /**
   * Keeps the leg's account held while the bookmaker may still take a bet of ours on it (pending, or whatever a
   * previous holder sent), outside a transition. Another pair holding it already is logged: the account
   * was let go too early (a worker died while the bet was pending) and nothing can unsend the bet.
   */
  async holdAccount(role: LegRole, reason: Extract<HoldReason, 'pending' | 'resumed'>): Promise<void> {
    const held = await this.deps.store.holdCooldown(this.doc.arbId, this.token, this.cooldownHold(role, 'touch', reason));
    if (!held) this.deps.log.warn({ arbId: this.doc.arbId, role, reason }, 'account cooldown held by another pair while our bet may still be taken');
  }

  /** True while the lease is ours with a third of its TTL to spare, by this process's monotonic clock. */
  leaseFresh(): boolean {
    const { lockTtlMs } = this.deps.config;
    return !this.leaseLost && this.deps.clock.monoMs() < this.leaseRenewedMonoMs + lockTtlMs - Math.floor(lockTtlMs / 3);
  }

  /**
   * Called right before every bookmaker request: a worker that was frozen or lost its lease must not
   * send. When the lease is not known fresh it is renewed first; a refused renewal fences this worker out.
   */
  async ensureLease(): Promise<void> {
    if (this.leaseFresh()) return;
    const sentMonoMs = this.deps.clock.monoMs();
    const ok = await this.deps.store.renewLease(this.doc.arbId, this.token, this.deps.config.lockTtlMs);
    if (!ok) {
      this.leaseLost = true;
      throw new FencedError(`lease on ${this.doc.arbId} lost before a bookmaker request`);
    }
    this.leaseRenewedMonoMs = sentMonoMs;
  }

  startHeartbeat(): void {
    const { store, config } = this.deps;
    const everyMs = Math.max(1, Math.floor(config.lockTtlMs / 3));
    this.heartbeat = setInterval(() => {
      const sentMonoMs = this.deps.clock.monoMs();
      store.renewLease(this.doc.arbId, this.token, config.lockTtlMs).then(
        (ok) => {
          if (ok) this.leaseRenewedMonoMs = Math.max(this.leaseRenewedMonoMs, sentMonoMs);
          else this.leaseLost = true;
        },
        (error: unknown) => this.deps.log.warn({ err: error, arbId: this.doc.arbId }, 'lease renewal failed'),
      );
    }, everyMs);
    this.heartbeat.unref();
  }

  async stop(release: boolean): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (release && !this.leaseLost && !this.released) await this.deps.store.releaseLease(this.doc.arbId, this.token).catch(() => false);
  }

  /**
   * A pair in an end state whose lease this run still holds (a resume or a duplicate found it so): release the
   * lease and take the pair out of the open set, which it may still be in (a worker that died between scheduling
   * the settlement and closing the pair, then the settlement reconciled it). A closing transition did it already.
   */
  async closeDone(): Promise<void> {
    if (this.released || this.leaseLost) return;
    await this.releaseAndClose();
  }

  /** The placement is done and handed on (settlement scheduled): release the lease and close the pair. */
  async releaseAndClose(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.deps.store.releaseAndClose(this.doc.arbId, this.token);
    this.released = true;
  }

  provider(name: string): Provider {
    const provider = this.deps.providers.get(name);
    if (!provider) throw new Error(`invariant violated: no provider ${name} (validated at intake)`);
    return provider;
  }

  /** Journals a transition, fenced by the lease; returns false when the cooldown belongs to another pair. */
  async commit(commit: Commit): Promise<boolean> {
    invariant(commit.guarded !== true, 'a guarded commit goes through write(), which reports a block');
    const result = await this.write(commit);
    invariant(result.kind !== 'blocked', 'an unguarded commit cannot be blocked');
    return result.kind === 'ok';
  }

  /** Journals a transition through the fenced, state-checked write path (from-state = the run's view). */
  async write(commit: Commit): Promise<CommitResult> {
    if (this.leaseLost) throw new FencedError(`lease on ${this.doc.arbId} lost`);
    assertTransition(this.doc.state, commit.doc.state);
    const nowMs = this.deps.clock.nowMs();
    const sentMonoMs = this.deps.clock.monoMs();
    const next: PairDoc = { ...commit.doc, updatedAtMs: nowMs };
    // A claim holds the account until a cooldown after the request about to leave could be taken; a touch, a
    // cooldown from now, after the answer journaled here (a longer hold is never shortened).
    const cooldowns = [
      ...(commit.cooldownFor ? [this.cooldownHold(commit.cooldownFor, 'claim', 'claim')] : []),
      ...(commit.touch ?? []).filter((role) => role !== commit.cooldownFor).map((role) => this.cooldownHold(role, 'touch', 'answered')),
    ];
    const transitionAudit: StreamEntry = { type: 'pair_transition', data: { arbId: next.arbId, from: this.doc.state, to: next.state, rev: this.rev + 1, atMs: nowMs } };
    // A pair with accepted bets stays open until their settlement is scheduled (see releaseAndClose).
    const closes = isPlacementDone(next.state) && next.state !== 'settled' && !needsSettlement(next);
    const guards: SendGuards | undefined = commit.guarded
      ? { killKeys: [...killKeysOf(next), ...pairCircuitKeys(next.pair)], ageBaseMs: ageBaseMs(next), arbAgeMsMax: this.deps.config.arbAgeMsMax }
      : undefined;
    const result = await this.deps.store.transition({
      arbId: next.arbId,
      token: this.token,
      rev: this.rev,
      from: this.doc.state,
      doc: next,
      closes,
      nowMs,
      cooldowns,
      ...(commit.exposure ? { exposure: commit.exposure } : {}),
      ...(guards ? { guards } : {}),
      events: commit.events ?? [],
      audit: [...(commit.audit ?? []), transitionAudit],
    });
    if (result.kind !== 'ok') return result.kind === 'blocked' ? { kind: 'blocked', reason: result.reason, ...(result.circuit ? { circuit: result.circuit } : {}) } : result;
    if (commit.cooldownFor) this.noteCooldownClaimed(commit.cooldownFor, sentMonoMs);
    this.deps.metrics?.eventsWritten(commit.events ?? [], 'placement');
    this.doc = next;
    this.rev = result.rev;
    if (closes) this.released = true; // the closing transition released the lease
    return { kind: 'ok' };
  }

  /** Claims the leg's account cooldown again (a self-transition of the journal); false when another pair holds it. */
  async reclaimCooldown(role: LegRole): Promise<boolean> {
    return this.commit({ doc: this.doc, cooldownFor: role });
  }

  /**
   * Journals one more same-reference send of a placement the bookmaker says it never received. A positive
   * resend re-checks the kill switches, the arb's age and both legs' circuits in the same step (a resent positive
   * starts the pair anew): a blocked resend sends nothing.
   */
  async journalResend(placement: Placement): Promise<ResendJournal> {
    const updated: Placement = { ...placement, sendCount: placement.sendCount + 1, status: 'sending' };
    const doc = replacePlacement(this.doc, updated);
    const result = await this.write({ doc, cooldownFor: placement.role, guarded: placement.role === 'positive', audit: [requestAudit(this.doc, updated)] });
    return result.kind === 'ok' ? { kind: 'ok', placement: updated } : result;
  }

  async auditCall(type: string, placement: Placement, request: Record<string, unknown>, answer: unknown): Promise<void> {
    await this.deps.store.audit([{
      type,
      data: { arbId: this.doc.arbId, role: placement.role, attempt: placement.attempt, provider: placement.provider, request, answer, atMs: this.deps.clock.nowMs() },
    }]);
  }
}

export function replacePlacement(doc: PairDoc, placement: Placement): PairDoc {
  if (placement.role === 'positive') return { ...doc, positive: placement };
  const hedges = doc.hedges.map((h) => (h.attempt === placement.attempt ? placement : h));
  return { ...doc, hedges };
}

/** The audit entry of a placement request, written in the same step that journals its intent. */
export function requestAudit(doc: PairDoc, placement: Placement): StreamEntry {
  return {
    type: 'bookmaker_request',
    data: {
      arbId: doc.arbId, role: placement.role, attempt: placement.attempt, send: placement.sendCount,
      provider: placement.provider, accountId: placement.accountId, clientRef: placement.clientRef,
      stakeMinor: placement.stakeMinor, oddsMilli: placement.oddsMilli,
    },
  };
}
