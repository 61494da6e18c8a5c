// A Provider that counts its placement calls (outcome, latency) for the operations API, off the bet's path.
import { performance } from 'node:perf_hooks';
import type { PlaceOutcomeName } from '../domain/stats.js';
import type { AccountStatusOutcome, LookupOutcome, PlaceOutcome, PlaceRequest, Provider } from './provider.js';

export interface PlacementRecorder {
  /** Called after the call returned, on a later turn of the event loop; must not throw. */
  placement(provider: string, outcome: PlaceOutcomeName, latencyMs: number, atMs: number): void;
}

class MeasuredProvider implements Provider {
  readonly accountStatus?: (accountId: string) => Promise<AccountStatusOutcome>;

  constructor(private readonly inner: Provider, private readonly recorder: PlacementRecorder) {
    if (inner.accountStatus) this.accountStatus = (accountId) => inner.accountStatus?.(accountId) ?? Promise.resolve({ kind: 'unavailable', detail: 'unsupported' });
  }

  get name(): string {
    return this.inner.name;
  }

  async place(request: PlaceRequest): Promise<PlaceOutcome> {
    const startedMs = performance.now();
    let outcome: PlaceOutcomeName = 'error';
    try {
      const answer = await this.inner.place(request);
      outcome = answer.kind;
      return answer;
    } finally {
      const latencyMs = performance.now() - startedMs;
      // Recorded after the caller has had the answer (setImmediate runs after the promise continuations):
      // the hedge request leaves before the positive's statistics are written.
      setImmediate(() => this.recorder.placement(this.inner.name, outcome, latencyMs, Date.now()));
    }
  }

  lookupByClientRef(clientRef: string): Promise<LookupOutcome> {
    return this.inner.lookupByClientRef(clientRef);
  }

  status(ticketId: string): Promise<LookupOutcome> {
    return this.inner.status(ticketId);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** The same providers, each counting its placement calls through the recorder. */
export function measuredProviders(providers: ReadonlyMap<string, Provider>, recorder: PlacementRecorder): Map<string, Provider> {
  return new Map([...providers].map(([name, provider]) => [name, new MeasuredProvider(provider, recorder)]));
}
