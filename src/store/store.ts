// The Redis adapter of the executor: fenced journal, preflight claim, leases, events and audit trail.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis, type RedisOptions } from 'ioredis';
import type { PairDoc, PairState } from '../domain/pair.js';
import { decodePairDoc, encodePairDoc } from '../domain/pair-codec.js';
import type { ReviewAction } from '../domain/review.js';
import { accountCircuit, formatCircuitScope, providerCircuit } from '../domain/circuit.js';
import { assertNever } from '../domain/types.js';
import { luaCodeTable, replyName } from './codes.js';
import { auditStream, circuitKeys, eventsStream, keys, opsKeys } from './keys.js';

const luaDir = join(dirname(fileURLToPath(import.meta.url)), 'lua');
const luaFile = (name: string) => readFileSync(join(luaDir, `${name}.lua`), 'utf8');
/** Every script starts with the reply codes and the shared fenced write path (fence.lua). */
const prelude = luaCodeTable() + luaFile('fence');
const lua = (name: string) => prelude + luaFile(name);
/** The two steps that run the preflight's guards share them (guards.lua). */
const guardedLua = (name: string) => prelude + luaFile('guards') + luaFile(name);
/** Scripts that write an arb's review entry add the review prelude (review.lua). */
const reviewLua = (name: string) => prelude + luaFile('review') + luaFile(name);

export interface StreamEntry {
  type: string;
  data: Record<string, unknown>;
}

/** The lease was lost or the journal moved on: this worker must stop touching the pair. */
export class FencedError extends Error {
  override name = 'FencedError';
}

/** Fewer replicas than journalReplicasMin acknowledged the journal in time: the request was not sent. */
export class JournalNotReplicatedError extends Error {
  override name = 'JournalNotReplicatedError';
}

export type ClaimResult =
  /** Another worker holds the lease; `jobId` is the job that created the journal (null if none yet). */
  | { kind: 'busy'; jobId: string | null }
  /**
   * The journal was created (state received). With a preflight asked, `blocked` says which guard refused the
   * pair (nothing claimed, no intent): the caller journals the block.
   */
  | { kind: 'created'; rev: number; doc: PairDoc; blocked?: { reason: BlockReason; remainingMs: number; circuit?: string } }
  /** The journal was created and the preflight passed in the same step: state positive_placing, its doc journaled. */
  | { kind: 'started'; rev: number; doc: PairDoc }
  | { kind: 'existing'; rev: number; doc: PairDoc };

export type PreflightResult =
  | { kind: 'passed'; rev: number }
  | { kind: 'blocked'; reason: BlockReason; remainingMs: number; circuit?: string };

export type BlockReason = 'kill_switch' | 'created_at_in_future' | 'stale' | 'exposure_open' | 'circuit_open' | 'cooldown' | 'rate_limit';

/** The circuit keys a pair needs closed: both legs' bookmakers and both legs' accounts (src/store/lua/circuit.lua). */
export function pairCircuitKeys(pair: { positive: { provider: string; accountId: string }; hedge: { provider: string; accountId: string } }): string[] {
  const { positive: p, hedge: h } = pair;
  return [providerCircuit(p.provider), providerCircuit(h.provider), accountCircuit(p.provider, p.accountId), accountCircuit(h.provider, h.accountId)]
    .map((scope) => circuitKeys.circuit(formatCircuitScope(scope)));
}

/** A blocked reply's fields: reason, time left, and the circuit's scope when a circuit refused. */
function blockedOf(reply: Reply): { kind: 'blocked'; reason: BlockReason; remainingMs: number; circuit?: string } {
  const reason = String(reply[1]) as BlockReason;
  return { kind: 'blocked', reason, remainingMs: Number(reply[2]), ...(reason === 'circuit_open' ? { circuit: String(reply[3] ?? '') } : {}) };
}

export interface ExposureWrite {
  /** The contract key exposure:{whitelabel}:{positiveProvider}:{betPairId} (24 h TTL). */
  key: string;
  record: Record<string, unknown>;
  ttlMs: number;
  /** Field of the durable review hash: the arbId (two arbs of one betPairId are two reviews). */
  reviewId: string;
  /** Set of the betPairId's arbIds with an open review: blocks new arbs of the betPairId while not empty. */
  reviewSetKey: string;
}

/** Guards re-checked in the same step that journals a positive send that is not the first, fresh one. */
export interface SendGuards {
  /** Kill switches that apply to the leg (global, its provider, its account), and the pair's circuits (pairCircuitKeys). */
  killKeys: string[];
  /** The arb's age runs from here (the earlier of createdAt and the enqueue time); null = unknown. */
  ageBaseMs: number | null;
  arbAgeMsMax: number;
}

