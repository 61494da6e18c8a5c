// What the operations API reads from Redis: pairs (by the claim-time index), a pair's audit trail, the review
// lists, an account's cooldown and rate limit, alert deliveries. Reads only; every read is bounded.
import type { Redis } from 'ioredis';
import type { PairDoc } from '../domain/pair.js';
import { decodePairDoc } from '../domain/pair-codec.js';
import { alertDeadList, alertDeliveriesStream, auditStream, keys, opsKeys } from './keys.js';

export interface PairRow {
  arbId: string;
  rev: number;
  state: string;
  jobId: string | null;
  doc: PairDoc;
}

/** A place in the claim-time index: the last pair a page examined (pages run newest first). */
export interface PairPosition {
  atMs: number;
  arbId: string;
}

export interface PairQuery {
  /** One pair only (the other filters still apply). */
  arbId?: string;
  states?: ReadonlySet<string>;
  fromMs?: number;
  toMs?: number;
  betPairId?: string;
  whitelabel?: string;
  provider?: string;
  /** Either leg's account. */
  accountId?: string;
  limit: number;
  after: PairPosition | null;
  /** Index entries examined at most. */
  scanMax: number;
}

export interface PairPage {
  rows: PairRow[];
  /** Where the next page starts; null when the range is exhausted. */
  next: PairPosition | null;
  scanned: number;
}

export interface StreamRow {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

export interface ReviewEntry {
  id: string;
  record: Record<string, unknown>;
}

export interface AccountState {
  nowMs: number;
  cooldown: { active: boolean; remainingMs: number; claimedAtS: number | null; heldBy: string | null };
  placementsAtMs: number[];
  killSwitches: { global: boolean; provider: boolean; account: boolean };
}

const indexBatchMax = 200;
const streamBatchMax = 1_000;
/** Placements of one account listed at most. */
const accountPlacementsMax = 1_000;

export class ReadModel {
  constructor(readonly redis: Redis) {}

  async pair(arbId: string): Promise<PairRow | null> {
    const [rev, state, doc, jobId] = await this.redis.hmget(keys.pair(arbId), 'rev', 'state', 'doc', 'jobId');
    if (rev == null || doc == null) return null;
    return { arbId, rev: Number(rev), state: state ?? 'unknown', jobId: jobId ?? null, doc: decodePairDoc(doc) };
  }

  async settlementResults(arbId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(keys.settlement(arbId));
  }

  /** A page of pairs, newest first, from the claim-time index, filtered as asked. */
  async listPairs(q: PairQuery): Promise<PairPage> {
    if (q.arbId !== undefined) return this.onePair(q.arbId, q);
    const max = q.after ? String(q.after.atMs) : q.toMs !== undefined ? String(q.toMs) : '+inf';
    const min = q.fromMs !== undefined ? String(q.fromMs) : '-inf';
    const rows: PairRow[] = [];
    let offset = 0;
    let scanned = 0;
    let last: PairPosition | null = q.after;
    for (;;) {
      if (rows.length >= q.limit || scanned >= q.scanMax) return { rows, next: last, scanned };
      const batch = Math.min(indexBatchMax, q.scanMax - scanned);
      const entries = positions(await this.redis.zrange(opsKeys.pairsByCreated, max, min, 'BYSCORE', 'REV', 'LIMIT', offset, batch, 'WITHSCORES'));
      if (entries.length === 0) return { rows, next: null, scanned };
      offset += entries.length;
      // Pairs of one millisecond come in descending arbId order: those at or above the cursor were seen.
      const fresh = entries.filter((p) => !(q.after && p.atMs === q.after.atMs && p.arbId >= q.after.arbId));
      scanned += entries.length - fresh.length;
      const loaded = await Promise.all(fresh.map((p) => this.pair(p.arbId)));
      for (let i = 0; i < fresh.length; i++) {
        if (rows.length >= q.limit) return { rows, next: last, scanned };
        scanned++;
        last = fresh[i] as PairPosition;
        const row = loaded[i];
        // A pair whose journal has expired is skipped (the index drops it at a later claim).
        if (row && pairMatches(row, q)) rows.push(row);
      }
      if (entries.length < batch) return { rows, next: null, scanned };
    }
  }

