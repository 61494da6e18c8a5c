// What the safety checks read at the end of a run: the simulators' logs and bets, and the executor's records in Redis.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { decodePairDoc } from '../domain/pair-codec.js';
import type { SimServer } from '../sim/server.js';
import { auditStream, eventsStream, keys } from '../store/keys.js';
import { readStream } from '../store/store.js';
import { betFacts, checkHedgeAfterPositive, checkNoDoublePlacement, type InvariantResult } from './invariants.js';
import type { BookSnapshot, ChaosSnapshot, JournalDoc, JournalPlacement, PairPlan, SimBetFinal } from './snapshot.js';

/**
 * One simulator's log and the final state of every bet it holds. `lateDelays`: the `commit_late` delay per
 * client reference (such a bet is committed that long after its request is logged).
 */
export function bookSnapshot(book: SimServer, lateDelays: ReadonlyMap<string, number> = new Map()): BookSnapshot {
  const log = book.bookmaker.log();
  const bets: SimBetFinal[] = [];
  const seen = new Set<string>();
  for (const entry of log) {
    const ticketId = entry.ticketId;
    if (ticketId === undefined || seen.has(ticketId)) continue;
    seen.add(ticketId);
    const found = book.bookmaker.status(ticketId);
    if (found.kind !== 'found') continue;
    const b = found.bet;
    const bet: SimBetFinal = { clientRef: b.clientRef, ticketId, accountId: b.accountId, status: b.status, stakeMinor: b.stakeMinor, oddsMilli: b.oddsMilli };
    if (b.settledAtMs !== undefined) bet.settledAtMs = b.settledAtMs;
    if (b.acceptedAtMs !== undefined) bet.acceptedAtMs = b.acceptedAtMs;
    if (entry.decision === 'commit_late') bet.committedAtMs = entry.atMs + (lateDelays.get(entry.clientRef) ?? 0);
    bets.push(bet);
  }
  return { name: book.bookmaker.name, log, bets };
}

/**
 * The safety checks that need only the bookmakers' side (the demo, the tests and the chaos run all use them):
 * invariant 1 (one accepted bet per client reference and per leg) and 2 (no hedge before its positive).
 */
export function bookmakerSafetyChecks(books: readonly SimServer[]): InvariantResult[] {
  const snapshot: Pick<ChaosSnapshot, 'books'> = { books: books.map((b) => bookSnapshot(b)) };
  const bets = betFacts(snapshot);
  return [checkNoDoublePlacement(bets), checkHedgeAfterPositive(snapshot, bets)];
}

function journalPlacement(raw: unknown): JournalPlacement | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const p = raw as Record<string, unknown>;
  const placement: JournalPlacement = { role: String(p.role), attempt: Number(p.attempt), clientRef: String(p.clientRef), provider: String(p.provider), status: String(p.status) };
  if (typeof p.ticketId === 'string') placement.ticketId = p.ticketId;
  return placement;
}

/** Journal states and placements of every planned arb, in one pipeline. */
async function readJournals(redis: Redis, plans: readonly PairPlan[]): Promise<{ states: Record<string, string>; docs: Record<string, JournalDoc> }> {
  const pipeline = redis.pipeline();
  for (const p of plans) pipeline.hmget(keys.pair(p.arbId), 'state', 'doc');
  const replies = (await pipeline.exec()) ?? [];
  const states: Record<string, string> = {};
  const docs: Record<string, JournalDoc> = {};
  plans.forEach((plan, i) => {
    const [state, doc] = (replies[i]?.[1] ?? [null, null]) as [string | null, string | null];
    if (state !== null) states[plan.arbId] = state;
    if (doc === null) return;
    const parsed: { state?: unknown; positive?: unknown; hedges?: unknown } = decodePairDoc(doc);
    const hedges = Array.isArray(parsed.hedges) ? parsed.hedges.map(journalPlacement).filter((h): h is JournalPlacement => h !== null) : [];
    docs[plan.arbId] = { state: String(parsed.state ?? state), positive: journalPlacement(parsed.positive), hedges };
  });
  return { states, docs };
}

async function readHash(redis: Redis, key: string): Promise<Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [id, json] of Object.entries(await redis.hgetall(key))) out[id] = JSON.parse(json) as Record<string, unknown>;
  return out;
}

export type ExecutorRecords = Pick<ChaosSnapshot, 'journalStates' | 'journalDocs' | 'exposureKeys' | 'reviewOpen' | 'reviewResolved' | 'events' | 'audit' | 'queueCounts'>;

/** The executor's side of a snapshot: journals of the planned arbs, exposures, review list, streams, queue counts. */
export async function executorRecords(redis: Redis, plans: readonly PairPlan[], queueNames: readonly string[]): Promise<ExecutorRecords> {
  const journals = await readJournals(redis, plans);
  const exposureKeys: Record<string, Record<string, unknown>> = {};
  for (const key of await redis.keys('exposure:*')) exposureKeys[key] = JSON.parse((await redis.get(key)) ?? '{}') as Record<string, unknown>;
  const queueCounts: Record<string, Record<string, number>> = {};
  for (const name of queueNames) {
    const q = new Queue(name, { connection: redis });
    queueCounts[name] = await q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
    await q.close();
  }
  return {
    journalStates: journals.states,
    journalDocs: journals.docs,
    exposureKeys,
    reviewOpen: await readHash(redis, keys.reviewOpen),
    reviewResolved: await readHash(redis, keys.reviewResolved),
    events: await readStream(redis, eventsStream, 10_000_000),
    audit: await readStream(redis, auditStream, 10_000_000),
    queueCounts,
  };
}
