// The dead-man's switch conditions (pure): is any worker alive, and has an open exposure waited too long for review.
import type { OpenReview } from './store.js';

export interface ConditionState {
  holds: boolean;
  /** What a person reads in the alert (or the all-clear). */
  detail: string;
}

function ageText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1_000));
  if (s < 120) return `${s} s`;
  if (s < 7_200) return `${Math.round(s / 60)} min`;
  return `${(s / 3_600).toFixed(1)} h`;
}

/**
 * No worker heartbeat newer than `staleMs`. Right after the alerter starts it cannot know how long there
 * has been none (an expired key leaves no trace), so it waits `staleMs` of its own uptime first.
 */
export function workerHeartbeatCondition(beatsMs: readonly number[], nowMs: number, staleMs: number, uptimeMs: number): ConditionState {
  const newestMs = beatsMs.length === 0 ? null : Math.max(...beatsMs);
  const fresh = beatsMs.filter((b) => nowMs - b <= staleMs).length;
  if (fresh > 0) return { holds: false, detail: `${fresh} worker(s) alive (heartbeat within ${ageText(staleMs)})` };
  const seen = newestMs === null
    ? 'no worker heartbeat key (bet-executor:worker:heartbeat:*) at all'
    : `newest worker heartbeat ${new Date(newestMs).toISOString()}, ${ageText(nowMs - newestMs)} ago`;
  return { holds: newestMs !== null || uptimeMs >= staleMs, detail: `${seen}; alive means a heartbeat within ${ageText(staleMs)}` };
}

/** Some open exposure was detected more than `unresolvedMs` ago; the detail names the oldest. */
export function exposureUnresolvedCondition(open: readonly OpenReview[], nowMs: number, unresolvedMs: number): ConditionState {
  const overdue = open.filter((r) => nowMs - r.detectedAtMs > unresolvedMs);
  if (overdue.length === 0) return { holds: false, detail: `${open.length} open exposure(s), none waiting longer than ${ageText(unresolvedMs)}` };
  const oldest = overdue.reduce((a, b) => (b.detectedAtMs < a.detectedAtMs ? b : a));
  const detected = oldest.detectedAtMs === 0 ? 'detected_at unreadable' : `detected ${new Date(oldest.detectedAtMs).toISOString()}, ${ageText(nowMs - oldest.detectedAtMs)} ago`;
  return {
    holds: true,
    detail: `${overdue.length} of ${open.length} open exposure(s) unresolved for more than ${ageText(unresolvedMs)}; oldest: arb ${oldest.id} (${oldest.reason}), ${detected}`,
  };
}