export interface TransitionWrite {
  arbId: string;
  token: string;
  rev: number;
  /** The state the journal must be in: the write is refused otherwise (a stale or confused writer). */
  from: PairState;
  doc: PairDoc;
  /** The pair leaves the set of open pairs (nothing more will happen to it). */
  closes: boolean;
  nowMs: number;
  /**
   * Cooldowns held with this step: `claim` for an account about to be bet on (the whole step is refused when
   * another pair holds it), `touch` for one just bet on (skipped if another pair holds it). Each is held at
   * least `holdMs` from now; a longer hold is never shortened.
   */
  cooldowns?: CooldownHold[];
  exposure?: ExposureWrite;
  guards?: SendGuards;
  events?: StreamEntry[];
  audit?: StreamEntry[];
}

/** One account's cooldown held by a transition (see domain/cooldown.ts for how long). */
export interface CooldownHold {
  key: string;
  ownerKey: string;
  mode: 'claim' | 'touch';
  holdMs: number;
}

export type TransitionResult =
  | { kind: 'ok'; rev: number }
  | { kind: 'cooldown_conflict' }
  | { kind: 'blocked'; reason: BlockReason; remainingMs: number; circuit?: string };

/** What the preflight checks, claims and journals: run by claim() on a journal it creates, or by preflight(). */
export interface PreflightPlan {
  /** The doc journaled when every guard passes (state positive_placing). */
  doc: PairDoc;
  nowMs: number;
  /** How long each leg's account is held from the claim: cooldownMs after its request could last be taken. */
  cooldownHoldMs: { positive: number; hedge: number };
  /** The earlier of createdAt and the enqueue time: the arb's age runs from here (null = unknown). */
  ageBaseMs: number | null;
  arbAgeMsMax: number;
  /** createdAt as the scanner stamped it, checked against Redis time (null = not given). */
  createdAtMs: number | null;
  createdAtSkewMsMax: number;
  rateLimit: { placementsMax: number; windowMs: number };
  audit: StreamEntry[];
}

export interface PreflightWrite extends PreflightPlan {
  arbId: string;
  token: string;
  rev: number;
}

type Reply = [number, (string | number | null)?, (string | number)?, (string | number)?, (string | number)?, (string | number | null)?];

/** How many keys and arguments the preflight's guards take (guards.lua: guardKeyCount, guardArgCount). */
const guardKeyCount = 17;

/** The guards' keys, in guards.lua's layout: kill switches, cooldowns, their owners, rate windows, open reviews. */
function guardKeys(doc: PairDoc): string[] {
  const { pair } = doc;
  const p = pair.positive;
  const h = pair.hedge;
  return [
    keys.killGlobal, keys.killProvider(p.provider), keys.killProvider(h.provider),
    keys.killAccount(p.whitelabel, p.provider, p.accountId), keys.killAccount(h.whitelabel, h.provider, h.accountId),
    keys.cooldown(p.whitelabel, p.provider, p.accountId), keys.cooldown(h.whitelabel, h.provider, h.accountId),
    keys.cooldownOwner(p.whitelabel, p.provider, p.accountId), keys.cooldownOwner(h.whitelabel, h.provider, h.accountId),
    keys.rate(p.whitelabel, p.provider, p.accountId), keys.rate(h.whitelabel, h.provider, h.accountId),
    keys.exposure(pair.whitelabel, p.provider, pair.betPairId), keys.reviewByPair(pair.whitelabel, p.provider, pair.betPairId),
    ...pairCircuitKeys(pair),
  ];
}

/** The guards' arguments, in guards.lua's layout (guardArgCount of them). */
function guardArgs(plan: PreflightPlan): Array<string | number> {
  return [
    plan.cooldownHoldMs.positive, plan.cooldownHoldMs.hedge, plan.ageBaseMs ?? '', plan.arbAgeMsMax,
    plan.createdAtMs ?? '', plan.createdAtSkewMsMax, plan.rateLimit.placementsMax, plan.rateLimit.windowMs,
  ];
}

/** A count, then each entry's (type, data JSON). */
function entryArgs(entries: readonly StreamEntry[]): Array<string | number> {
  return [entries.length, ...entries.flatMap((e) => [e.type, JSON.stringify(e.data)])];
}

