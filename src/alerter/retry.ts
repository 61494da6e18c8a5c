// When a delivery attempt counts as delivered, when to try again and how long to wait (pure).

/** What a receiver did with one attempt (an HTTP answer, or no answer at all). */
export type AttemptAnswer =
  | { kind: 'answered'; httpStatus: number; retryAfterHeader: string | null; body: string }
  | { kind: 'no_answer'; error: string };

export type AttemptVerdict =
  | { kind: 'delivered' }
  /** Worth another attempt; `retryAfterMs` is the receiver's own wish (429/503), if it said one. */
  | { kind: 'retry'; error: string; retryAfterMs: number | null }
  /** The receiver refuses this alert for good (400, 401, 403, 404, …): retrying cannot help. */
  | { kind: 'refused'; error: string };

/** Statuses after which the same request may well succeed later. */
const retryableStatuses: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

export function verdictOf(answer: AttemptAnswer, nowMs: number): AttemptVerdict {
  if (answer.kind === 'no_answer') return { kind: 'retry', error: answer.error, retryAfterMs: null };
  const status = answer.httpStatus;
  if (status >= 200 && status < 300) return { kind: 'delivered' };
  const error = `HTTP ${status}${answer.body ? `: ${answer.body.slice(0, 200)}` : ''}`;
  if (retryableStatuses.has(status) || status >= 500) {
    const retryAfterMs = status === 429 || status === 503 ? retryAfterOf(answer.retryAfterHeader, answer.body, nowMs) : null;
    return { kind: 'retry', error, retryAfterMs };
  }
  return { kind: 'refused', error: status >= 300 && status < 400 ? `${error} (redirects are not followed: fix the URL)` : error };
}

/**
 * The wait a receiver asks for: the `Retry-After` header (delay-seconds or an HTTP date), else Telegram's
 * `parameters.retry_after` (seconds) in a JSON body. Null when it says nothing usable.
 */
export function retryAfterOf(header: string | null, body: string, nowMs: number): number | null {
  if (header !== null) {
    const trimmed = header.trim();
    if (/^\d{1,10}$/.test(trimmed)) return Number(trimmed) * 1_000;
    const dateMs = Date.parse(trimmed);
    if (Number.isFinite(dateMs)) return Math.max(0, dateMs - nowMs);
  }
  try {
    const parsed = JSON.parse(body) as { parameters?: { retry_after?: unknown } };
    const seconds = parsed.parameters?.retry_after;
    if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) return seconds * 1_000;
  } catch {
    // Not JSON: no hint in the body.
  }
  return null;
}

export interface BackoffLimits {
  backoffBaseMs: number;
  backoffMsMax: number;
  retryAfterMsMax: number;
}

/**
 * Pause before attempt `attempt + 1`: exponential (base × 2^(attempt−1), at most backoffMsMax) with
 * "equal jitter" (half fixed, half random, so alerters retrying together spread out), and never shorter
 * than what the receiver asked for, which is honoured up to retryAfterMsMax. `random` is in [0, 1).
 */
export function retryDelayMs(attempt: number, retryAfterMs: number | null, limits: BackoffLimits, random: number): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const backoffMs = Math.min(limits.backoffMsMax, limits.backoffBaseMs * 2 ** exponent);
  const jitteredMs = Math.round(backoffMs / 2 + (backoffMs / 2) * random);
  if (retryAfterMs === null) return jitteredMs;
  return Math.max(jitteredMs, Math.min(retryAfterMs, limits.retryAfterMsMax));
}
