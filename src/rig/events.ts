// Reading the rig's events: the whole stream, an incremental feed from a point on, and waiting on a condition.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { eventsStream } from '../store/keys.js';

export interface StreamRow {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

const pageSize = 1_000;

function rowOf(id: string, fields: readonly string[]): StreamRow {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] as string, fields[i + 1] as string);
  return { id, type: map.get('type') ?? '', data: JSON.parse(map.get('data') ?? '{}') as Record<string, unknown> };
}

/** Reads a stream (the events by default) incrementally from where start() found its end, or from the beginning. */
export class EventFeed {
  readonly rows: StreamRow[] = [];
  private lastId = '0-0';

  constructor(private readonly redis: Redis, private readonly stream = eventsStream) {}

  /** Skips what the stream holds already: only later entries are read. */
  async start(): Promise<void> {
    const last = await this.redis.xrevrange(this.stream, '+', '-', 'COUNT', 1);
    this.lastId = last[0]?.[0] ?? '0-0';
  }

  /** Appends every entry added since the last poll to `rows`, and returns them. */
  async poll(): Promise<StreamRow[]> {
    const fresh: StreamRow[] = [];
    for (;;) {
      const batch = await this.redis.xrange(this.stream, `(${this.lastId}`, '+', 'COUNT', pageSize);
      for (const [id, fields] of batch) {
        fresh.push(rowOf(id, fields));
        this.lastId = id;
      }
      if (batch.length < pageSize) break;
    }
    this.rows.push(...fresh);
    return fresh;
  }
}

/** Polls `probe` every `pollMs` until it returns a value (not undefined/null/false); throws after timeoutMs naming `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, pollMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}
