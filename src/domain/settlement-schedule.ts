// The adaptive settlement schedule of a batch-capable bookmaker's account: when to poll it next, and when a bet's
// polling ends. Pure: times come in as arguments.

export interface SchedulePolicy {
  /** The base interval: an account is polled this often while results are likely. */
  pollIntervalMs: number;
  /** How long results stay likely once they become so (the event's expected end, or the bet's registration). */
  fastWindowMs: number;
  /** Longest pause between two polls of an account while no result is likely. */
  backoffMaxMs: number;
  /** A bet's polling budget, in time, from when its results become likely (see ticketDeadlineMs). */
  deadlineMs: number;
}

/** What the schedule knows of an account: the union of its open bets' fast windows, and its polls that found nothing. */
export interface AccountWindow {
  /** Earliest time any of its open bets' results became likely (unix ms). */
  hotFromMs: number;
  /** Latest end of any open bet's fast window (unix ms). */
  hotUntilMs: number;
  /** Polls in a row, outside the fast window, that found no result. */
  idlePolls: number;
}

/** When a bet's results become likely: its event's expected end when the scanner gave one, else when its polling began. */
export function likelyFromMs(registeredAtMs: number, expectedEndAtMs: number | null): number {
  return expectedEndAtMs === null ? registeredAtMs : Math.max(registeredAtMs, expectedEndAtMs);
}

/** The fast window of one bet: [likelyFrom, likelyFrom + fastWindowMs]. */
export function betWindow(registeredAtMs: number, expectedEndAtMs: number | null, policy: SchedulePolicy): { fromMs: number; untilMs: number } {
  const fromMs = likelyFromMs(registeredAtMs, expectedEndAtMs);
  return { fromMs, untilMs: fromMs + policy.fastWindowMs };
}

/** When a bet with no result counts as `timeout`: the budget runs from when its results became likely. */
export function ticketDeadlineMs(registeredAtMs: number, expectedEndAtMs: number | null, policy: SchedulePolicy): number {
  return likelyFromMs(registeredAtMs, expectedEndAtMs) + policy.deadlineMs;
}

/** An account's window after one more bet opened on it (the union's hull: it may cover gaps, never misses a window). */
export function widenWindow(window: AccountWindow | null, bet: { fromMs: number; untilMs: number }): AccountWindow {
  if (window === null) return { hotFromMs: bet.fromMs, hotUntilMs: bet.untilMs, idlePolls: 0 };
  return { hotFromMs: Math.min(window.hotFromMs, bet.fromMs), hotUntilMs: Math.max(window.hotUntilMs, bet.untilMs), idlePolls: 0 };
}

/**
 * When to poll an account next, after a poll at `nowMs` that found `found` results of open bets:
 * - inside the fast window, or right after a result (more of the same event may follow): one interval;
 * - otherwise back off: interval × 2^idlePolls, at most backoffMaxMs, but never past the start of the fast
 *   window when it is still ahead.
 * (The store also never schedules it past its earliest bet deadline.)
 */
export function nextAccountPoll(nowMs: number, window: AccountWindow, found: number, policy: SchedulePolicy): { atMs: number; idlePolls: number } {
  const hot = nowMs >= window.hotFromMs && nowMs <= window.hotUntilMs;
  if (hot || found > 0) return { atMs: nowMs + policy.pollIntervalMs, idlePolls: 0 };
  const idlePolls = Math.min(window.idlePolls + 1, 52);
  const backoffMs = Math.min(policy.backoffMaxMs, policy.pollIntervalMs * 2 ** window.idlePolls);
  let atMs = nowMs + backoffMs;
  if (nowMs < window.hotFromMs) atMs = Math.min(atMs, window.hotFromMs);
  return { atMs: Math.max(atMs, nowMs + 1), idlePolls };
}
