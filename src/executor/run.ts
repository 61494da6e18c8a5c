// One worker's hold on one pair: the lease (renewed in the background), the journal revision, fenced writes.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { assertTransition, isPlacementDone, type PairDoc, type Placement } from '../domain/pair.js';
import type { LegRole } from '../domain/types.js';
import type { Provider } from '../providers/provider.js';
import { keys } from '../store/keys.js';
import { FencedError, type ExposureWrite, type Store, type StreamEntry } from '../store/store.js';

export type CrashPoint =
  | 'claimed'
  | 'positive_intent_journaled'
  | 'positive_answered'
  | 'positive_journaled'
  | 'hedge_answered'
  | 'hedge_journaled'
  | 'settlement_scheduled';

export const crashPoints: readonly CrashPoint[] = [
  'claimed', 'positive_intent_journaled', 'positive_answered', 'positive_journaled', 'hedge_answered', 'hedge_journaled', 'settlement_scheduled',
];

/** Measures the leg window (positive's answer parsed → hedge request sent) for the benchmark. */
export interface LegWindowProbe {
  answerParsed(arbId: string, role: LegRole): void;
  requestSent(arbId: string, role: LegRole): void;
}

/** The seam to settlement: an accepted pair schedules its settlement polling (idempotent). */
export interface SettlementScheduler {
  ensureScheduled(doc: PairDoc): Promise<void>;
}

export interface ExecutorDeps {
  config: Config;
  store: Store;
  providers: ReadonlyMap<string, Provider>;
  clock: { nowMs(): number };
  sleep(ms: number): Promise<void>;
  settlement: SettlementScheduler;
  probe?: LegWindowProbe;
  crashPoint(point: CrashPoint): void;
  log: Logger;
}

export interface Commit {
  doc: PairDoc;
  events?: StreamEntry[];
  audit?: StreamEntry[];
  /** The account of this leg is about to be bet on: refresh its cooldown (refused if another pair holds it). */
  cooldownFor?: LegRole;
  /**
   * The accounts of these legs were just bet on (their answer is journaled here): start their cooldown
   * again from now, after the bookmaker has seen the request, so the next pair's bet is a full cooldown later.
   */
  touch?: LegRole[];
  exposure?: ExposureWrite;
}

export class PairRun {
  readonly startedAtMs: number;
  private heartbeat: NodeJS.Timeout | undefined;
  private leaseLost = false;
  private released = false;
  /** When the last successful claim or renewal was sent: the lease is ours until this + lockTtlMs. */
  private leaseRenewedAtMs: number;
  /** Client reference journaled by this run and not sent yet: it may be sent without a lookup. */
  freshRef: string | null = null;
  /** When this run last claimed or refreshed each leg's account cooldown (sent time of the Redis step). */
  private cooldownClaimedAtMs: Partial<Record<LegRole, number>> = {};

  constructor(readonly deps: ExecutorDeps, public doc: PairDoc, public rev: number, readonly token: string) {
    this.startedAtMs = deps.clock.nowMs();
    this.leaseRenewedAtMs = this.startedAtMs;
  }

  noteCooldownClaimed(role: LegRole, atMs: number): void {
    this.cooldownClaimedAtMs[role] = atMs;
  }

  /**
   * True while this run's claim on the leg's account cooldown is known to be alive with a third of it to
   * spare: nobody else can hold the account meanwhile, so a request may leave without another Redis check.
   */
  cooldownFresh(role: LegRole): boolean {
    const claimedAtMs = this.cooldownClaimedAtMs[role];
    const { cooldownMs } = this.deps.config;
    return claimedAtMs !== undefined && this.deps.clock.nowMs() < claimedAtMs + cooldownMs - Math.floor(cooldownMs / 3);
  }

  /** True while the lease is ours with a third of its TTL to spare, by this process's own clock. */
  leaseFresh(): boolean {
    const { lockTtlMs } = this.deps.config;
    return !this.leaseLost && this.deps.clock.nowMs() < this.leaseRenewedAtMs + lockTtlMs - Math.floor(lockTtlMs / 3);
  }

  /**
   * Called right before every bookmaker request: a worker that was frozen or lost its lease must not
   * send. When the lease is not known fresh it is renewed first; a refused renewal fences this worker out.
   */
  async ensureLease(): Promise<void> {
    if (this.leaseFresh()) return;
    const sentAtMs = this.deps.clock.nowMs();
    const ok = await this.deps.store.renewLease(this.doc.arbId, this.token, this.deps.config.lockTtlMs);
    if (!ok) {
      this.leaseLost = true;
      throw new FencedError(`lease on ${this.doc.arbId} lost before a bookmaker request`);
    }
    this.leaseRenewedAtMs = sentAtMs;
  }

  startHeartbeat(): void {
    const { store, config } = this.deps;
    const everyMs = Math.max(1, Math.floor(config.lockTtlMs / 3));
    this.heartbeat = setInterval(() => {
      const sentAtMs = this.deps.clock.nowMs();
      store.renewLease(this.doc.arbId, this.token, config.lockTtlMs).then(
        (ok) => {
          if (ok) this.leaseRenewedAtMs = Math.max(this.leaseRenewedAtMs, sentAtMs);
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
    if (this.leaseLost) throw new FencedError(`lease on ${this.doc.arbId} lost`);
    assertTransition(this.doc.state, commit.doc.state);
    const nowMs = this.deps.clock.nowMs();
    const next: PairDoc = { ...commit.doc, updatedAtMs: nowMs };
    const cooldownOf = (role: LegRole, mode: 'claim' | 'touch') => {
      const leg = next.pair[role];
      return { key: keys.cooldown(leg.whitelabel, leg.provider, leg.accountId), ownerKey: keys.cooldownOwner(leg.whitelabel, leg.provider, leg.accountId), mode };
    };
    const cooldowns = [
      ...(commit.cooldownFor ? [cooldownOf(commit.cooldownFor, 'claim')] : []),
      ...(commit.touch ?? []).filter((role) => role !== commit.cooldownFor).map((role) => cooldownOf(role, 'touch')),
    ];
    const transitionAudit: StreamEntry = { type: 'pair_transition', data: { arbId: next.arbId, from: this.doc.state, to: next.state, rev: this.rev + 1, atMs: nowMs } };
    // Accepted pairs stay open until their settlement is scheduled (see releaseAndClose).
    const closes = isPlacementDone(next.state) && !['hedged', 'hedge_failed', 'hedge_in_doubt'].includes(next.state);
    const result = await this.deps.store.transition({
      arbId: next.arbId,
      token: this.token,
      rev: this.rev,
      doc: next,
      closes,
      nowMs,
      cooldowns,
      cooldownMs: this.deps.config.cooldownMs,
      ...(commit.exposure ? { exposure: commit.exposure } : {}),
      events: commit.events ?? [],
      audit: [...(commit.audit ?? []), transitionAudit],
    });
    if (result.kind === 'cooldown_conflict') return false;
    if (commit.cooldownFor) this.noteCooldownClaimed(commit.cooldownFor, nowMs);
    this.doc = next;
    this.rev = result.rev;
    if (closes) this.released = true; // the closing transition released the lease
    return true;
  }

  /** Journals one more same-reference send of a placement the bookmaker says it never received. */
  async journalResend(placement: Placement): Promise<Placement | null> {
    const updated: Placement = { ...placement, sendCount: placement.sendCount + 1, status: 'sending' };
    const doc = replacePlacement(this.doc, updated);
    const ok = await this.commit({ doc, cooldownFor: placement.role, audit: [requestAudit(this.doc, updated)] });
    return ok ? updated : null;
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
