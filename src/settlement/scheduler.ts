// Schedules a pair's settlement polling as a BullMQ delayed job, at most one chain per pair.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PairDoc } from '../domain/pair.js';
import type { SettlementScheduler } from '../executor/run.js';

export const settlementQueueName = 'bet-settlement';

export function settlementJobId(arbId: string): string {
  return `settle-${arbId}`;
}

export class BullSettlementScheduler implements SettlementScheduler {
  readonly queue: Queue;

  constructor(connection: Redis, private readonly pollIntervalMs: number) {
    this.queue = new Queue(settlementQueueName, { connection });
  }

  /** Idempotent: the job id is the pair's, so a repeat (duplicate, resume) adds nothing. */
  async ensureScheduled(doc: PairDoc): Promise<void> {
    await this.queue.add('poll', { arbId: doc.arbId, poll: 1 }, {
      jobId: settlementJobId(doc.arbId),
      delay: this.pollIntervalMs,
      removeOnComplete: { count: 10_000 },
      removeOnFail: false,
    });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
