// The alerter's Redis adapter: the consumer group on the events stream, delivery state and records (Lua), dead-man inputs.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { alertDeadList, alertDeliveriesStream, eventsStream, keys, workerHeartbeatPrefix } from '../store/keys.js';
import type { EventEntry } from './alert.js';

const luaDir = join(dirname(fileURLToPath(import.meta.url)), 'lua');
const lua = (name: string) => readFileSync(join(luaDir, `${name}.lua`), 'utf8');

type ScriptReply = string | Array<string | number>;

interface ScriptedRedis extends Redis {
  beAlertAttempt(...args: (string | number)[]): Promise<ScriptReply>;
  beAlertRecord(...args: (string | number)[]): Promise<ScriptReply>;
  beAlertAck(...args: (string | number)[]): Promise<ScriptReply>;
  beAlertTouch(...args: (string | number)[]): Promise<string[]>;
  beAlertCondition(...args: (string | number)[]): Promise<ScriptReply>;
}

/** A script's reply word, checked against the words the caller handles: anything else is a bug and fails loudly. */
function replyWord<const T extends string>(reply: ScriptReply, script: string, expected: readonly T[]): T {
  const word = Array.isArray(reply) ? reply[0] : reply;
  if (typeof word !== 'string' || !(expected as readonly string[]).includes(word)) {
    throw new Error(`invariant violated: ${script}.lua replied ${JSON.stringify(reply)}; expected one of ${expected.join(', ')}`);
  }
  return word as T;
}

export type AttemptStart = { kind: 'go'; attempt: number } | { kind: 'done'; status: string } | { kind: 'not_owner' };

export interface DeliveryRecord {
  alertKey: string;
  eventId: string;
  eventType: string;
  sink: string;
  attempt: number;
  result: 'delivered' | 'failed' | 'dead';
  httpStatus: number | null;
  error: string;
  atMs: number;
}

/** A read stream entry; `fields` null when the entry was trimmed away while still pending. */
export type RawEntry = [id: string, fields: string[] | null];

export interface Limits {
  stateTtlMs: number;
  deliveriesStreamLenMax: number;
  deadListLenMax: number;
  eventsStreamLenMax: number;
}

export interface OpenReview {
  id: string;
  reason: string;
  detectedAtMs: number;
}

export function entryOf([id, fields]: [string, string[]]): EventEntry {
  let type = '';
  let dataText = '{}';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'type') type = fields[i + 1] as string;
    if (fields[i] === 'data') dataText = fields[i + 1] as string;
  }
  let data: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(dataText);
    data = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed as Record<string, unknown> : { value: parsed };
  } catch {
    // A malformed event still alerts (when its type does), with what it holds.
    data = { unparsed: dataText.slice(0, 1_000) };
  }
  return { id, type, data };
}

export class AlerterStore {
  readonly redis: ScriptedRedis;

  constructor(redis: Redis, readonly group: string, readonly consumer: string, private readonly limits: Limits) {
    redis.defineCommand('beAlertAttempt', { numberOfKeys: 2, lua: lua('attempt') });
    redis.defineCommand('beAlertRecord', { numberOfKeys: 4, lua: lua('record') });
    redis.defineCommand('beAlertAck', { numberOfKeys: 2, lua: lua('ack') });
    redis.defineCommand('beAlertTouch', { numberOfKeys: 1, lua: lua('touch') });
    redis.defineCommand('beAlertCondition', { numberOfKeys: 2, lua: lua('condition') });
    this.redis = redis as ScriptedRedis;
  }

