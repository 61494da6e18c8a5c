// How long an account's cooldown is held, decided in one place: it must outlast, by cooldownMs, the last moment the
// bookmaker could take a request we sent on the account, not only the moment we claimed it.
import { assertNever } from './types.js';

/** What the hold rules need to know; all durations in ms. */
export interface CooldownTimings {
  cooldownMs: number;
  /** The leg's provider's whole-call deadline: a request we send is answered or abandoned within it. */
  requestTimeoutMs: number;
  /** How long after its timeout the bookmaker may still commit a request whose answer was lost (config lateCommitGraceMs). */
  lateCommitGraceMs: number;
  /** Pause between two status polls of a pending bet (config inDoubtPollMs). */
  inDoubtPollMs: number;
}

/** What the executor has just learnt about a request on the account, and so how long the account must stay held. */
export type HoldReason =
  /**
   * About to send: the request may leave up to claimLeadMs later, be answered or abandoned a timeout after that,
   * and, its answer lost, still be committed late up to lateCommitGraceMs after that, even if this worker dies.
   */
  | 'claim'
  /** An answer in hand (accepted, rejected, found settled): the bookmaker took it, if at all, before now. */
  | 'answered'
  /** The bookmaker holds it pending: it may take it at any moment until the next status answer. */
  | 'pending'
  /**
   * A resumed pair: a request its previous holder sent may still be live (pending, or to be committed late). Held
   * like a claim, which outlasts the lookups that find out (the planned hedge's first, up to lateCommitGraceMs).
   */
  | 'resumed';

/**
 * How long after a claim a request may still leave on the strength of it (later, the account is claimed again
 * first). A claim is followed at once by its request; the lead only absorbs a slow Redis reply or a busy event
 * loop. It is bounded by a third of the cooldown (short cooldowns stay short) and by the request timeout (a
 * claim never holds an account longer than cooldownMs + two timeouts + the late-commit grace).
 */
export function claimLeadMs(t: Pick<CooldownTimings, 'cooldownMs' | 'requestTimeoutMs'>): number {
  return Math.max(1, Math.min(Math.floor(t.cooldownMs / 3), t.requestTimeoutMs));
}

/**
 * The hold, from now, that the account's cooldown key must have at least (a longer hold is never shortened):
 * cooldownMs after the last moment the bookmaker could take the request, as far as `reason` tells.
 */
export function cooldownHoldMs(reason: HoldReason, t: CooldownTimings): number {
  switch (reason) {
    case 'claim':
    case 'resumed': return t.cooldownMs + claimLeadMs(t) + t.requestTimeoutMs + t.lateCommitGraceMs;
    case 'answered': return t.cooldownMs;
    // Until the next status answer (a poll pause and one call, with the lead as slack for the Redis steps).
    case 'pending': return t.cooldownMs + claimLeadMs(t) + t.inDoubtPollMs + t.requestTimeoutMs;
    default: return assertNever(reason, 'hold reason');
  }
}
