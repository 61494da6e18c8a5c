// Schedules settlement polling: one BullMQ delayed job per accepted bet, one chain per bet whatever repeats.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PairDoc } from '../domain/pair.js';
import { betsToPoll, type BetToPoll } from '../domain/pair-settlement.js';
import type { SettlementScheduler } from '../executor/run.js';

export const settlementQueueName = 'bet-settlement';

export interface PollJobData extends BetToPoll {
  /** 1-based number of the poll this job runs next. */
  poll: number;
  /** How many bets the pair polls: the pair is complete when that many have a result. */
  betsPolled: number;
  /** When the next poll is due (unix ms), to measure its lateness. */
  dueAtMs: number;
}

/** One job id per bet: a repeat (duplicate delivery, resume after a crash) adds nothing. */
export function settlementJobId(arbId: string, clientRef: string): string {
  return `settle-${arbId}-${clientRef.slice(clientRef.lastIndexOf('.') + 1)}`;
}

export class BullSettlementScheduler implements SettlementScheduler {
  readonly queue: Queue<PollJobData>;

  constructor(connection: Redis, private readonly pollIntervalMs: number, queueName = settlementQueueName) {
    this.queue = new Queue<PollJobData>(queueName, { connection });
  }

  async ensureScheduled(doc: PairDoc): Promise<void> {
    const bets = betsToPoll(doc);
    const dueAtMs = Date.now() + this.pollIntervalMs;
    await this.queue.addBulk(bets.map((bet) => ({
      name: 'poll',
      data: { ...bet, poll: 1, betsPolled: bets.length, dueAtMs },
      opts: {
        jobId: settlementJobId(doc.arbId, bet.clientRef),
        delay: this.pollIntervalMs,
        removeOnComplete: { count: 100_000 },
        removeOnFail: false,
      },
    })));
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