interface ScriptedRedis extends Redis {
  beClaim(...args: (string | number)[]): Promise<Reply>;
  beLease(...args: (string | number)[]): Promise<number>;
  beTransition(...args: (string | number)[]): Promise<Reply>;
  bePreflight(...args: (string | number)[]): Promise<Reply>;
  beSettleBet(...args: (string | number)[]): Promise<[number, number]>;
  beReconcile(...args: (string | number)[]): Promise<Reply>;
  beResettleBet(...args: (string | number)[]): Promise<number>;
  beReviewWrite(...args: (string | number)[]): Promise<Reply>;
  beResolveExposure(...args: (string | number)[]): Promise<number>;
  beHoldCooldown(...args: (string | number)[]): Promise<number>;
}

/** An arb's review entries as last read ('' = absent): a review write goes through only if they are unchanged. */
export interface ReviewEntries {
  open: string;
  resolved: string;
}

/** A review decision (src/domain/review.ts) to apply: the JSON goes to the open or resolved entry as `action` says. */
export interface ReviewWrite {
  action: ReviewAction;
  /** The contract key exposure:{whitelabel}:{positiveProvider}:{betPairId}. */
  key: string;
  /** The open entry's record (open, update_open) or the resolution with the update appended (append_resolved). */
  json: string;
  ttlMs: number;
  reviewSetKey: string;
  /** What the decision was taken on. */
  seen: ReviewEntries;
}

export interface ReconcileWrite {
  arbId: string;
  rev: number;
  /** The journal's state the classification was computed from (a placement end state, or settled). */
  from: PairState;
  doc: PairDoc;
  review: ReviewWrite | null;
  events: StreamEntry[];
}

/** Most pairs the API's list (opsKeys.pairsByCreated) keeps; it also drops pairs older than their journal TTL. */
export const pairsIndexLenMax = 5_000_000;

/** Store connection options: fail fast and closed when Redis is away (no endless offline queue). */
export function storeRedisOptions(): RedisOptions {
  return { maxRetriesPerRequest: 1, commandTimeout: 3_000, enableAutoPipelining: true };
}

export class Store {
  readonly redis: ScriptedRedis;

  constructor(redis: Redis, private readonly eventsLenMax: number) {
    // numberOfKeys left out: 4 for a claim alone, 18 with the preflight.
    redis.defineCommand('beClaim', { lua: guardedLua('claim') });
    redis.defineCommand('beLease', { numberOfKeys: 2, lua: lua('lease') });
    // numberOfKeys left out: the caller passes it (the cooldown keys vary).
    redis.defineCommand('beTransition', { lua: lua('transition') });
    redis.defineCommand('bePreflight', { numberOfKeys: 4 + guardKeyCount, lua: guardedLua('preflight') });
    redis.defineCommand('beSettleBet', { numberOfKeys: 3, lua: lua('settle_bet') });
    redis.defineCommand('beReconcile', { numberOfKeys: 8, lua: reviewLua('reconcile') });
    redis.defineCommand('beResettleBet', { numberOfKeys: 3, lua: lua('resettle_bet') });
    redis.defineCommand('beReviewWrite', { numberOfKeys: 7, lua: reviewLua('review_write') });
    redis.defineCommand('beResolveExposure', { numberOfKeys: 5, lua: lua('resolve_exposure') });
    redis.defineCommand('beHoldCooldown', { numberOfKeys: 3, lua: lua('hold_cooldown') });
    this.redis = redis as ScriptedRedis;
  }

  /**
   * Takes the lease on a pair and loads or creates its journal, in one step. With a preflight plan, a journal
   * created here is also preflighted in that step (guards, both accounts claimed, the positive's intent
   * journaled): `started` means the positive may leave now, with no other Redis round trip.
   */
  async claim(arbId: string, token: string, leaseMs: number, initial: PairDoc, recordTtlMs: number, preflight?: PreflightPlan): Promise<ClaimResult> {
    const base = [keys.pair(arbId), keys.lease(arbId), keys.openPairs, opsKeys.pairsByCreated];
    const args = [token, leaseMs, encodePairDoc(initial), initial.createdAtMs, recordTtlMs, arbId, initial.jobId, pairsIndexLenMax];
    const reply = preflight === undefined
      ? await this.redis.beClaim(base.length, ...base, ...args, '0')
      : await this.redis.beClaim(
        base.length + 1 + guardKeyCount, ...base, auditStream, ...guardKeys(preflight.doc),
        ...args, '1', ...guardArgs(preflight), encodePairDoc(preflight.doc), ...entryArgs(preflight.audit),
      );
    const code = replyName(reply, 'claim', ['busy', 'created', 'existing', 'ok']);
    if (code === 'busy') return { kind: 'busy', jobId: typeof reply[1] === 'string' ? reply[1] : null };
    const rev = Number(reply[1]);
    if (code === 'ok') {
      if (preflight === undefined) throw new Error('invariant violated: claim.lua passed a preflight it was not asked for');
      return { kind: 'started', rev, doc: preflight.doc };
    }
    const doc = decodePairDoc(String(reply[2]));
    if (code === 'existing') return { kind: 'existing', rev, doc };
    const [, , , reason, remainingMs, circuit] = reply;
    if (reason === undefined || reason === null) return { kind: 'created', rev, doc };
    const blocked = { reason: String(reason) as BlockReason, remainingMs: Number(remainingMs) };
    return { kind: 'created', rev, doc, blocked: typeof circuit === 'string' ? { ...blocked, circuit } : blocked };
  }

