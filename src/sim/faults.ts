// Scripted faults of the simulated bookmaker: their kinds, wire schema and the FIFO queue that hands them out.
import { z } from 'zod';
import { idLengthMax, oddsMilliMax } from '../providers/protocol.js';

export const simFaultKinds = [
  'reject',
  'error_500',
  'timeout_before_commit',
  'timeout_after_commit',
  'partial',
  'odds_moved',
  'pending_then_accept',
  'pending_then_reject',
  'lookup_error',
  'commit_late',
] as const;
export type SimFaultKind = (typeof simFaultKinds)[number];

/** Faults that hit the transport, not the bookmaker's decision: they also hit a repeated client ref. */
export const transportFaultKinds: readonly SimFaultKind[] = ['error_500', 'timeout_before_commit', 'timeout_after_commit'];
export const placementFaultKinds: readonly SimFaultKind[] = simFaultKinds.filter((kind) => kind !== 'lookup_error');
export const lookupFaultKinds: readonly SimFaultKind[] = ['lookup_error'];

export const hangMsDefault = 30_000;
export const hangMsMax = 600_000;
export const pendingPollsDefault = 2;
/** Most status polls a bet may stay pending for (a test releases such a bet itself: SimBookmaker.releasePending). */
export const pendingPollsMax = 1_000_000;
/** `commit_late`: how long after the request the bookmaker commits the bet it did not answer. */
export const commitDelayMsDefault = 300;
export const faultCountMax = 1_000_000;
export const faultQueueLengthMax = 10_000;

const id = z.string().min(1).max(idLengthMax);

export const faultParamsSchema = z.object({
  reason: z.string().min(1).max(200).optional(),
  hangMs: z.int().min(0).max(hangMsMax).optional(),
  stakeMinor: z.int().positive().optional(),
  oddsMilli: z.int().gt(1000).max(oddsMilliMax).optional(),
  accept: z.boolean().optional(),
  pendingPolls: z.int().min(0).max(pendingPollsMax).optional(),
  /** `commit_late`: the bet is committed this long after the request (default commitDelayMsDefault). */
  delayMs: z.int().min(0).max(hangMsMax).optional(),
  /** Any committing fault: the bet is settled with this result the moment it is committed (a void before our lookup). */
  settleAs: z.enum(['won', 'lost', 'void', 'half_won', 'half_lost']).optional(),
});
export type FaultParams = z.infer<typeof faultParamsSchema>;

export const faultMatchSchema = z.object({ accountId: id.optional(), clientRef: id.optional() });
/** Empty match = any request. */
export type FaultMatch = z.infer<typeof faultMatchSchema>;

export const faultSpecSchema = z.object({
  fault: z.enum(simFaultKinds),
  match: faultMatchSchema.optional(),
  count: z.int().min(1).max(faultCountMax).optional(),
  params: faultParamsSchema.optional(),
});
export type FaultSpec = z.infer<typeof faultSpecSchema>;

export interface QueuedFault {
  id: number;
  fault: SimFaultKind;
  match: FaultMatch;
  /** How many more matching requests this fault will hit. */
  remaining: number;
  params: FaultParams;
}

/** What a request looks like to a fault's match (accountId is unknown for a lookup of an unknown ref). */
export interface FaultTarget {
  accountId: string | undefined;
  clientRef: string;
}

function matches(match: FaultMatch, target: FaultTarget): boolean {
  if (match.accountId !== undefined && match.accountId !== target.accountId) return false;
  if (match.clientRef !== undefined && match.clientRef !== target.clientRef) return false;
  return true;
}

export class FaultQueue {
  private queue: QueuedFault[] = [];
  private nextId = 1;

  add(spec: FaultSpec): QueuedFault {
    const parsed = faultSpecSchema.parse(spec);
    if (this.queue.length >= faultQueueLengthMax) {
      throw new Error(`sim fault queue length (${this.queue.length}) >= faultQueueLengthMax (${faultQueueLengthMax})`);
    }
    const queued: QueuedFault = {
      id: this.nextId++,
      fault: parsed.fault,
      match: parsed.match ?? {},
      remaining: parsed.count ?? 1,
      params: parsed.params ?? {},
    };
    this.queue.push(queued);
    return { ...queued };
  }

  /** Consumes one use of the oldest fault of one of `kinds` that matches `target`, if any. */
  take(kinds: readonly SimFaultKind[], target: FaultTarget): QueuedFault | null {
    const index = this.queue.findIndex((f) => kinds.includes(f.fault) && matches(f.match, target));
    if (index < 0) return null;
    const fault = this.queue[index];
    if (fault === undefined) return null;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.queue.splice(index, 1);
    return { ...fault };
  }

  /** Withdraws a queued fault (tests release a held placement this way); false when it is gone. */
  remove(id: number): boolean {
    const before = this.queue.length;
    this.queue = this.queue.filter((f) => f.id !== id);
    return this.queue.length < before;
  }

  pending(): QueuedFault[] {
    return this.queue.map((f) => ({ ...f, match: { ...f.match }, params: { ...f.params } }));
  }

  clear(): void {
    this.queue = [];
  }
}
