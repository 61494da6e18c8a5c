// Scrape-time gauges read from Redis and the queues: open exposures, the oldest one's age, kill switches, queue depths.
// Each source is read once per scrape, in bounded work and time; a source that fails or is too slow is left out
// of that scrape (its gauges have no sample) and counted in bet_executor_scrape_errors_total, never a failed scrape.
import type { JobType, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import { circuitStateValue, circuitStates, type CircuitState } from '../domain/circuit.js';
import { circuitsListedMax } from '../store/circuit.js';
import { circuitKeys, keys, opsKeys } from '../store/keys.js';
import { LabelValues } from './labels.js';
import { withTimeout } from '../infra/timeout.js';

export interface StateSources {
  /** Read-only use: HLEN/HSCAN of the review list, EXISTS and SCAN of kill switches. */
  redis: Redis;
  /** Queues whose depths are exported (the bet-pairs and settlement queues). */
  queues: readonly Queue[];
  /** Configured provider names: their provider-scope kill switches are looked up by key (with those in the kill-switch index). */
  providers: readonly string[];
  /** Longest a scrape waits for one source before leaving it out. */
  timeoutMs: number;
  /** Wall clock (unix ms) for ages: records and jobs carry wall times. */
  nowMs?: () => number;
  /** Told about each source left out of a scrape (e.g. a warning in the log). */
  onError?: (source: StateSource, error: unknown) => void;
}

export type StateSource = 'exposures' | 'kill_switches' | 'queues' | 'circuits';

/** Provider circuits exported per scrape (one series each); account circuits are counted, never labelled. */
export const circuitProvidersMax = 200;

/** Open review entries parsed per scrape for their reasons and ages; HLEN still counts them all. */
export const exposureScanMax = 1_000;
const exposureScanCount = 200;
/** SCAN calls per scrape for account-scope kill switches; a keyspace larger than this takes several scrapes. */
export const killScanCallsMax = 20;
const killScanCount = 1_000;

const queueStates: JobType[] = ['active', 'completed', 'delayed', 'failed', 'paused', 'prioritized', 'waiting', 'waiting-children'];

interface ExposureState {
  open: number;
  byReason: Map<string, number>;
  /** null when entries are open but none of the scanned ones has a readable detected_at. */
  oldestAgeSeconds: number | null;
}

interface KillState {
  global: number;
  provider: number;
  /** null until a first full SCAN pass of the account switches has finished. */
  account: number | null;
}

interface CircuitsState {
  /** Provider circuits by provider: their state. */
  providers: Map<string, CircuitState>;
  /** Circuits not closed, by kind (provider, account). */
  notClosed: { provider: number; account: number };
  /** Transitions so far by provider, kind and state entered (the hash circuit.lua counts in). */
  transitions: Array<{ provider: string; kind: string; to: string; count: number }>;
}

interface QueueState {
  name: string;
  counts: Record<string, number>;
  oldestWaitingAgeSeconds: number;
}

interface Snapshot {
  exposures: ExposureState | null;
  kills: KillState | null;
  queues: QueueState[] | null;
  circuits: CircuitsState | null;
}

class StateTimeoutError extends Error {
  override name = 'StateTimeoutError';
}


async function readExposures(redis: Redis, nowMs: number, reason: LabelValues): Promise<ExposureState> {
  const open = await redis.hlen(keys.reviewOpen);
  const byReason = new Map<string, number>();
  let oldestMs = Number.POSITIVE_INFINITY;
  let scanned = 0;
  let cursor = '0';
  do {
    const [next, flat] = await redis.hscan(keys.reviewOpen, cursor, 'COUNT', exposureScanCount);
    cursor = next;
    for (let i = 1; i < flat.length && scanned < exposureScanMax; i += 2, scanned++) {
      const record = parseRecord(flat[i] ?? '');
      if (record === null) continue;
      const name = reason.of(record.exposure_reason);
      byReason.set(name, (byReason.get(name) ?? 0) + 1);
      const detectedMs = typeof record.detected_at === 'string' ? Date.parse(record.detected_at) : Number.NaN;
      if (Number.isFinite(detectedMs)) oldestMs = Math.min(oldestMs, detectedMs);
    }
  } while (cursor !== '0' && scanned < exposureScanMax);
  const oldestAgeSeconds = open === 0 ? 0 : Number.isFinite(oldestMs) ? Math.max(0, nowMs - oldestMs) / 1000 : null;
  return { open, byReason, oldestAgeSeconds };
}

function parseRecord(json: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Circuits (src/store/circuit.ts): provider circuits' states, how many are not closed, and the transitions counted. */
async function readCircuits(redis: Redis): Promise<CircuitsState> {
  const [all, notClosed, transitions] = await Promise.all([
    redis.zrange(circuitKeys.all, 0, circuitsListedMax - 1),
    redis.zrange(circuitKeys.notClosed, 0, circuitsListedMax - 1),
    redis.hgetall(circuitKeys.transitions),
  ]);
  const scopes = all.filter((scope) => scope.startsWith('provider:')).slice(0, circuitProvidersMax);
  const providers = new Map<string, CircuitState>();
  if (scopes.length > 0) {
    const pipeline = redis.pipeline();
    for (const scope of scopes) pipeline.hget(circuitKeys.circuit(scope), 'state');
    const replies = (await pipeline.exec()) ?? [];
    scopes.forEach((scope, i) => {
      const state = replies[i]?.[1];
      if (typeof state === 'string' && (circuitStates as readonly string[]).includes(state)) providers.set(scope.slice('provider:'.length), state as CircuitState);
    });
  }
  const counts = { provider: 0, account: 0 };
  for (const scope of notClosed) counts[scope.startsWith('account:') ? 'account' : 'provider'] += 1;
  const rows = Object.entries(transitions).flatMap(([field, value]) => {
    const m = /^(.+):(provider|account):(open|half_open|closed)$/.exec(field);
    return m ? [{ provider: m[1] as string, kind: m[2] as string, to: m[3] as string, count: Number(value) }] : [];
  });
  return { providers, notClosed: counts, transitions: rows };
}

/**
 * Global and provider switches are looked up by key (exact, every scrape). Account switches can only be
 * found by SCAN: each scrape goes on from where the last one stopped, and the count of the last full pass
 * is exported, so the work per scrape stays bounded however large the keyspace.
 */
class KillSwitchReader {
  private cursor = '0';
  private found = new Set<string>();
  private accounts: number | null = null;
  private scanning: Promise<void> | null = null;

  constructor(private readonly redis: Redis, private readonly providers: readonly string[]) {}

  async read(): Promise<KillState> {
    const global = await this.redis.exists(keys.killGlobal);
    // Configured providers by key, plus every provider switch the kill-switch index knows of (the API has
    // no provider list; a switch set through the CLI or API is always indexed).
    const providerKeys = new Set(this.providers.map((p) => keys.killProvider(p)));
    const prefix = keys.killProvider('');
    for (const key of await this.redis.hkeys(opsKeys.killIndex)) if (key.startsWith(prefix)) providerKeys.add(key);
    const provider = providerKeys.size === 0 ? 0 : await this.redis.exists(...providerKeys);
    // A scan that outlived a timed-out scrape is joined, never run twice at once on the same cursor.
    this.scanning ??= this.scanAccounts().finally(() => {
      this.scanning = null;
    });
    await this.scanning;
    return { global, provider, account: this.accounts };
  }

  private async scanAccounts(): Promise<void> {
    const pattern = keys.killAccount('*', '*', '*');
    try {
      for (let call = 0; call < killScanCallsMax; call++) {
        const [next, found] = await this.redis.scan(this.cursor, 'MATCH', pattern, 'COUNT', killScanCount);
        for (const key of found) this.found.add(key);
        this.cursor = next;
        if (next === '0') {
          this.accounts = this.found.size;
          this.found = new Set();
          return;
        }
      }
    } catch (error) {
      this.cursor = '0';
      this.found = new Set();
      throw error;
    }
  }
}

async function readQueue(queue: Queue, nowMs: number): Promise<QueueState> {
  const counts = await queue.getJobCounts(...queueStates);
  // Ids only (no job data is parsed, so a malformed job cannot fail the scrape): the oldest of the wait
  // list and of the paused list (a paused queue keeps its jobs there), then their enqueue times.
  const oldestIds = await queue.getRanges(['wait', 'paused'], 0, 0, true);
  const client = await queue.client;
  let oldestMs = nowMs;
  for (const id of oldestIds) {
    const timestamp = Number(await client.hget(queue.toKey(id), 'timestamp'));
    if (Number.isFinite(timestamp) && timestamp > 0) oldestMs = Math.min(oldestMs, timestamp);
  }
  return { name: queue.name, counts, oldestWaitingAgeSeconds: (nowMs - oldestMs) / 1000 };
}

/** Reads every source at most once per scrape: the gauges of one scrape share one snapshot. */
class StateReader {
  private inFlight: Promise<Snapshot> | null = null;
  private readonly kills: KillSwitchReader;
  readonly reason = LabelValues.open(64);

  constructor(private readonly sources: StateSources, private readonly errors: Counter<'source'>) {
    this.kills = new KillSwitchReader(sources.redis, sources.providers);
  }

  snapshot(): Promise<Snapshot> {
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async read(): Promise<Snapshot> {
    const { redis, queues } = this.sources;
    const nowMs = (this.sources.nowMs ?? Date.now)();
    const [exposures, kills, queueStates, circuits] = await Promise.all([
      this.soft('exposures', () => readExposures(redis, nowMs, this.reason)),
      this.soft('kill_switches', () => this.kills.read()),
      this.soft('queues', () => Promise.all(queues.map((q) => readQueue(q, nowMs)))),
      this.soft('circuits', () => readCircuits(redis)),
    ]);
    return { exposures, kills, queues: queueStates, circuits };
  }

  private async soft<T>(source: StateSource, read: () => Promise<T>): Promise<T | null> {
    try {
      return await withTimeout(read(), this.sources.timeoutMs, () => new StateTimeoutError(`${source} not read within ${this.sources.timeoutMs} ms`));
    } catch (error) {
      this.errors.inc({ source });
      this.sources.onError?.(source, error);
      return null;
    }
  }
}

/** No sample at all for this scrape (reset leaves a label-less gauge at 0, which would be a claim). */
function omit(gauge: Gauge<string>, labelled: boolean): void {
  gauge.reset();
  if (!labelled) gauge.remove();
}

function stateGauge<L extends string>(
  registry: Registry, reader: StateReader, name: string, help: string, labelNames: readonly L[],
  fill: (gauge: Gauge<L>, snapshot: Snapshot) => boolean,
): void {
  const gauge: Gauge<L> = new Gauge<L>({
    name, help, labelNames, registers: [registry],
    async collect() {
      const snapshot = await reader.snapshot();
      gauge.reset();
      if (!fill(gauge, snapshot)) omit(gauge as Gauge<string>, labelNames.length > 0);
    },
  });
}

/**
 * Registers the scrape-time gauges and bet_executor_scrape_errors_total on a registry. Every process that
 * serves /metrics may register them (worker, API): they read the same Redis, so rules aggregate with max().
 */
export function registerStateMetrics(registry: Registry, sources: StateSources): void {
  const errors = new Counter<'source'>({
    name: 'bet_executor_scrape_errors_total',
    help: 'Scrape-time sources (exposures, kill_switches, queues, circuits) left out of a scrape: a Redis error or no answer within the scrape timeout.',
    labelNames: ['source'], registers: [registry],
    async collect() {
      // The count includes this scrape's own failures.
      await reader.snapshot();
    },
  });
  for (const source of ['exposures', 'kill_switches', 'queues', 'circuits'] as const) errors.inc({ source }, 0);
  const reader = new StateReader(sources, errors);
  const queueName = LabelValues.fixed(sources.queues.map((q) => q.name));
  const state = LabelValues.fixed(queueStates);

  stateGauge(registry, reader, 'bet_executor_exposures_open', 'Exposures awaiting a person\'s review (entries of the durable review list).', [], (gauge, s) => {
    if (!s.exposures) return false;
    gauge.set(s.exposures.open);
    return true;
  });
  stateGauge(registry, reader, 'bet_executor_exposures_open_by_reason', `Open exposures by exposure reason, among the first ${exposureScanMax} review entries scanned.`, ['reason'], (gauge, s) => {
    if (!s.exposures) return false;
    for (const [reason, count] of s.exposures.byReason) gauge.set({ reason }, count);
    return true;
  });
  stateGauge(registry, reader, 'bet_executor_exposure_oldest_open_age_seconds', `Age of the oldest open exposure (from its detected_at; 0 when none is open), among the first ${exposureScanMax} scanned.`, [], (gauge, s) => {
    if (!s.exposures || s.exposures.oldestAgeSeconds === null) return false;
    gauge.set(s.exposures.oldestAgeSeconds);
    return true;
  });
  stateGauge(registry, reader, 'bet_executor_kill_switches_engaged', 'Kill switches set, by scope (global, provider: of the configured providers, account: as of the last full SCAN pass).', ['scope'], (gauge, s) => {
    if (!s.kills) return false;
    gauge.set({ scope: 'global' }, s.kills.global);
    gauge.set({ scope: 'provider' }, s.kills.provider);
    if (s.kills.account !== null) gauge.set({ scope: 'account' }, s.kills.account);
    return true;
  });
  stateGauge(registry, reader, 'bet_executor_circuit_state', `State of each bookmaker's circuit: 0 closed, 1 half-open (a probe is testing it), 2 open (no new pair needing it starts); at most ${circuitProvidersMax} providers, those whose circuit ever counted an outcome or was forced.`, ['provider'], (gauge, s) => {
    if (!s.circuits) return false;
    for (const [provider, state] of s.circuits.providers) gauge.set({ provider }, circuitStateValue(state));
    return true;
  });
  stateGauge(registry, reader, 'bet_executor_circuits_not_closed', 'Circuits open or half-open, by kind (provider: a whole bookmaker; account: one of our accounts at it).', ['kind'], (gauge, s) => {
    if (!s.circuits) return false;
    gauge.set({ kind: 'provider' }, s.circuits.notClosed.provider);
    gauge.set({ kind: 'account' }, s.circuits.notClosed.account);
    return true;
  });
  const transitions = new Counter<'provider' | 'kind' | 'to'>({
    name: 'bet_executor_circuit_transitions_total',
    help: 'Circuit state changes by every worker and operator (counted in Redis in the step that made them), by provider, circuit kind and state entered.',
    labelNames: ['provider', 'kind', 'to'], registers: [registry],
    async collect() {
      const s = await reader.snapshot();
      transitions.reset();
      for (const row of s.circuits?.transitions.slice(0, circuitProvidersMax * 6) ?? []) transitions.inc({ provider: row.provider, kind: row.kind, to: row.to }, row.count);
    },
  });
  stateGauge(registry, reader, 'bet_executor_queue_jobs', 'Jobs in each BullMQ queue by state (getJobCounts).', ['queue', 'state'], (gauge, s) => {
    if (!s.queues) return false;
    for (const q of s.queues) for (const [name, count] of Object.entries(q.counts)) gauge.set({ queue: queueName.of(q.name), state: state.of(name) }, count);
    return true;
  });
  stateGauge(registry, reader, 'bet_executor_queue_oldest_waiting_age_seconds', 'Age of the oldest job waiting in each queue, from its enqueue time (0 when none waits).', ['queue'], (gauge, s) => {
    if (!s.queues) return false;
    for (const q of s.queues) gauge.set({ queue: queueName.of(q.name) }, q.oldestWaitingAgeSeconds);
    return true;
  });
}
