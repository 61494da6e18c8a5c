// The worker's side of the circuit breakers: every bookmaker answer is counted in memory (no Redis on the bet's
// path) and sent to its circuit every reportIntervalMs; one small timer looks for circuits due a probe and tests
// them, one at a time per circuit across every worker (the probe lock in Redis), with a request that places nothing.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { CircuitBreakerConfig, Config } from '../config.js';
import {
  accountCircuit, addCounts, classifyPlacement, classifyRead, countsEmpty, emptyCounts, formatCircuitScope, parseCircuitScope, providerCircuit,
  type CircuitScope, type CircuitSettings, type Classified, type WindowCounts,
} from '../domain/circuit.js';
import { probeRefPrefix } from '../providers/protocol.js';
import type { AccountStatusOutcome, LookupOutcome, PlaceOutcome, PlaceRequest, Provider } from '../providers/provider.js';
import type { CircuitStore } from '../store/circuit.js';

export function circuitSettingsOf(c: CircuitBreakerConfig): CircuitSettings {
  return { windowMs: c.windowMs, failureRatio: c.failureRatio, minVolume: c.minVolume, accountFailuresMin: c.accountFailuresMin, coolOffMs: c.coolOffMs, coolOffMsMax: c.coolOffMsMax };
}

/** Reads of one bet (by reference or ticket) remembered so that each counts once per window (bounded). */
const readsRememberedMax = 200_000;
/** A final report on stop waits at most this long (Redis may be what is failing). */
const finalReportMsMax = 1_000;
/** Probes one worker runs per look: a look never takes longer than a few probe timeouts. */
const probesPerLookMax = 4;
/** The probe lock outlives the probe's request by this. */
const probeLockSlackMs = 1_000;

interface Pending {
  scope: CircuitScope;
  counts: WindowCounts;
  /** The last failure's detail (shown with the event if this report opens the circuit). */
  detail: string;
}

/**
 * Counts bookmaker answers per circuit in memory and reports them every reportIntervalMs: one Lua step per circuit
 * with news, which may open it. Placements count each; a read of one bet (an in-doubt reference looked up every
 * inDoubtPollMs, a ticket polled) counts once per window, so one stuck bet cannot outweigh a bookmaker's traffic.
 */
export class CircuitReporter {
  private pending = new Map<string, Pending>();
  /** The generation each circuit was at when last reported: a batch from another generation is dropped (gobreaker). */
  private readonly generations = new Map<string, number>();
  private readonly readsCounted = new Map<string, number>();
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly settings: CircuitSettings;

  constructor(
    private readonly store: CircuitStore,
    private readonly config: CircuitBreakerConfig,
    private readonly log: Logger,
    private readonly monoMs: () => number = () => performance.now(),
  ) {
    this.settings = circuitSettingsOf(config);
  }

  observePlacement(provider: string, request: PlaceRequest, outcome: PlaceOutcome): void {
    const classified = classifyPlacement(outcome, this.config.accountFailureReasons);
    const detail = outcome.kind === 'rejected' ? outcome.reason : 'detail' in outcome ? outcome.detail : outcome.kind;
    this.count(provider, classified, detail, request.accountId);
  }

  /** `id`: what was read (a reference or a ticket), so that repeated reads of one bet count once per window. */
  observeRead(provider: string, id: string, outcome: LookupOutcome): void {
    const key = `${provider}\u0000${id}`;
    const nowMs = this.monoMs();
    const countedAtMs = this.readsCounted.get(key);
    if (countedAtMs !== undefined && nowMs - countedAtMs < this.config.windowMs) return;
    this.readsCounted.delete(key);
    this.readsCounted.set(key, nowMs);
    if (this.readsCounted.size > readsRememberedMax) {
      const oldest = this.readsCounted.keys().next();
      if (oldest.done !== true) this.readsCounted.delete(oldest.value);
    }
    this.count(provider, classifyRead(outcome), outcome.kind === 'unavailable' ? outcome.detail : outcome.kind, null);
  }

  /** A provider call that threw (providers answer with outcomes; a throw is a bug or a dead connection): a failure. */
  observeThrow(provider: string, what: 'place' | 'read', error: unknown): void {
    this.count(provider, { class: what, provider: 'failure', accountFailure: false }, error instanceof Error ? error.message : 'threw', null);
  }

