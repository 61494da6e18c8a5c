// What the audit reads to judge: pairs it makes, the simulators' own logs, Redis keys and the streams.
import type { SimLogEntry, SimLookupEntry } from '../sim/bookmaker.js';
import type { FaultSpec } from '../sim/faults.js';
import type { SimServer } from '../sim/server.js';
import type { FinalBetStatus } from '../domain/types.js';
import { pairFixture, type PairLegs } from '../rig/pairs.js';
import type { StreamRow, World } from './world.js';

let counter = 0;

export interface AuditPair extends Record<string, unknown> {
  arbId: string;
  betPairId: string;
  whitelabel: string;
  positiveBet: Record<string, unknown> & { accountId: string; provider: string };
  hedgeBet: Record<string, unknown> & { accountId: string; provider: string };
}

/** A valid arb on fresh accounts of bookA (positive) and bookB (hedge): the rig's pair (src/rig/pairs.ts). */
export function makePair(tag: string, legs: PairLegs = {}, overrides: Record<string, unknown> = {}): AuditPair {
  counter++;
  return pairFixture(`${tag}-${counter}`, legs, overrides) as AuditPair;
}

/** The simulator's log of one arb's placements (client references `be1.{arbId}.…` name the arb). */
export function simEntries(book: SimServer, arbId: string): SimLogEntry[] {
  return book.bookmaker.log().filter((e) => e.clientRef.split('.')[1] === arbId);
}

export function simLookups(book: SimServer, arbId: string): SimLookupEntry[] {
  return book.bookmaker.lookupLog().filter((e) => e.clientRef.split('.')[1] === arbId);
}

/** Decisions that leave a live bet at the bookmaker. */
export function tookBet(e: SimLogEntry): boolean {
  return e.decision === 'accepted' || e.decision === 'timeout_after_commit' || e.decision === 'pending';
}

export function fault(book: SimServer, spec: FaultSpec): void {
  book.bookmaker.addFault(spec);
}

/** Settles the bet the bookmaker holds under `clientRef` (true when it was there and accepted). */
export function settle(book: SimServer, clientRef: string, result: FinalBetStatus): boolean {
  return book.bookmaker.settle(clientRef, result).kind === 'settled';
}

export function eventsOf(rows: StreamRow[], arbId: string, type?: string): StreamRow[] {
  return rows.filter((e) => e.data.arbId === arbId && (type === undefined || e.type === type));
}

/** The Redis time (ms) a stream entry was written, from its id. */
export function entryMs(row: StreamRow): number {
  return Number(row.id.split('-')[0]);
}

/** How long after its jobs finished an outcome event may still come before the audit stops waiting for it. */
const afterJobsMs = 1_500;

/**
 * Waits for one of `types` for the arb; null when it does not come in time (the item then fails). With
 * `untilJobsFinish`, stops waiting once every job of the arb has finished in BullMQ and nothing came since: an
 * executor that writes no events (the naive one) is judged in seconds, not at every timeout.
 */
export async function eventFor(world: World, arbId: string, types: string[], timeoutMs = 10_000, untilJobsFinish = false): Promise<StreamRow | null> {
  let finishedAtMs: number | null = null;
  try {
    return await world.waitFor(`${types.join('|')} for ${arbId}`, async () => {
      const found = (await world.events()).find((e) => e.data.arbId === arbId && types.includes(e.type));
      if (found || !untilJobsFinish) return found;
      if (finishedAtMs === null && await world.jobsFinished(arbId)) finishedAtMs = Date.now();
      if (finishedAtMs !== null && Date.now() - finishedAtMs > afterJobsMs) throw new Error(`jobs of ${arbId} finished without ${types.join('|')}`);
      return undefined;
    }, timeoutMs);
  } catch {
    return null;
  }
}

/** Waits until the probe holds; false when it does not in time. */
export async function until(world: World, what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<boolean> {
  try {
    await world.waitFor(what, async () => probe(), timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/** An outcome event in a few words: its type and its reason (the exposure's, for an alert). */
export function describe(row: StreamRow | null | undefined): string {
  if (!row) return 'no outcome';
  const reason = row.data.exposure_reason ?? row.data.reason;
  return reason === undefined ? row.type : `${row.type} ${String(reason)}`;
}

export const terminalTypes = ['arb_executed', 'arb_failed', 'arb_blocked', 'arb_rejected', 'exposure_alert'];

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