  private async onePair(arbId: string, q: PairQuery): Promise<PairPage> {
    if (q.after !== null) return { rows: [], next: null, scanned: 0 };
    const [row, score] = await Promise.all([this.pair(arbId), this.redis.zscore(opsKeys.pairsByCreated, arbId)]);
    const atMs = score === null ? row?.doc.createdAtMs ?? 0 : Number(score);
    const inRange = (q.fromMs === undefined || atMs >= q.fromMs) && (q.toMs === undefined || atMs <= q.toMs);
    return { rows: row && inRange && pairMatches(row, q) ? [row] : [], next: null, scanned: 1 };
  }

  /**
   * A pair's entries of the audit stream between two stream ids, oldest first. The stream holds every
   * pair's entries, so a page examines at most `scanMax` of them; `next` (an entry id) continues after it.
   */
  async pairAudit(arbId: string, fromId: string, toId: string, limit: number, scanMax: number): Promise<{ rows: StreamRow[]; next: string | null }> {
    const needle = JSON.stringify(arbId);
    const rows: StreamRow[] = [];
    let start = fromId;
    let scanned = 0;
    let lastId: string | null = null;
    for (;;) {
      if (rows.length >= limit || scanned >= scanMax) return { rows, next: lastId };
      const batch = Math.min(streamBatchMax, scanMax - scanned);
      const entries = await this.redis.xrange(auditStream, start, toId, 'COUNT', batch);
      if (entries.length === 0) return { rows, next: null };
      for (const [id, fields] of entries) {
        if (rows.length >= limit) return { rows, next: lastId };
        scanned++;
        lastId = id;
        start = `(${id}`;
        const row = streamRow(fields);
        // A cheap test on the raw text first: most entries belong to other pairs.
        if (row.raw.includes(needle)) {
          const data = parseRecord(row.raw);
          if (belongsTo(data, arbId)) rows.push({ id, type: row.type, data });
        }
      }
      if (entries.length < batch) return { rows, next: null };
    }
  }

  /** Open exposures awaiting review, oldest detection first; `total` counts them all. */
  async openExposures(max: number): Promise<{ items: ReviewEntry[]; total: number }> {
    const total = await this.redis.hlen(keys.reviewOpen);
    const all = total <= max ? Object.entries(await this.redis.hgetall(keys.reviewOpen)) : await this.hscanUpTo(keys.reviewOpen, max);
    const items = all.map(([id, json]) => ({ id, record: parseRecord(json) }));
    items.sort((a, b) => String(a.record.detected_at ?? '').localeCompare(String(b.record.detected_at ?? '')) || a.id.localeCompare(b.id));
    return { items, total };
  }

  /** One page of resolved exposures (Redis HSCAN order, not by time); `next` is null at the end. */
  async resolvedExposures(cursor: string, count: number): Promise<{ items: ReviewEntry[]; next: string | null; total: number }> {
    const [next, flat] = await this.redis.hscan(keys.reviewResolved, cursor, 'COUNT', count);
    const items: ReviewEntry[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) items.push({ id: flat[i] as string, record: parseRecord(flat[i + 1] as string) });
    return { items, next: next === '0' ? null : next, total: await this.redis.hlen(keys.reviewResolved) };
  }

  async exposure(id: string): Promise<{ status: 'open' | 'resolved'; record: Record<string, unknown> } | null> {
    const [open, resolved] = await Promise.all([this.redis.hget(keys.reviewOpen, id), this.redis.hget(keys.reviewResolved, id)]);
    if (open !== null) return { status: 'open', record: parseRecord(open) };
    if (resolved !== null) return { status: 'resolved', record: parseRecord(resolved) };
    return null;
  }

  async account(whitelabel: string, provider: string, accountId: string, windowMs: number): Promise<AccountState> {
    const [time, value, ttl, owner, placements, kills] = await Promise.all([
      this.redis.time(),
      this.redis.get(keys.cooldown(whitelabel, provider, accountId)),
      this.redis.pttl(keys.cooldown(whitelabel, provider, accountId)),
      this.redis.get(keys.cooldownOwner(whitelabel, provider, accountId)),
      this.redis.zrevrange(keys.rate(whitelabel, provider, accountId), 0, accountPlacementsMax - 1, 'WITHSCORES'),
      this.redis.exists(keys.killGlobal).then(async (g) => [g, await this.redis.exists(keys.killProvider(provider)), await this.redis.exists(keys.killAccount(whitelabel, provider, accountId))]),
    ]);
    const nowMs = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000);
    const atMs: number[] = [];
    for (let i = 1; i < placements.length; i += 2) {
      const ms = Number(placements[i]);
      if (ms > nowMs - windowMs) atMs.push(ms);
    }
    return {
      nowMs,
      cooldown: { active: value !== null, remainingMs: Math.max(0, ttl), claimedAtS: value === null ? null : Number(value), heldBy: owner },
      placementsAtMs: atMs.sort((a, b) => a - b),
      killSwitches: { global: kills[0] === 1, provider: kills[1] === 1, account: kills[2] === 1 },
    };
  }