  /**
   * `WAIT replicas timeoutMs`: how many replicas acknowledged every write this connection made so far (the
   * journal included). Not a Lua step: Redis refuses WAIT inside a script. Blocks this connection meanwhile.
   */
  async waitForReplicas(replicas: number, timeoutMs: number): Promise<number> {
    return Number(await this.redis.call('WAIT', replicas, timeoutMs));
  }

  async renewLease(arbId: string, token: string, leaseMs: number): Promise<boolean> {
    return this.lease(arbId, token, 'renew', leaseMs);
  }

  async releaseLease(arbId: string, token: string): Promise<boolean> {
    return this.lease(arbId, token, 'release', 0);
  }

  /** Releases the lease and takes the pair out of the open set, in one step. */
  async releaseAndClose(arbId: string, token: string): Promise<boolean> {
    return this.lease(arbId, token, 'release_close', 0);
  }

  private async lease(arbId: string, token: string, action: 'renew' | 'release' | 'release_close', leaseMs: number): Promise<boolean> {
    const reply = await this.redis.beLease(keys.lease(arbId), keys.openPairs, token, action, leaseMs, arbId);
    return replyName(reply, 'lease', ['ok', 'fenced']) === 'ok';
  }

  async transition(write: TransitionWrite): Promise<TransitionResult> {
    const events = write.events ?? [];
    const audit = write.audit ?? [];
    const { doc, exposure, guards } = write;
    const cooldowns = write.cooldowns ?? [];
    const killKeys = guards?.killKeys ?? [];
    const entryPairs = [...events, ...audit].flatMap((e) => [e.type, JSON.stringify(e.data)]);
    const reply = await this.redis.beTransition(
      8 + 2 * cooldowns.length + killKeys.length,
      keys.pair(write.arbId), keys.lease(write.arbId), eventsStream, auditStream, keys.openPairs,
      exposure?.key ?? keys.pair(write.arbId), keys.reviewOpen, exposure?.reviewSetKey ?? keys.pair(write.arbId),
      ...cooldowns.flatMap((c) => [c.key, c.ownerKey]), ...killKeys,
      write.token, write.rev, write.from, doc.state, encodePairDoc(doc), write.closes ? '1' : '0', write.nowMs, write.arbId,
      cooldowns.map((c) => (c.mode === 'claim' ? 'c' : 't')).join(''), cooldowns.map((c) => c.holdMs).join(','),
      exposure ? JSON.stringify(exposure.record) : '', exposure?.ttlMs ?? 0, exposure?.reviewId ?? '',
      this.eventsLenMax, events.length, audit.length,
      killKeys.length, guards?.ageBaseMs ?? '', guards?.arbAgeMsMax ?? 0,
      ...entryPairs,
    );
    const code = replyName(reply, 'transition', ['ok', 'blocked', 'fenced', 'moved', 'wrongState', 'cooldownConflict']);
    if (code === 'cooldownConflict') return { kind: 'cooldown_conflict' };
    if (code === 'blocked') return blockedOf(reply);
    return { kind: 'ok', rev: this.fenced(code, reply, write.arbId, doc.state) };
  }

  async preflight(write: PreflightWrite): Promise<PreflightResult> {
    const reply = await this.redis.bePreflight(
      keys.pair(write.arbId), keys.lease(write.arbId), auditStream, keys.openPairs, ...guardKeys(write.doc),
      write.token, write.rev, write.arbId, encodePairDoc(write.doc), write.nowMs, ...guardArgs(write), ...entryArgs(write.audit),
    );
    const code = replyName(reply, 'preflight', ['ok', 'blocked', 'fenced', 'moved', 'wrongState']);
    if (code === 'blocked') return blockedOf(reply);
    return { kind: 'passed', rev: this.fenced(code, reply, write.arbId, 'positive_placing') };
  }

