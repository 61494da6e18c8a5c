// The alerter: consumes bet-executor:events in a consumer group and delivers each alert to every sink, at least once.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createRedis } from '../store/connection.js';
import { instanceName } from '../infra/instance.js';
import { alertOf, type Alert, type EventEntry } from './alert.js';
import type { AlerterConfig } from './config.js';
import { exposureUnresolvedCondition, workerHeartbeatCondition } from './deadman.js';
import { AlertHttp } from './http.js';
import { retryDelayMs, verdictOf, type AttemptVerdict } from './retry.js';
import { redact } from '../credentials.js';
import { sinksFromConfig, targetsOf, type Sink } from './sinks.js';
import { AlerterStore, entryOf, type DeliveryRecord, type RawEntry } from './store.js';

export interface AlerterOptions {
  config: AlerterConfig;
  redisUrl: string;
  log: Logger;
  /** Where sink secrets are read from (default: this process's environment). */
  env?: NodeJS.ProcessEnv;
}

export interface AlerterStats {
  /** Alerts whose every sink is done (delivered or dead-lettered) and that were acknowledged. */
  alertsDone: number;
  attemptsDelivered: number;
  attemptsFailed: number;
  deadLettered: number;
}

export interface RunningAlerter {
  consumer: string;
  stats(): AlerterStats;
  /** Stops reading, lets in-flight requests end (each has its deadline), leaves unfinished alerts pending for a claim. */
  close(): Promise<void>;
}

/** A sink's part of an alert ended: `final` (delivered or dead-lettered), or left for later/another alerter. */
type SinkEnd = 'final' | 'stopped' | 'not_owner';

const errorPauseMs = 1_000;
const autoclaimRoundsMax = 100;
const touchBatchMax = 100;
/** A consumer idle this many claimIdleMs with nothing pending is a finished process: its name is removed. */
const consumerIdleClaims = 10;
const consumersRemovedMax = 100;

export async function startAlerter(options: AlerterOptions): Promise<RunningAlerter> {
  const alerter = new Alerter(options);
  try {
    await alerter.start();
  } catch (error) {
    await alerter.close();
    throw error;
  }
  return alerter;
}

class Alerter implements RunningAlerter {
  readonly consumer: string;
  private readonly config: AlerterConfig;
  private readonly log: Logger;
  private readonly sinks: Sink[];
  private readonly secrets: string[];
  private readonly alertOn: ReadonlySet<string>;
  private readonly redis: Redis;
  private readonly reader: Redis;
  private readonly store: AlerterStore;
  private readonly http: AlertHttp;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Entries another alerter took from this one (it was frozen or cut off): stop working on them. */
  private readonly lost = new Set<string>();
  private readonly stopping = new AbortController();
  private readonly timers: NodeJS.Timeout[] = [];
  /** Periodic tasks running now (awaited on close, before the connections go). */
  private readonly tasks = new Set<Promise<void>>();
  private readonly startedAtMs = performance.now();
  private readLoop: Promise<void> = Promise.resolve();
  private readonly counts: AlerterStats = { alertsDone: 0, attemptsDelivered: 0, attemptsFailed: 0, deadLettered: 0 };

  constructor(options: AlerterOptions) {
    this.config = options.config;
    this.log = options.log;
    // Secrets first: a missing one stops the start-up before any connection is made.
    this.sinks = sinksFromConfig(options.config, options.env);
    this.secrets = this.sinks.flatMap((s) => s.secrets);
    this.alertOn = new Set(options.config.events);
    this.consumer = options.config.consumerName ?? instanceName();
    // Commands fail fast when Redis is away (the loops pause and try again); the reader blocks, so its timeout is longer.
    this.redis = createRedis(options.redisUrl, { maxRetriesPerRequest: 1, commandTimeout: 5_000 });
    this.reader = createRedis(options.redisUrl, { maxRetriesPerRequest: 1, commandTimeout: options.config.readBlockMs + 5_000 });
    for (const [name, connection] of [['commands', this.redis], ['reader', this.reader]] as const) {
      connection.on('error', (error) => this.log.warn({ err: error, connection: name }, 'alerter redis connection error'));
    }
    this.store = new AlerterStore(this.redis, options.config.consumerGroup, this.consumer, options.config);
    this.http = new AlertHttp(options.config.delivery.requestTimeoutMs, options.config.delivery.connections);
  }

  async start(): Promise<void> {
    await this.store.ensureGroup(this.config.startFrom);
    this.readLoop = this.runReadLoop();
    this.every(this.config.claimIntervalMs, () => this.claimAbandoned());
    this.every(Math.max(1, Math.floor(this.config.claimIdleMs / 3)), () => this.touchInFlight());
    const { deadman } = this.config;
    if (deadman.workerHeartbeatStaleMs !== null || deadman.exposureUnresolvedMs !== null) this.every(deadman.checkIntervalMs, () => this.checkDeadman());
    this.log.info({ consumer: this.consumer, group: this.config.consumerGroup, sinks: this.sinks.map((s) => `${s.name} (${s.type})`), events: [...this.alertOn] }, 'alerter started');
  }