  private count(provider: string, c: Classified, detail: string, accountId: string | null): void {
    if (c.provider !== null) {
      const batch = emptyCounts();
      batch[c.class][c.provider === 'success' ? 'ok' : 'fail'] += 1;
      this.add(providerCircuit(provider), batch, c.provider === 'failure' ? detail : null);
    }
    if (c.accountFailure && accountId !== null) {
      this.add(accountCircuit(provider, accountId), { ...emptyCounts(), accountFail: 1 }, detail);
    }
  }

  private add(scope: CircuitScope, batch: WindowCounts, failureDetail: string | null): void {
    const text = formatCircuitScope(scope);
    const pending = this.pending.get(text);
    if (pending === undefined) this.pending.set(text, { scope, counts: batch, detail: failureDetail ?? '' });
    else {
      pending.counts = addCounts(pending.counts, batch);
      if (failureDetail !== null) pending.detail = failureDetail;
    }
  }

  /** Sends what was counted since the last report (one step per circuit); a report already under way is joined. */
  flush(): Promise<void> {
    this.flushing ??= this.send().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async send(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending.entries()];
    this.pending = new Map();
    await Promise.all(batch.map(async ([text, p]) => {
      if (countsEmpty(p.counts)) return;
      try {
        const answer = await this.store.report(p.scope, p.counts, this.generations.get(text) ?? null, this.settings, p.detail);
        this.generations.set(text, answer.generation);
        if (answer.opened) this.log.warn({ circuit: text, generation: answer.generation, detail: p.detail }, 'CIRCUIT OPEN: no new pair needing it starts until a probe finds it well');
      } catch (error) {
        // Outcomes are evidence, not money: a report Redis could not take is dropped (preflight fails closed anyway).
        this.log.warn({ err: error, circuit: text }, 'circuit outcomes not reported');
      }
    }));
  }

  start(): void {
    this.timer = setInterval(() => {
      void this.flush();
    }, this.config.reportIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([this.flush(), new Promise<void>((resolve) => { bound = setTimeout(resolve, finalReportMsMax); })]);
    clearTimeout(bound);
  }
}

/** A provider whose every answer is counted by the reporter (the worker's providers are wrapped in it). */
class CircuitObservedProvider implements Provider {
  readonly accountStatus?: (accountId: string) => Promise<AccountStatusOutcome>;

  constructor(private readonly inner: Provider, private readonly reporter: CircuitReporter) {
    const ask = inner.accountStatus?.bind(inner);
    if (ask) this.accountStatus = (accountId) => ask(accountId);
  }

  get name(): string {
    return this.inner.name;
  }

  async place(request: PlaceRequest): Promise<PlaceOutcome> {
    let outcome: PlaceOutcome;
    try {
      outcome = await this.inner.place(request);
    } catch (error) {
      this.reporter.observeThrow(this.inner.name, 'place', error);
      throw error;
    }
    this.reporter.observePlacement(this.inner.name, request, outcome);
    return outcome;
  }

  lookupByClientRef(clientRef: string): Promise<LookupOutcome> {
    return this.read(`ref:${clientRef}`, () => this.inner.lookupByClientRef(clientRef));
  }

  status(ticketId: string): Promise<LookupOutcome> {
    return this.read(`ticket:${ticketId}`, () => this.inner.status(ticketId));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async read(id: string, call: () => Promise<LookupOutcome>): Promise<LookupOutcome> {
    let outcome: LookupOutcome;
    try {
      outcome = await call();
    } catch (error) {
      this.reporter.observeThrow(this.inner.name, 'read', error);
      throw error;
    }
    this.reporter.observeRead(this.inner.name, id, outcome);
    return outcome;
  }
}

export function observedProviders(providers: ReadonlyMap<string, Provider>, reporter: CircuitReporter): Map<string, Provider> {
  return new Map([...providers].map(([name, provider]) => [name, new CircuitObservedProvider(provider, reporter)]));
}

/** What a probe found: ok closes the circuit, anything else opens it again. */
export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/**
 * A probe places nothing. A bookmaker's circuit: a lookup of a reference no bet ever carries (`be1-probe.{uuid}`);
 * any answer about it (not_found, found) means the bookmaker answers. An account's circuit: the account's standing
 * under the key its placements use; only `active` is well.
 */
export async function probeCircuit(scope: CircuitScope, provider: Provider): Promise<ProbeResult> {
  if (scope.kind === 'provider') {
    const answer = await provider.lookupByClientRef(`${probeRefPrefix}${randomUUID()}`);
    return answer.kind === 'unavailable' ? { ok: false, detail: `lookup: ${answer.detail}` } : { ok: true, detail: `lookup: ${answer.kind}` };
  }
  if (!provider.accountStatus) return { ok: false, detail: 'account: this provider cannot tell an account\'s standing (force the circuit closed after checking)' };
  const answer = await provider.accountStatus(scope.accountId);
  if (answer.kind === 'unavailable') return { ok: false, detail: `account: ${answer.detail}` };
  return { ok: answer.status === 'active', detail: `account: ${answer.status}` };
}

/**
 * Every probeIntervalMs: the circuits due a probe (open past their cool-off, or half-open with an expired lock),
 * those of providers this worker has, at most a few per look. The lock is taken in Redis, so across every worker
 * one probe at a time tests a circuit; its result is applied under the lock's token and generation.
 */
export class CircuitProber {
  private timer: NodeJS.Timeout | undefined;
  private looking: Promise<void> | null = null;