  /**
   * Holds an account's cooldown for the pair at least `holdMs` from now (never shortening a longer hold), outside
   * a transition: false when another pair holds the account; a FencedError when the lease is not ours.
   */
  async holdCooldown(arbId: string, token: string, hold: { key: string; ownerKey: string; holdMs: number }): Promise<boolean> {
    const reply = await this.redis.beHoldCooldown(hold.key, hold.ownerKey, keys.lease(arbId), token, arbId, hold.holdMs);
    const code = replyName(reply, 'hold_cooldown', ['ok', 'cooldownConflict', 'fenced']);
    if (code === 'fenced') throw new FencedError(`lease on ${arbId} lost before holding an account's cooldown`);
    return code === 'ok';
  }

  /** The new revision of a fenced write that went through; a FencedError when the write was refused. */
  private fenced(code: 'ok' | 'fenced' | 'moved' | 'wrongState', reply: Reply, arbId: string, state: PairState): number {
    switch (code) {
      case 'ok': return Number(reply[1]);
      case 'fenced': throw new FencedError(`lease on ${arbId} lost before writing ${state}`);
      case 'moved': throw new FencedError(`journal of ${arbId} moved on (rev ${reply[1]}) before writing ${state}`);
      case 'wrongState': throw new FencedError(`journal of ${arbId} is in ${reply[1]}, not the expected from-state, before writing ${state}`);
      default: return assertNever(code, 'fenced reply');
    }
  }

  /** Records one bet's final result (first one wins); true when every polled bet of the pair has one. */
  async recordBetResult(arbId: string, clientRef: string, status: string, betsPolled: number, event: Record<string, unknown>, ttlMs: number): Promise<boolean> {
    const [complete] = await this.redis.beSettleBet(keys.settlement(arbId), eventsStream, auditStream, clientRef, status, betsPolled, this.eventsLenMax, JSON.stringify(event), ttlMs);
    return complete === 1;
  }

  async settlementResults(arbId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(keys.settlement(arbId));
  }

  /** A bet's result changed since `from` was recorded: true when this call recorded `to` (first one wins). */
  async resettleBet(arbId: string, clientRef: string, from: string, to: string, event: Record<string, unknown>): Promise<boolean> {
    const reply = await this.redis.beResettleBet(keys.settlement(arbId), eventsStream, auditStream, clientRef, from, to, this.eventsLenMax, JSON.stringify(event));
    return replyName(reply, 'resettle_bet', ['ok', 'already']) === 'ok';
  }

  /** The arb's open and resolved review entries as stored ('' = absent), for a review decision. */
  async reviewEntries(arbId: string): Promise<ReviewEntries> {
    const [open, resolved] = await Promise.all([this.redis.hget(keys.reviewOpen, arbId), this.redis.hget(keys.reviewResolved, arbId)]);
    return { open: open ?? '', resolved: resolved ?? '' };
  }

  /**
   * Writes a pair's (re)classification with its review decision, once: 'settled' now, 'moved' when the
   * journal or the arb's review entries changed since they were read (reload, decide again).
   */
  async reconcile(write: ReconcileWrite): Promise<'settled' | 'moved'> {
    const { review } = write;
    const reply = await this.redis.beReconcile(
      keys.pair(write.arbId), eventsStream, auditStream,
      review?.key ?? keys.pair(write.arbId), keys.reviewOpen, keys.reviewResolved, review?.reviewSetKey ?? keys.pair(write.arbId), keys.settlePending,
      write.rev, write.from, encodePairDoc(write.doc), review?.action ?? 'none', review?.json ?? '', review?.ttlMs ?? 0, write.arbId,
      review?.seen.open ?? '', review?.seen.resolved ?? '',
      this.eventsLenMax, ...entryArgs(write.events),
    );
    const code = replyName(reply, 'reconcile', ['ok', 'moved', 'wrongState', 'reviewMoved']);
    return code === 'ok' ? 'settled' : 'moved';
  }

