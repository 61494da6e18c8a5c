// What the executor and the settlement poller tell the metrics, as a port free of prom-client (optional in ExecutorDeps).
import type { LegRole } from '../domain/types.js';
import type { PlaceOutcome } from '../providers/provider.js';
import type { StreamEntry } from '../store/store.js';

/** Where an event was written: while placing a pair, or while settling it (poller, sweep). */
export type EventPhase = 'placement' | 'settlement';

export interface ExecutorMetrics {
  /** Events this process has just written to the events stream, counted after the step that wrote them succeeded. */
  eventsWritten(entries: readonly StreamEntry[], phase: EventPhase): void;
  /**
   * One placement request's outcome. It runs between the positive's answer and the hedge request, so it
   * must stay a counter increment: nothing that allocates much, waits or does I/O.
   */
  placementAnswered(provider: string, leg: LegRole, result: PlaceOutcome['kind']): void;
}
