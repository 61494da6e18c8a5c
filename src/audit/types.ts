// The audit's vocabulary: items, their results, and the scenarios that produce them.
import type { World, WorkerGroup } from './world.js';

export type ItemStatus = 'PASS' | 'FAIL' | 'SKIP';

export interface ItemDef {
  /** Stable id, used by --only (an id, a group key, or an id prefix). */
  id: string;
  group: GroupKey;
  title: string;
}

export const groups = {
  order: '1. Execution order and outcomes',
  cooldown: '2. Cooldown',
  settlement: '3. Settlement',
  exposure: '4. Exposure',
  concurrency: '5. Concurrency and isolation',
  missed: '6. Missed by the original audit',
  recommendations: '7. Recommendations of the original report',
} as const;
export type GroupKey = keyof typeof groups;

export interface ItemOutcome {
  status: ItemStatus;
  /** What was done to check it, in one sentence. */
  did: string;
  /** What was seen: counts, keys, times; for a FAIL, what broke first. */
  evidence: string;
}

export interface ItemResult extends ItemDef, ItemOutcome {
  elapsedMs: number;
}

/** What a scenario may use: the shared world and its main worker group (the contract queue). */
export interface ScenarioContext {
  world: World;
  main: WorkerGroup;
  /** A unique tag for ids (derived from the seed). */
  tag: string;
  /** Whether an item was asked for (--only): a scenario may skip the work of items nobody asked for. */
  selected(id: string): boolean;
  log(line: string): void;
}

export interface Scenario {
  name: string;
  items: ItemDef[];
  /** Scenarios of one lane run one after another; lanes run concurrently. */
  lane: 'main' | 'aux' | 'crash' | 'late';
  run(ctx: ScenarioContext, report: (id: string, outcome: ItemOutcome) => void): Promise<void>;
}

/** Collects the failed expectations of one item: PASS when none failed. */
export class Checks {
  readonly failures: string[] = [];
  readonly notes: string[] = [];

  expect(ok: boolean, failure: string): boolean {
    if (!ok) this.failures.push(failure);
    return ok;
  }

  note(text: string): void {
    this.notes.push(text);
  }

  outcome(did: string): ItemOutcome {
    const evidence = this.failures.length > 0 ? [...this.failures, ...this.notes].join('; ') : this.notes.join('; ');
    return { status: this.failures.length > 0 ? 'FAIL' : 'PASS', did, evidence };
  }
}

export function skip(did: string, evidence: string): ItemOutcome {
  return { status: 'SKIP', did, evidence };
}

export function fail(did: string, evidence: string): ItemOutcome {
  return { status: 'FAIL', did, evidence };
}
