// A provider that times each bookmaker request and counts its result, around the real one (same answers, same errors).
import { performance } from 'node:perf_hooks';
import type { AccountStatusOutcome, LookupOutcome, PlaceOutcome, PlaceRequest, Provider } from '../providers/provider.js';
import type { BookmakerOperation, MetricsRecorder } from './recorder.js';

class InstrumentedProvider implements Provider {
  /** Passed through (a circuit probe's request: counted by the circuit metrics, not as a bookmaker operation). */
  readonly accountStatus?: (accountId: string) => Promise<AccountStatusOutcome>;

  constructor(private readonly inner: Provider, private readonly metrics: MetricsRecorder) {
    if (inner.accountStatus) this.accountStatus = (accountId) => inner.accountStatus?.(accountId) ?? Promise.resolve({ kind: 'unavailable', detail: 'unsupported' });
  }

  get name(): string {
    return this.inner.name;
  }

  place(request: PlaceRequest): Promise<PlaceOutcome> {
    return this.timed('place', () => this.inner.place(request));
  }

  lookupByClientRef(clientRef: string): Promise<LookupOutcome> {
    return this.timed('lookup', () => this.inner.lookupByClientRef(clientRef));
  }

  status(ticketId: string): Promise<LookupOutcome> {
    return this.timed('status', () => this.inner.status(ticketId));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Before the request: one clock read (tens of nanoseconds), so a hedge leaves as soon as it did without metrics. */
  private async timed<T extends PlaceOutcome | LookupOutcome>(operation: BookmakerOperation, call: () => Promise<T>): Promise<T> {
    const startMs = performance.now();
    try {
      const outcome = await call();
      this.metrics.bookmakerAnswered(this.inner.name, operation, outcome.kind, (performance.now() - startMs) / 1000);
      return outcome;
    } catch (error) {
      // Providers answer with outcomes, not exceptions; one that throws is still timed, as unavailable.
      this.metrics.bookmakerAnswered(this.inner.name, operation, 'unavailable', (performance.now() - startMs) / 1000);
      throw error;
    }
  }
}

/** The same providers, each timed and counted by the recorder. */
export function instrumentProviders(providers: ReadonlyMap<string, Provider>, metrics: MetricsRecorder): Map<string, Provider> {
  return new Map([...providers].map(([name, provider]) => [name, new InstrumentedProvider(provider, metrics)]));
}
