// The review of a pair's exposure after it was raised: what a new reconciliation does to an open or resolved entry.
import type { Minor } from './types.js';
import { assertNever } from './types.js';

/** What a reconciliation (or a lost settlement chain) says about a pair, as far as review is concerned. */
export interface Classification {
  /** The exposure reason, or null when the pair settled as an arb should. */
  exposureReason: string | null;
  /** Realised P&L; null when a result is unknown (a timeout, a lost chain, a placement not yet settled). */
  pnlMinor: Minor | null;
}

/** Where the arb's review entry stands when a new classification arrives. */
export type ReviewState =
  | { kind: 'none' }
  /** An entry awaits review; `current` is what its record says now. */
  | { kind: 'open'; current: Classification }
  /** A person resolved the entry; `reviewed` is what they saw when they did. */
  | { kind: 'resolved'; reviewed: Classification };

export type ReviewAction =
  /** Nothing to review: no exposure, none raised before. */
  | 'none'
  /** A new review entry (and the betPairId blocked): an alert. */
  | 'open'
  /** The open entry's record gets the new information; it stays open. */
  | 'update_open'
  /** The resolution stands; the new information is appended to the resolved record. */
  | 'append_resolved';

export type ReviewEvent = 'exposure_alert' | 'exposure_updated';

export type ReviewDecision =
  | { action: 'none' }
  | { action: 'open'; event: 'exposure_alert' }
  | { action: 'update_open'; event: ReviewEvent }
  | { action: 'append_resolved'; event: 'exposure_updated' };

/**
 * Did the classification get worse than what a person reviewed? Then a resolved exposure is opened again
 * as a new review. "Worse" means money at risk the reviewer did not see:
 * 1. no exposure is never worse;
 * 2. an exposure where the reviewer saw none is worse;
 * 3. both P&Ls known: worse when the realised P&L is lower (more lost, or less won, than reviewed);
 * 4. reviewed P&L known, now unknown: worse (a result the reviewer counted on is in doubt again);
 * 5. reviewed P&L unknown (a placement exposure, a timeout, a lost chain): worse only when the exposure
 *    is of another kind; the same kind, now with its P&L, is the outcome the reviewer accepted.
 */
export function isWorse(reviewed: Classification, now: Classification): boolean {
  if (now.exposureReason === null) return false;
  if (reviewed.exposureReason === null) return true;
  if (reviewed.pnlMinor === null) return now.exposureReason !== reviewed.exposureReason;
  if (now.pnlMinor === null) return true;
  return now.pnlMinor < reviewed.pnlMinor;
}

/**
 * What a new classification does to the arb's review. A resolution stands unless the classification got
 * worse (isWorse). An open entry is updated in place; the update is an alert when it changes to another
 * exposure reason, else an `exposure_updated` (an entry is never closed automatically, even when the new
 * classification has no exposure: a person resolves it).
 */
export function reviewDecision(review: ReviewState, now: Classification): ReviewDecision {
  switch (review.kind) {
    case 'none':
      return now.exposureReason === null ? { action: 'none' } : { action: 'open', event: 'exposure_alert' };
    case 'open': {
      const changed = now.exposureReason !== null && now.exposureReason !== review.current.exposureReason;
      return { action: 'update_open', event: changed ? 'exposure_alert' : 'exposure_updated' };
    }
    case 'resolved':
      return isWorse(review.reviewed, now) ? { action: 'open', event: 'exposure_alert' } : { action: 'append_resolved', event: 'exposure_updated' };
    default:
      return assertNever(review, 'review state');
  }
}

/** One piece of new information about an exposure, appended to its record (`updates`). */
export interface ReviewUpdate {
  at: string;
  /** What brought it: the first reconciliation, a re-settled bet, or a lost settlement chain. */
  source: 'settlement' | 'resettlement' | 'settlement_lost';
  exposure_reason: string | null;
  actual_outcome: string;
  pnl_minor: Minor | null;
  positive_status: string;
  hedge_status: string;
}

/** Updates kept on one record; older ones are dropped (counted) — the audit stream keeps them all. */
export const reviewUpdatesMax = 32;

type JsonRecord = Record<string, unknown>;

function appendUpdate(record: JsonRecord, update: ReviewUpdate): JsonRecord {
  const previous = Array.isArray(record.updates) ? (record.updates as unknown[]) : [];
  const all = [...previous, update];
  const dropped = Math.max(0, all.length - reviewUpdatesMax);
  const droppedBefore = typeof record.updates_dropped === 'number' ? record.updates_dropped : 0;
  return { ...record, updates: all.slice(dropped), ...(dropped + droppedBefore > 0 ? { updates_dropped: dropped + droppedBefore } : {}) };
}

/** The classification an exposure record states (its reason and P&L; P&L absent = unknown). */
export function recordClassification(record: JsonRecord): Classification {
  const reason = record.exposure_reason;
  const pnl = record.pnl_minor;
  return {
    exposureReason: typeof reason === 'string' ? reason : null,
    pnlMinor: typeof pnl === 'number' && Number.isSafeInteger(pnl) ? pnl : null,
  };
}

/** The review state from the raw entries of the open and resolved lists (an open entry wins). */
export function reviewStateOf(open: JsonRecord | null, resolution: JsonRecord | null): ReviewState {
  if (open) return { kind: 'open', current: recordClassification(open) };
  if (resolution) {
    const reviewed = resolution.record;
    return { kind: 'resolved', reviewed: recordClassification(typeof reviewed === 'object' && reviewed !== null ? reviewed as JsonRecord : {}) };
  }
  return { kind: 'none' };
}

/**
 * The open entry's next record: the new record's fields (latest statuses, P&L, tickets), with the first
 * detection time kept, the update appended, and the exposure reason kept when the new classification
 * has none (the entry was raised for it and stays open until a person resolves it).
 */
export function updatedOpenRecord(open: JsonRecord, next: JsonRecord, update: ReviewUpdate): JsonRecord {
  const merged: JsonRecord = {
    ...next,
    exposure_reason: update.exposure_reason ?? open.exposure_reason,
    detected_at: open.detected_at ?? next.detected_at,
    updated_at: update.at,
    updates: open.updates,
    updates_dropped: open.updates_dropped,
  };
  if (merged.updates_dropped === undefined) delete merged.updates_dropped;
  return appendUpdate(merged, update);
}

/** The resolution with the new information appended; what the person resolved stays as it was. */
export function appendedResolution(resolution: JsonRecord, update: ReviewUpdate): JsonRecord {
  return appendUpdate(resolution, update);
}