  /** Joins (creating if needed) the consumer group; `new` starts at the stream's end, `all` at its start. */
  async ensureGroup(startFrom: 'new' | 'all'): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', eventsStream, this.group, startFrom === 'new' ? '$' : '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).startsWith('BUSYGROUP')) throw error;
    }
  }

  /**
   * Reads entries for this consumer on `reader` (a connection of its own: the read blocks). `from` `>` reads
   * new entries; an id re-reads this consumer's own pending entries after it (a restart under a stable name).
   */
  async read(reader: Redis, from: string, count: number, blockMs: number): Promise<RawEntry[]> {
    const reply = from === '>'
      ? await reader.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', eventsStream, '>')
      : await reader.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', count, 'STREAMS', eventsStream, from);
    const streams = reply as Array<[string, RawEntry[]]> | null;
    return streams?.[0]?.[1] ?? [];
  }

  /** Claims entries idle past `idleMs` (their alerter died); returns them and the ids trimmed away meanwhile. */
  async autoclaim(idleMs: number, cursor: string, count: number): Promise<{ cursor: string; entries: RawEntry[]; deleted: string[] }> {
    const reply = await this.redis.xautoclaim(eventsStream, this.group, this.consumer, idleMs, cursor, 'COUNT', count) as [string, RawEntry[], string[]?];
    return { cursor: reply[0], entries: reply[1], deleted: reply[2] ?? [] };
  }

  /**
   * Deletes consumers of the group (never this one) that hold no pending entry and were idle longer than
   * `idleMs`: every alerter process that ever ran leaves one, and nothing else removes them. At most `countMax`.
   */
  async removeIdleConsumers(idleMs: number, countMax: number): Promise<string[]> {
    const consumers = await this.redis.xinfo('CONSUMERS', eventsStream, this.group) as unknown[][];
    const removed: string[] = [];
    for (const flat of consumers) {
      if (removed.length >= countMax) break;
      const info = new Map<string, unknown>();
      for (let i = 0; i + 1 < flat.length; i += 2) info.set(String(flat[i]), flat[i + 1]);
      const name = String(info.get('name'));
      if (name === this.consumer || Number(info.get('pending')) !== 0 || Number(info.get('idle')) <= idleMs) continue;
      // DELCONSUMER would drop entries that became pending meanwhile; it answers how many, which must be none.
      const dropped = await this.redis.xgroup('DELCONSUMER', eventsStream, this.group, name) as number;
      if (dropped !== 0) throw new Error(`invariant violated: consumer ${name} held ${dropped} entries when deleted`);
      removed.push(name);
    }
    return removed;
  }

  /** Acknowledges entries that need no delivery (not alerts, or gone). */
  async ackPlain(ids: string[]): Promise<void> {
    if (ids.length > 0) await this.redis.xack(eventsStream, this.group, ...ids);
  }

  async beginAttempt(entryId: string, alertKey: string, sink: string): Promise<AttemptStart> {
    const reply = await this.redis.beAlertAttempt(eventsStream, keys.alertState(alertKey), this.group, this.consumer, entryId, sink, this.limits.stateTtlMs);
    const word = replyWord(reply, 'attempt', ['go', 'done', 'not_owner']);
    if (word === 'go') return { kind: 'go', attempt: Number((reply as unknown[])[1]) };
    if (word === 'done') return { kind: 'done', status: String((reply as unknown[])[1]) };
    return { kind: 'not_owner' };
  }

  /**
   * Records an attempt's outcome. For `dead`, `deadLetter` is the dead list's JSON object and
   * `deadLetterEvent` the alert_dead_lettered event to raise (null: raise none).
   */
  async record(r: DeliveryRecord, deadLetter: Record<string, unknown> | null, deadLetterEvent: Record<string, unknown> | null): Promise<'recorded' | 'already'> {
    const reply = await this.redis.beAlertRecord(
      keys.alertState(r.alertKey), alertDeliveriesStream, alertDeadList, eventsStream,
      r.sink, r.result, r.alertKey, r.eventId, r.eventType, r.attempt, r.httpStatus ?? '', r.error, r.atMs,
      this.limits.stateTtlMs, this.limits.deliveriesStreamLenMax, this.limits.deadListLenMax, this.limits.eventsStreamLenMax,
      deadLetter === null ? '' : JSON.stringify(deadLetter), deadLetterEvent === null ? '' : JSON.stringify(deadLetterEvent), this.consumer,
    );
    return replyWord(reply, 'record', ['recorded', 'already']);
  }

  async ack(entryId: string, alertKey: string): Promise<'acked' | 'already'> {
    const reply = await this.redis.beAlertAck(eventsStream, keys.alertState(alertKey), this.group, entryId);
    return replyWord(reply, 'ack', ['acked', 'already']);
  }

  /** Resets the idle time of entries this consumer still works on; returns those another consumer took. */
  async touch(entryIds: string[]): Promise<string[]> {
    if (entryIds.length === 0) return [];
    return this.redis.beAlertTouch(eventsStream, this.group, this.consumer, ...entryIds);
  }

  async condition(name: string, holds: boolean, realertIntervalMs: number, detail: string): Promise<'fired' | 'realerted' | 'resolved' | 'quiet'> {
    const reply = await this.redis.beAlertCondition(keys.alertCondition(name), eventsStream, name, holds ? '1' : '0', realertIntervalMs, this.limits.eventsStreamLenMax, detail);
    return replyWord(reply, 'condition', ['fired', 'realerted', 'resolved', 'quiet']);
  }

  /** Redis time in unix ms (the clock every alerter and worker shares). */
  async nowMs(): Promise<number> {
    const [seconds, micros] = await this.redis.time();
    return Number(seconds) * 1_000 + Math.floor(Number(micros) / 1_000);
  }

  /** The workers' heartbeat values (unix ms), at most `countMax` keys read. */
  async heartbeats(countMax: number): Promise<number[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${workerHeartbeatPrefix}*`, 'COUNT', 1_000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0' && found.length < countMax);
    const chosen = found.slice(0, countMax);
    if (chosen.length === 0) return [];
    const values = await this.redis.mget(...chosen);
    return values.map(Number).filter((v) => Number.isFinite(v) && v > 0);
  }

  /** Open review entries (at most `countMax`) with when they were detected. */
  async openReviews(countMax: number): Promise<OpenReview[]> {
    const out: OpenReview[] = [];
    let cursor = '0';
    do {
      const [next, flat] = await this.redis.hscan(keys.reviewOpen, cursor, 'COUNT', 1_000);
      cursor = next;
      for (let i = 0; i + 1 < flat.length && out.length < countMax; i += 2) {
        out.push(reviewOf(flat[i] as string, flat[i + 1] as string));
      }
    } while (cursor !== '0' && out.length < countMax);
    return out;
  }
}

/** An entry whose detection time cannot be read counts as detected at 0: overdue, so a person looks at it. */
function reviewOf(id: string, json: string): OpenReview {
  try {
    const record = JSON.parse(json) as { detected_at?: unknown; exposure_reason?: unknown };
    const detectedAtMs = typeof record.detected_at === 'string' ? Date.parse(record.detected_at) : NaN;
    return { id, reason: String(record.exposure_reason ?? 'unknown'), detectedAtMs: Number.isFinite(detectedAtMs) ? detectedAtMs : 0 };
  } catch {
    return { id, reason: 'unreadable record', detectedAtMs: 0 };
  }
}
