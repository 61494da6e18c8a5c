// Schedules settlement polling: one BullMQ delayed job per accepted bet, one chain per bet whatever repeats;
// after the first reconciliation, one re-check job per bet; and the index the sweep for lost chains reads.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { bullKeepJobs, configSchema, type Config } from '../config.js';
import type { PairDoc } from '../domain/pair.js';
import { betsToPoll, type BetToPoll } from '../domain/pair-settlement.js';
import type { SettlementScheduler } from '../executor/run.js';
import { keys } from '../store/keys.js';
import type { SchedulePolicy } from '../domain/settlement-schedule.js';
import type { AccountSettlementStore, PendingEntry } from './account-store.js';

export const settlementQueueName = 'bet-settlement';

/** Job names on the settlement queue: a bet's poll chain, and its one re-check after the pair was reconciled. */
export const pollJobName = 'poll';
export const recheckJobName = 'recheck';

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

/** One re-check per bet, whatever repeats. */
export function recheckJobId(arbId: string, clientRef: string): string {
  return `recheck-${arbId}-${clientRef.slice(clientRef.lastIndexOf('.') + 1)}`;
}

/** Finished poll jobs kept (BullMQ KeepJobs); the worker passes its config's jobRetention (fromConfig). */
export interface SettlementJobRetention {
  removeOnComplete: { age: number; count: number };
  removeOnFail: { age: number; count: number };
}

function defaultRetention(): SettlementJobRetention {
  const { completed, failed } = configSchema.shape.jobRetention.parse(undefined);
  return { removeOnComplete: bullKeepJobs(completed), removeOnFail: bullKeepJobs(failed) };
}

/** Bets of batch-capable bookmakers are polled per account (src/settlement/account-poller.ts), not by a chain. */
export interface AccountRouting {
  store: AccountSettlementStore;
  /** Providers configured `settlementBatch: true`. */
  batchProviders: ReadonlySet<string>;
  policy: SchedulePolicy;
}

export class BullSettlementScheduler implements SettlementScheduler {
  readonly queue: Queue<PollJobData>;

  constructor(
    private readonly connection: Redis,
    private readonly timings: { pollIntervalMs: number; resettlementCheckDelayMs: number; sweepMs: number },
    queueName = settlementQueueName,
    private readonly jobOptions: SettlementJobRetention = defaultRetention(),
    readonly accounts: AccountRouting | null = null,
  ) {
    this.queue = new Queue<PollJobData>(queueName, { connection });
  }

  /** The bet is polled per account (its bookmaker has batched status), not by a poll chain of its own. */
  polledPerAccount(bet: BetToPoll): boolean {
    return this.accounts !== null && bet.accountId !== undefined && this.accounts.batchProviders.has(bet.provider);
  }

  /** The bet's polling is alive: its account holds it open, or its chain's job is in a live state (see sweep.ts). */
  async accountBetOpen(bet: BetToPoll): Promise<boolean> {
    return this.accounts !== null && this.accounts.store.isOpen(bet);
  }

  /**
   * Starts the polling of every accepted bet of a placed pair (idempotent): its poll chain, or its account's open
   * set, and enters the pair in the index the sweep for lost polling reads (first, so a crash between the two leaves
   * a pair the sweep finds). Bets polled per account: one Redis round trip for the index and every bet.
   */
  async ensureScheduled(doc: PairDoc): Promise<void> {
    const bets = betsToPoll(doc);
    if (bets.length === 0) return;
    // NX: a repeat (resume, duplicate) does not push back the sweep's next look at the pair.
    await this.start(bets, bets.length, 1, { arbId: doc.arbId, sweepAtMs: Date.now() + this.sweepAfterMs() });
  }

  /** Starts a bet's polling again (the sweep found it dead): a poll chain from poll `fromPoll`, or its account's set. */
  async restartChain(bet: BetToPoll, betsPolled: number, fromPoll: number): Promise<void> {
    await this.start([bet], betsPolled, fromPoll, null);
  }

  /**
   * The pending index entry (when given) first, then the bets' polling. Bets polled per account are registered in
   * the same round trip as the index entry (one pipeline, run in order); poll chains are BullMQ jobs, added after.
   */
  private async start(bets: BetToPoll[], betsPolled: number, fromPoll: number, pending: PendingEntry | null): Promise<void> {
    const perAccount = bets.filter((bet) => this.polledPerAccount(bet));
    const chains = bets.filter((bet) => !this.polledPerAccount(bet));
    if (this.accounts !== null && perAccount.length > 0) {
      await this.accounts.store.registerAll(perAccount, betsPolled, Date.now(), this.accounts.policy, pending);
    } else if (pending !== null) {
      await this.connection.zadd(keys.settlePending, 'NX', pending.sweepAtMs, pending.arbId);
    }
    if (chains.length > 0) await this.addChains(chains, betsPolled, fromPoll);
  }

  /** After a pair's first reconciliation: each bet checked once more, resettlementCheckDelayMs later (0 = off). */
  async scheduleRechecks(doc: PairDoc): Promise<void> {
    const delayMs = this.timings.resettlementCheckDelayMs;
    const bets = betsToPoll(doc);
    if (delayMs === 0 || bets.length === 0) return;
    const dueAtMs = Date.now() + delayMs;
    await this.queue.addBulk(bets.map((bet) => ({
      name: recheckJobName,
      data: { ...bet, poll: 1, betsPolled: bets.length, dueAtMs },
      opts: { jobId: recheckJobId(bet.arbId, bet.clientRef), delay: delayMs, ...this.jobOptions },
    })));
  }

  /** When the sweep looks at a pending pair again: well after a healthy chain's next poll, and after a resume. */
  sweepAfterMs(): number {
    return Math.max(this.timings.sweepMs, 3 * this.timings.pollIntervalMs);
  }

  private async addChains(bets: BetToPoll[], betsPolled: number, poll: number): Promise<void> {
    // BullMQ's delayed set is scored in the host's real time.
    const dueAtMs = Date.now() + this.timings.pollIntervalMs;
    await this.queue.addBulk(bets.map((bet) => ({
      name: pollJobName,
      data: { ...bet, poll, betsPolled, dueAtMs },
      opts: { jobId: settlementJobId(bet.arbId, bet.clientRef), delay: this.timings.pollIntervalMs, ...this.jobOptions },
    })));
  }

  /** The scheduler of a worker's config, on its settlement queue (with per-account routing when given). */
  static fromConfig(connection: Redis, config: Config, accounts: AccountRouting | null = null): BullSettlementScheduler {
    return new BullSettlementScheduler(connection, {
      pollIntervalMs: config.settlementPollIntervalMs, resettlementCheckDelayMs: config.resettlementCheckDelayMs, sweepMs: config.settlementSweepMs,
    }, config.settlementQueueName, {
      removeOnComplete: bullKeepJobs(config.jobRetention.completed), removeOnFail: bullKeepJobs(config.jobRetention.failed),
    }, accounts);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
