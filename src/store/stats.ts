// Operations statistics in Redis: bookmaker calls per provider and day (written by workers), and the P&L
// per day and currency, projected from the audit stream's `arb_settled` and `arb_resettled` entries exactly once.
import type { Redis } from 'ioredis';
import {
  LATENCY_BUCKETS_MS, PLACE_OUTCOMES, latencyBucket, pnlIncrements, settledPairFact, utcDay,
  type PlaceOutcomeName, type SettledPairFact,
} from '../domain/stats.js';
import { replyName } from './codes.js';
import { auditStream, opsKeys } from './keys.js';
import { opsLua } from './scripts.js';

/** Provider counters are kept this long (per-day hashes). */
const providerStatsTtlMs = 35 * 86_400_000;
/** P&L per day is kept this long. */
const pnlDayTtlMs = 400 * 86_400_000;

export interface ProviderCounters {
  provider: string;
  /** Placement calls by outcome (the bookmaker's first answer; an in-doubt call found accepted later stays in_doubt). */
  placements: Record<PlaceOutcomeName, number>;
  latencyMsSum: number;
  /** Calls per latency bucket (LATENCY_BUCKETS_MS, then the unbounded bucket). */
  latencyBuckets: number[];
}

export interface PnlRow {
  day: string;
  currency: string;
  pnlMinor: number;
  /** Settled pairs counted (with a known or unknown P&L). */
  pairs: number;
  /** Settled pairs whose P&L is unknown (a timed-out result): not in pnlMinor. */
  pnlUnknown: number;
  exposures: number;
  /** Re-settlements booked on this day: their pnlMinor, pnlUnknown and exposures are the new result minus the old. */
  corrections: number;
}

interface StatsRedis extends Redis {
  beProjectPnl(...args: (string | number)[]): Promise<number>;
}

/** Construct it with the client, before the client is used (see WorkerHeartbeat: ioredis and defineCommand). */
export class StatsStore {
  readonly redis: StatsRedis;

  constructor(redis: Redis) {
    const client = redis as StatsRedis;
    if (typeof client.beProjectPnl !== 'function') client.defineCommand('beProjectPnl', { lua: opsLua('project_pnl') });
    this.redis = client;
  }

  /** Counts one placement call of a provider (outcome and latency) in the day's hash. */
  async recordPlacement(provider: string, outcome: PlaceOutcomeName, latencyMs: number, atMs: number): Promise<void> {
    const key = opsKeys.providerStats(utcDay(atMs));
    await this.redis.multi()
      .hincrby(key, `${provider}:place:${outcome}`, 1)
      .hincrby(key, `${provider}:latency_ms_sum`, Math.round(latencyMs))
      .hincrby(key, `${provider}:latency_bucket:${latencyBucket(latencyMs)}`, 1)
      .pexpire(key, providerStatsTtlMs)
      .exec();
  }

  /** The counters of every provider summed over the given days. */
  async providerCounters(days: readonly string[]): Promise<ProviderCounters[]> {
    const hashes = await Promise.all(days.map((day) => this.redis.hgetall(opsKeys.providerStats(day))));
    const byProvider = new Map<string, ProviderCounters>();
    for (const hash of hashes) {
      for (const [field, value] of Object.entries(hash)) addCounter(byProvider, field, Number(value));
    }
    return [...byProvider.values()].sort((a, b) => a.provider.localeCompare(b.provider));
  }

  /** The P&L rows of the given days, oldest day first, then by currency. */
  async pnl(days: readonly string[]): Promise<PnlRow[]> {
    const hashes = await Promise.all(days.map((day) => this.redis.hgetall(opsKeys.pnlDay(day))));
    const rows: PnlRow[] = [];
    days.forEach((day, i) => {
      const byCurrency = new Map<string, PnlRow>();
      for (const [field, value] of Object.entries(hashes[i] ?? {})) {
        const [currency, name] = field.split(':') as [string, string];
        const row = byCurrency.get(currency) ?? { day, currency, pnlMinor: 0, pairs: 0, pnlUnknown: 0, exposures: 0, corrections: 0 };
        if (name === 'pnl_minor') row.pnlMinor = Number(value);
        else if (name === 'pairs') row.pairs = Number(value);
        else if (name === 'pnl_unknown') row.pnlUnknown = Number(value);
        else if (name === 'exposures') row.exposures = Number(value);
        else if (name === 'corrections') row.corrections = Number(value);
        byCurrency.set(currency, row);
      }
      rows.push(...[...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency)));
    });
    return rows;
  }

  /** The last audit entry the P&L projection has counted (null: none yet). */
  async pnlCursor(): Promise<string | null> {
    return this.redis.get(opsKeys.pnlCursor);
  }

  /**
   * Counts the next batch of settled pairs from the audit stream into the P&L days. Returns how many audit
   * entries it moved past (0: up to date), or null when another process moved the cursor first.
   */
  async projectPnl(batchMax: number): Promise<number | null> {
    const cursor = (await this.redis.get(opsKeys.pnlCursor)) ?? '';
    const entries = await this.redis.xrange(auditStream, cursor === '' ? '-' : `(${cursor}`, '+', 'COUNT', batchMax);
    const last = entries[entries.length - 1];
    if (last === undefined) return 0;
    const facts: SettledPairFact[] = [];
    for (const [id, fields] of entries) {
      const fact = settledFact(id, fields);
      if (fact) facts.push(fact);
    }
    const increments = pnlIncrements(facts);
    const days = [...increments.keys()];
    const args = days.flatMap((day, i) => [...(increments.get(day) ?? new Map<string, number>())].flatMap(([field, n]) => [i + 2, field, n]));
    const reply = await this.redis.beProjectPnl(1 + days.length, opsKeys.pnlCursor, ...days.map((d) => opsKeys.pnlDay(d)), cursor, last[0], pnlDayTtlMs, ...args);
    return replyName(reply, 'project_pnl', ['ok', 'moved']) === 'ok' ? entries.length : null;
  }
}

/** The P&L fact of one audit entry when it is an `arb_settled` or `arb_resettled` (the data is parsed only then). */
function settledFact(id: string, fields: string[]): SettledPairFact | null {
  let type: string | undefined;
  let data: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'type') type = fields[i + 1];
    else if (fields[i] === 'data') data = fields[i + 1];
  }
  if ((type !== 'arb_settled' && type !== 'arb_resettled') || data === undefined) return null;
  try {
    return settledPairFact(JSON.parse(data) as Record<string, unknown>, Number(id.split('-')[0]), type === 'arb_resettled');
  } catch {
    return null;
  }
}

function addCounter(byProvider: Map<string, ProviderCounters>, field: string, value: number): void {
  const [provider, name, detail] = field.split(':') as [string, string, string | undefined];
  const counters = byProvider.get(provider) ?? {
    provider,
    placements: Object.fromEntries(PLACE_OUTCOMES.map((o) => [o, 0])) as Record<PlaceOutcomeName, number>,
    latencyMsSum: 0,
    latencyBuckets: new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0),
  };
  if (name === 'place' && (PLACE_OUTCOMES as readonly string[]).includes(detail ?? '')) counters.placements[detail as PlaceOutcomeName] += value;
  else if (name === 'latency_ms_sum') counters.latencyMsSum += value;
  else if (name === 'latency_bucket') {
    const i = Number(detail);
    if (Number.isInteger(i) && i >= 0 && i < counters.latencyBuckets.length) counters.latencyBuckets[i] = (counters.latencyBuckets[i] ?? 0) + value;
  }
  byProvider.set(provider, counters);
}