  /**
   * How many pairs wait in a BullMQ queue and how long the oldest has waited, read from BullMQ's keys
   * (`bull:{queue}:wait`, a list with the newest job at the head, and each job's hash) rather than through
   * a BullMQ Queue, which writes its version to the queue's meta key: the API's Redis user may only read
   * the queue (ops/redis/users.acl).
   */
  async queueLag(queueName: string, nowMs: number): Promise<{ waiting: number; oldestWaitingMs: number }> {
    const prefix = `bull:${queueName}`;
    const [waiting, prioritized, oldestId] = await Promise.all([
      this.redis.llen(`${prefix}:wait`), this.redis.zcard(`${prefix}:prioritized`), this.redis.lindex(`${prefix}:wait`, -1),
    ]);
    // BullMQ 4 left "0:…" markers at the tail of the wait list; they are not jobs.
    const timestamp = oldestId === null || oldestId.startsWith('0:') ? null : await this.redis.hget(`${prefix}:${oldestId}`, 'timestamp');
    return { waiting: waiting + prioritized, oldestWaitingMs: timestamp === null ? 0 : Math.max(0, nowMs - Number(timestamp)) };
  }

  /** Delivery attempts of the alerter, newest first; `before` continues an earlier page. */
  async alertDeliveries(before: string | null, limit: number): Promise<{ items: Array<Record<string, string>>; next: string | null }> {
    const entries = await this.redis.xrevrange(alertDeliveriesStream, before === null ? '+' : `(${before}`, '-', 'COUNT', limit);
    const items = entries.map(([id, fields]) => {
      const item: Record<string, string> = { id };
      for (let i = 0; i + 1 < fields.length; i += 2) item[fields[i] as string] = fields[i + 1] as string;
      return item;
    });
    const last = entries[entries.length - 1];
    return { items, next: entries.length === limit && last ? last[0] : null };
  }

  /** Dead-lettered alerts, newest first (the alerter pushes to the head). */
  async deadAlerts(offset: number, limit: number): Promise<{ items: unknown[]; total: number }> {
    const [total, raw] = await Promise.all([this.redis.llen(alertDeadList), this.redis.lrange(alertDeadList, offset, offset + limit - 1)]);
    return { items: raw.map((json) => parseJsonOr(json)), total };
  }

  private async hscanUpTo(key: string, max: number): Promise<Array<[string, string]>> {
    const out: Array<[string, string]> = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(key, cursor, 'COUNT', 500);
      for (let i = 0; i + 1 < flat.length && out.length < max; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
      cursor = next;
    } while (cursor !== '0' && out.length < max);
    return out;
  }
}

function positions(flat: string[]): PairPosition[] {
  const out: PairPosition[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ arbId: flat[i] as string, atMs: Number(flat[i + 1]) });
  return out;
}

function pairMatches(row: PairRow, q: PairQuery): boolean {
  const { pair } = row.doc;
  if (q.states && !q.states.has(row.state)) return false;
  if (q.betPairId !== undefined && pair.betPairId !== q.betPairId) return false;
  if (q.whitelabel !== undefined && pair.whitelabel !== q.whitelabel) return false;
  if (q.provider !== undefined && pair.positive.provider !== q.provider && pair.hedge.provider !== q.provider) return false;
  if (q.accountId !== undefined && pair.positive.accountId !== q.accountId && pair.hedge.accountId !== q.accountId) return false;
  return true;
}

function streamRow(fields: string[]): { type: string; raw: string } {
  let type = '';
  let raw = '{}';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'type') type = fields[i + 1] as string;
    else if (fields[i] === 'data') raw = fields[i + 1] as string;
  }
  return { type, raw };
}

/** An audit entry is a pair's when it names the arbId (a resolution names it as `id` and in its record). */
function belongsTo(data: Record<string, unknown>, arbId: string): boolean {
  if (data.arbId === arbId) return true;
  const record = data.record as Record<string, unknown> | undefined;
  return data.id === arbId && record?.arb_id === arbId;
}

function parseRecord(json: string): Record<string, unknown> {
  const value = parseJsonOr(json);
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : { raw: json };
}

function parseJsonOr(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return { raw: json };
  }
}