  constructor(
    private readonly store: CircuitStore,
    private readonly providers: ReadonlyMap<string, Provider>,
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  /** One look (a look under way is joined). */
  look(): Promise<void> {
    this.looking ??= this.probeDue().finally(() => {
      this.looking = null;
    });
    return this.looking;
  }

  private async probeDue(): Promise<void> {
    const due = await this.store.dueForProbe(Date.now());
    let probes = 0;
    for (const text of due) {
      if (probes >= probesPerLookMax) return;
      const parsed = parseCircuitScope(text);
      if (!parsed.ok) continue;
      const provider = this.providers.get(parsed.scope.provider);
      if (provider === undefined) continue; // another deployment's bookmaker: its workers probe it
      if (await this.probeOne(parsed.scope, text, provider)) probes++;
    }
  }

  /** Probes one circuit if this worker gets its lock; true when it did. */
  private async probeOne(scope: CircuitScope, text: string, provider: Provider): Promise<boolean> {
    const token = randomUUID();
    const timeoutMs = this.config.providers[scope.provider]?.requestTimeoutMs ?? this.config.providerTimeoutMs;
    const granted = await this.store.probeBegin(scope, token, timeoutMs + probeLockSlackMs);
    if (granted.reply !== 'ok') return false;
    let result: ProbeResult;
    try {
      result = await probeCircuit(scope, provider);
    } catch (error) {
      result = { ok: false, detail: `probe threw: ${error instanceof Error ? error.message : 'unknown'}` };
    }
    const ended = await this.store.probeEnd(scope, token, granted.generation, result.ok, result.detail, this.config.circuitBreaker);
    const line = { circuit: text, probe: result.detail, state: ended.state, reply: ended.reply };
    if (ended.reply !== 'ok') this.log.info(line, 'circuit probe result not applied: the circuit moved on meanwhile');
    else if (result.ok) this.log.warn(line, 'circuit closed: the probe found the bookmaker well; new pairs start again');
    else this.log.warn(line, 'circuit stays open: the probe failed');
    return true;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.look().catch((error: unknown) => this.log.warn({ err: error }, 'circuit probe look failed'));
    }, this.config.circuitBreaker.probeIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // A probe under way finishes by its own request timeout; its lock expires if this process exits first.
  }
}

export interface CircuitBreakers {
  /** The providers the executor uses: each answer counted (when circuits are enabled). */
  providers: Map<string, Provider>;
  reporter: CircuitReporter;
  prober: CircuitProber;
  stop(): Promise<void>;
}

/**
 * The worker's breakers over `providers` (which the prober uses as they are: a probe is not counted as traffic).
 * With circuitBreaker.enabled false nothing is counted, so nothing trips; open circuits are still probed.
 */
export function startCircuitBreakers(o: { config: Config; store: CircuitStore; providers: Map<string, Provider>; log: Logger }): CircuitBreakers {
  const reporter = new CircuitReporter(o.store, o.config.circuitBreaker, o.log);
  const prober = new CircuitProber(o.store, o.providers, o.config, o.log);
  const providers = o.config.circuitBreaker.enabled ? observedProviders(o.providers, reporter) : o.providers;
  if (o.config.circuitBreaker.enabled) reporter.start();
  prober.start();
  return {
    providers, reporter, prober,
    async stop() {
      await prober.stop();
      await reporter.stop();
    },
  };
}