  stats(): AlerterStats {
    return { ...this.counts };
  }

  async close(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    for (const timer of this.timers) clearInterval(timer);
    await this.readLoop;
    await Promise.allSettled([...this.inFlight.values(), ...this.tasks]);
    await this.http.close();
    this.redis.disconnect();
    this.reader.disconnect();
    this.log.info({ consumer: this.consumer, ...this.counts }, 'alerter stopped');
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** A periodic task; one run at a time, errors logged (Redis away: the next run tries again). */
  private every(intervalMs: number, task: () => Promise<void>): void {
    let running = false;
    const timer = setInterval(() => {
      if (running || this.stopped) return;
      running = true;
      const run = task().catch((error: unknown) => this.log.warn({ err: error }, 'alerter periodic task failed')).finally(() => {
        running = false;
        this.tasks.delete(run);
      });
      this.tasks.add(run);
    }, intervalMs);
    this.timers.push(timer);
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.stopping.signal });
    } catch {
      // Stopping: wake up at once.
    }
  }

  private async runReadLoop(): Promise<void> {
    // Entries this consumer name already holds (a restart under a stable consumerName) come first, paged by id.
    let from = '0';
    while (!this.stopped) {
      try {
        await this.waitForRoom();
        if (this.stopped) return;
        const room = this.config.inFlightMax - this.inFlight.size;
        const entries = await this.store.read(this.reader, from, Math.min(this.config.batchSize, room), this.config.readBlockMs);
        await this.take(entries, []);
        if (from !== '>') from = entries.at(-1)?.[0] ?? '>';
      } catch (error) {
        if (this.stopped) return;
        if (String((error as Error).message).startsWith('NOGROUP')) {
          this.log.warn({ group: this.config.consumerGroup }, 'consumer group gone (stream deleted?): creating it again');
          await this.store.ensureGroup('all').catch(() => undefined);
        } else {
          this.log.warn({ err: error }, 'reading the events stream failed; trying again');
        }
        await this.pause(errorPauseMs);
      }
    }
  }

  private async waitForRoom(): Promise<void> {
    while (!this.stopped && this.inFlight.size >= this.config.inFlightMax) await Promise.race([...this.inFlight.values()]);
  }

  /** Starts delivering the alerts among `entries`; acknowledges the rest (not alerts) and `deleted` (trimmed away). */
  private async take(entries: RawEntry[], deleted: string[]): Promise<void> {
    const plain: string[] = [];
    for (const id of deleted) {
      this.log.error({ eventId: id }, 'an event was trimmed from the stream before it was delivered: if it was an alert, it is lost');
      plain.push(id);
    }
    for (const [id, fields] of entries) {
      if (fields === null) {
        this.log.error({ eventId: id }, 'a pending event was trimmed from the stream before it was delivered: if it was an alert, it is lost');
        plain.push(id);
        continue;
      }
      const entry = entryOf([id, fields]);
      const alert = alertOf(entry, this.alertOn);
      if (alert === null) plain.push(id);
      else if (!this.inFlight.has(id)) this.startDelivery(entry, alert);
    }
    await this.store.ackPlain(plain);
  }

  private startDelivery(entry: EventEntry, alert: Alert): void {
    this.lost.delete(entry.id);
    const task = this.deliver(alert)
      .catch((error: unknown) => {
        // Redis away or a bug: the entry stays pending, untouched, and is claimed again after claimIdleMs.
        this.log.warn({ err: error, alertKey: alert.alertKey }, 'alert delivery interrupted; it stays pending and will be claimed again');
      })
      .finally(() => {
        this.inFlight.delete(entry.id);
        this.lost.delete(entry.id);
      });
    this.inFlight.set(entry.id, task);
  }

  private async deliver(alert: Alert): Promise<void> {
    const targets = targetsOf(alert, this.sinks);
    if (targets.length === 0) {
      this.log.error({ alertKey: alert.alertKey, title: alert.title, excluded: alert.excludeSinks }, 'alert has no sink to go to (recorded only)');
    }
    const ends = await Promise.all(targets.map((sink) => this.deliverTo(alert, sink)));
    if (!ends.every((end) => end === 'final')) return;
    await this.store.ack(alert.eventId, alert.alertKey);
    this.counts.alertsDone++;
  }

  /** Attempts until the sink took the alert or it is dead-lettered for it (or this alerter stops / lost it). */
  private async deliverTo(alert: Alert, sink: Sink): Promise<SinkEnd> {
    const { delivery } = this.config;
    for (;;) {
      if (this.stopped) return 'stopped';
      if (this.lost.has(alert.eventId)) return 'not_owner';
      const start = await this.store.beginAttempt(alert.eventId, alert.alertKey, sink.name);
      if (start.kind === 'not_owner') return 'not_owner';
      if (start.kind === 'done') return 'final';
      const answer = await this.http.post(sink.request(alert, start.attempt, Date.now()));
      const verdict = verdictOf(answer, Date.now());
      const httpStatus = answer.kind === 'answered' ? answer.httpStatus : null;
      const last = verdict.kind === 'refused' || (verdict.kind === 'retry' && start.attempt >= delivery.attemptsMax);
      await this.recordAttempt(alert, sink, start.attempt, verdict, httpStatus, last);
      if (verdict.kind === 'delivered' || last) return 'final';
      const waitMs = retryDelayMs(start.attempt, verdict.kind === 'retry' ? verdict.retryAfterMs : null, delivery, Math.random());
      await this.pause(waitMs);
    }
  }

  private async recordAttempt(alert: Alert, sink: Sink, attempt: number, verdict: AttemptVerdict, httpStatus: number | null, last: boolean): Promise<void> {
    const error = verdict.kind === 'delivered' ? '' : redact(verdict.error, this.secrets);
    const result: DeliveryRecord['result'] = verdict.kind === 'delivered' ? 'delivered' : last ? 'dead' : 'failed';
    const record: DeliveryRecord = { alertKey: alert.alertKey, eventId: alert.eventId, eventType: alert.eventType, sink: sink.name, attempt, result, httpStatus, error, atMs: Date.now() };
    const context = { alertKey: alert.alertKey, sink: sink.name, attempt, httpStatus, error };
    if (result === 'delivered') {
      this.counts.attemptsDelivered++;
      await this.store.record(record, null, null);
      this.log.info(context, 'alert delivered');
      return;
    }
    if (result === 'failed') {
      this.counts.attemptsFailed++;
      await this.store.record(record, null, null);
      this.log.warn(context, 'alert delivery failed; will retry');
      return;
    }
    const deadLetter = {
      alertKey: alert.alertKey, eventId: alert.eventId, eventType: alert.eventType, sink: sink.name, attempts: attempt,
      httpStatus, error, deadAtMs: record.atMs, title: alert.title, severity: alert.severity, fingerprint: alert.fingerprint, data: alert.data,
    };
    // A dead-letter alert that cannot be delivered is recorded but raises nothing more (no chain of alerts).
    const event = alert.eventType === 'alert_dead_lettered'
      ? null
      : { alertKey: alert.alertKey, eventId: alert.eventId, eventType: alert.eventType, sink: sink.name, attempts: attempt, httpStatus, error, title: alert.title };
    if ((await this.store.record(record, deadLetter, event)) === 'recorded') this.counts.deadLettered++;
    this.log.error(context, verdict.kind === 'refused' ? 'alert refused by the sink: dead-lettered' : 'alert delivery failed for good: dead-lettered');
  }

  /** XAUTOCLAIM: entries idle past claimIdleMs belong to an alerter that died; this one takes them over. */
  private async claimAbandoned(): Promise<void> {
    await this.claimEntries();
    const removed = await this.store.removeIdleConsumers(consumerIdleClaims * this.config.claimIdleMs, consumersRemovedMax);
    if (removed.length > 0) this.log.info({ consumers: removed }, 'removed the names of finished alerter processes from the consumer group');
  }

  private async claimEntries(): Promise<void> {
    let cursor = '0-0';
    for (let round = 0; round < autoclaimRoundsMax && !this.stopped; round++) {
      const room = this.config.inFlightMax - this.inFlight.size;
      if (room <= 0) return;
      const claimed = await this.store.autoclaim(this.config.claimIdleMs, cursor, Math.min(this.config.batchSize, room));
      if (claimed.entries.length > 0) this.log.warn({ count: claimed.entries.length }, 'claimed events left pending by another alerter');
      await this.take(claimed.entries, claimed.deleted);
      cursor = claimed.cursor;
      if (cursor === '0-0') return;
    }
  }

  private async touchInFlight(): Promise<void> {
    const ids = [...this.inFlight.keys()];
    for (let i = 0; i < ids.length; i += touchBatchMax) {
      for (const id of await this.store.touch(ids.slice(i, i + touchBatchMax))) this.lost.add(id);
    }
  }

  private async checkDeadman(): Promise<void> {
    const { deadman } = this.config;
    const nowMs = await this.store.nowMs();
    if (deadman.workerHeartbeatStaleMs !== null) {
      const state = workerHeartbeatCondition(await this.store.heartbeats(deadman.heartbeatKeysMax), nowMs, deadman.workerHeartbeatStaleMs, performance.now() - this.startedAtMs);
      await this.raise('worker_heartbeat', state.holds, state.detail);
    }
    if (deadman.exposureUnresolvedMs !== null) {
      const state = exposureUnresolvedCondition(await this.store.openReviews(deadman.reviewEntriesMax), nowMs, deadman.exposureUnresolvedMs);
      await this.raise('exposure_unresolved', state.holds, state.detail);
    }
  }

  private async raise(condition: string, holds: boolean, detail: string): Promise<void> {
    const outcome = await this.store.condition(condition, holds, this.config.deadman.realertIntervalMs, detail);
    if (outcome === 'fired' || outcome === 'realerted') this.log.error({ condition, detail }, `dead-man's switch: ${condition} ${outcome}`);
    if (outcome === 'resolved') this.log.info({ condition, detail }, `dead-man's switch: ${condition} cleared`);
  }
}