  /**
   * Writes an arb's review entry outside its reconciliation (a lost settlement chain): 'written', 'settled'
   * (the pair was reconciled meanwhile: nothing to add), or 'moved' (the entries changed: decide again).
   */
  async writeReview(arbId: string, review: ReviewWrite, events: StreamEntry[]): Promise<'written' | 'settled' | 'moved'> {
    const reply = await this.redis.beReviewWrite(
      keys.pair(arbId), eventsStream, auditStream, review.key, keys.reviewOpen, keys.reviewResolved, review.reviewSetKey,
      review.action, review.json, review.ttlMs, arbId, review.seen.open, review.seen.resolved,
      this.eventsLenMax, ...entryArgs(events),
    );
    const code = replyName(reply, 'review_write', ['ok', 'wrongState', 'reviewMoved']);
    if (code === 'ok') return 'written';
    return code === 'wrongState' ? 'settled' : 'moved';
  }

  /** Open exposures awaiting review (the durable list, not subject to the 24 h TTL). */
  async openExposures(): Promise<Array<{ id: string; record: Record<string, unknown> }>> {
    const all = await this.redis.hgetall(keys.reviewOpen);
    return Object.entries(all).map(([id, json]) => ({ id, record: JSON.parse(json) as Record<string, unknown> }));
  }

  /** Closes an exposure (review id: the arbId) on a person's word; false when no open exposure has this id. */
  async resolveExposure(id: string, by: string, note: string, atMs: number): Promise<boolean> {
    const json = await this.redis.hget(keys.reviewOpen, id);
    if (json === null) return false;
    const record = JSON.parse(json) as { whitelabel?: string; positive_provider?: string; bet_pair_id?: string };
    const [whitelabel, provider, betPairId] = [String(record.whitelabel), String(record.positive_provider), String(record.bet_pair_id)];
    const resolution = JSON.stringify({ id, resolvedBy: by, note, resolvedAt: new Date(atMs).toISOString(), record });
    const reply = await this.redis.beResolveExposure(
      keys.reviewOpen, keys.reviewResolved, auditStream, keys.exposure(whitelabel, provider, betPairId), keys.reviewByPair(whitelabel, provider, betPairId),
      id, resolution,
    );
    return replyName(reply, 'resolve_exposure', ['ok', 'already']) === 'ok';
  }

  /** The pair needs no more recovery sweeps. */
  async closeOpen(arbId: string): Promise<void> {
    await this.redis.zrem(keys.openPairs, arbId);
  }

  /** Open pairs last journaled before `olderThanMs` (candidates for the recovery sweep). */
  async openPairsBefore(olderThanMs: number, countMax: number): Promise<string[]> {
    return this.redis.zrangebyscore(keys.openPairs, '-inf', olderThanMs, 'LIMIT', 0, countMax);
  }

  async loadPair(arbId: string): Promise<{ rev: number; doc: PairDoc } | null> {
    const [rev, doc] = await this.redis.hmget(keys.pair(arbId), 'rev', 'doc');
    if (rev == null || doc == null) return null;
    return { rev: Number(rev), doc: decodePairDoc(doc) };
  }

  /** Appends events outside a transition (input rejected, duplicate); fails closed like every write. */
  async emit(entries: StreamEntry[]): Promise<void> {
    const pipeline = this.redis.multi();
    for (const e of entries) pipeline.xadd(eventsStream, 'MAXLEN', '~', this.eventsLenMax, '*', 'type', e.type, 'data', JSON.stringify(e.data));
    await execOrThrow(pipeline);
  }

  /** Appends to the audit trail (never trimmed). */
  async audit(entries: StreamEntry[]): Promise<void> {
    const [only] = entries;
    if (entries.length === 1 && only) {
      await this.redis.xadd(auditStream, '*', 'type', only.type, 'data', JSON.stringify(only.data));
      return;
    }
    const pipeline = this.redis.multi();
    for (const e of entries) pipeline.xadd(auditStream, '*', 'type', e.type, 'data', JSON.stringify(e.data));
    await execOrThrow(pipeline);
  }
}

async function execOrThrow(pipeline: ReturnType<Redis['multi']>): Promise<void> {
  const results = await pipeline.exec();
  if (results === null) throw new Error('redis transaction aborted');
  for (const [error] of results) if (error) throw error;
}

export async function readStream(redis: Redis, stream: string, countMax = 100_000): Promise<Array<{ id: string; type: string; data: Record<string, unknown> }>> {
  const entries = await redis.xrange(stream, '-', '+', 'COUNT', countMax);
  return entries.map(([id, fields]) => {
    const map = new Map<string, string>();
    for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] as string, fields[i + 1] as string);
    return { id, type: map.get('type') ?? '', data: JSON.parse(map.get('data') ?? '{}') as Record<string, unknown> };
  });
}
