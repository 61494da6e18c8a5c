// Per-account settlement polling for batch-capable bookmakers: one loop per worker process takes the accounts that are
// due (Redis: a sorted set by next poll), asks each bookmaker account's settlement feed once (plus, once per new bet,
// its status by id, many per request), records every result through the same path as the per-bet chains, and sets
// the account's next poll by the adaptive schedule. No timer per bet or per account; a worker that dies mid-poll
// leaves the account due again when its claim lapses, and the feed cursor moves only after the results are recorded.
import { randomUUID } from 'node:crypto';
import { isFinalBetStatus } from '../domain/types.js';
import { nextAccountPoll, type SchedulePolicy } from '../domain/settlement-schedule.js';
import type { SettlementOutcome } from '../domain/settlement.js';
import type { Config } from '../config.js';
import type { ExecutorDeps } from '../executor/run.js';
import type { Provider, SettlementBatchPort } from '../providers/provider.js';
import { accountMember, type AccountRef, type AccountSettlementStore, type OpenBet } from './account-store.js';
import { recordFinalResult, type SettlementProbe } from './poller.js';

/** Most open bets past their deadline ended per account poll (the rest on the next poll, due at once). */
const expiredPerPollMax = 500;

export function schedulePolicyOf(config: Config): SchedulePolicy {
  return {
    pollIntervalMs: config.settlementPollIntervalMs,
    fastWindowMs: config.settlementFastWindowMs,
    backoffMaxMs: config.settlementPollBackoffMaxMs,
    deadlineMs: config.settlementDeadlineMs,
  };
}

/**
 * The batch ports of the providers the config declares batch-capable (`providers.<name>.settlementBatch`);
 * a declared provider whose adapter has none is a configuration error.
 */
export function batchPortsOf(config: Config, providers: ReadonlyMap<string, Provider>): Map<string, SettlementBatchPort> {
  const ports = new Map<string, SettlementBatchPort>();
  for (const [name, settings] of Object.entries(config.providers)) {
    if (!settings.settlementBatch) continue;
    const port = providers.get(name)?.batch;
    if (port === undefined) throw new Error(`provider ${name}: settlementBatch is configured but its adapter has no batched status`);
    ports.set(name, port);
  }
  return ports;
}

export interface AccountPollResult {
  outcome: 'polled' | 'not_due' | 'fenced';
  /** Bookmaker requests sent. */
  requests: number;
  /** Results recorded for open bets (timeouts included). */
  results: number;
}

export interface AccountPollerOptions {
  deps: ExecutorDeps;
  store: AccountSettlementStore;
  ports: ReadonlyMap<string, SettlementBatchPort>;
  probe?: SettlementProbe;
}

/** One account's poll, start to end. Exported for tests that stop a worker between its steps. */
export async function pollAccount(options: AccountPollerOptions, ref: AccountRef, token: string): Promise<AccountPollResult> {
  const { deps, store, ports } = options;
  const { config } = deps;
  const port = ports.get(ref.provider);
  if (port === undefined) throw new Error(`invariant violated: account ${ref.provider}:${ref.accountId} polled without a batch port`);
  const policy = schedulePolicyOf(config);
  const begun = await store.begin(ref, Date.now(), config.settlementAccountLeaseMs, token, config.settlementBatchSize, expiredPerPollMax);
  if (begun === null) return { outcome: 'not_due', requests: 0, results: 0 };
  options.probe?.pollStarted(Date.now() - begun.dueAtMs);
  const found = new Map<string, SettlementOutcome>();
  let requests = 0;
  // 1. The account's feed since the cursor: every result set since the last poll, re-settlements included.
  let cursor = begun.cursor;
  let feedOk = true;
  let more = false;
  const problems: string[] = [];
  for (let page = 0; page < config.settlementFeedPagesMax; page++) {
    requests++;
    const answer = await port.settledSince(ref.accountId, cursor, config.settlementBatchSize);
    if (answer.kind === 'unavailable') {
      feedOk = false;
      problems.push(`feed: ${answer.detail}`);
      break;
    }
    for (const bet of answer.bets) if (isFinalBetStatus(bet.status)) found.set(bet.ticketId, bet.status);
    cursor = answer.cursor;
    more = answer.more;
    if (!more) break;
  }
  // 2. Bets opened since the last poll, by id, once: one may have settled before it was opened here (its result
  // then lies behind the cursor). Asked after the feed: a result set in between is in the next feed page.
  const checked: string[] = [];
  for (let i = 0; i < begun.unchecked.length; i += config.settlementBatchSize) {
    const chunk = begun.unchecked.slice(i, i + config.settlementBatchSize);
    requests++;
    const answer = await port.statuses(chunk);
    if (answer.kind === 'unavailable') {
      problems.push(`statuses: ${answer.detail}`);
      continue;
    }
    checked.push(...chunk);
    for (const bet of answer.bets) if (isFinalBetStatus(bet.status)) found.set(bet.ticketId, bet.status);
  }
  // 3. Results of our open bets, and the bets past their deadline (`timeout`), recorded through the chains' path.
  const open = await store.openBets(ref, [...new Set([...found.keys(), ...begun.expired])]);
  const done: string[] = [];
  const recorded: Array<{ ticketId: string; clientRef: string; status: SettlementOutcome }> = [];
  const record = async (bet: OpenBet, status: SettlementOutcome): Promise<void> => {
    await recordFinalResult(deps, bet, status, { via: 'account_poll' });
    done.push(bet.ticketId);
    recorded.push({ ticketId: bet.ticketId, clientRef: bet.clientRef, status });
  };
  for (const [ticketId, status] of found) {
    const bet = open.get(ticketId);
    if (bet !== undefined) await record(bet, status);
  }
  for (const ticketId of begun.expired) {
    const bet = open.get(ticketId);
    if (bet !== undefined && !found.has(ticketId)) await record(bet, 'timeout');
  }
  await deps.store.audit([{
    type: 'bookmaker_settlement_poll',
    data: {
      provider: ref.provider, accountId: ref.accountId, requests, checkedById: checked.length,
      results: recorded, ...(problems.length > 0 ? { problems } : {}),
    },
  }]);
  // 4. The next poll: at once when the feed has more, one interval after a failed feed, else by the schedule.
  const nowMs = Date.now();
  const schedule = nextAccountPoll(nowMs, begun.window, recorded.length, policy);
  const nextAtMs = more && feedOk ? nowMs : feedOk ? schedule.atMs : nowMs + policy.pollIntervalMs;
  const committed = await store.commit(ref, token, {
    cursor: feedOk ? cursor : null, nextAtMs, idlePolls: feedOk ? schedule.idlePolls : begun.window.idlePolls,
    uncheckedDueMs: nowMs + policy.pollIntervalMs, done, checked,
  });
  return { outcome: committed ? 'polled' : 'fenced', requests, results: recorded.length };
}

/**
 * The worker's account poll loop: every settlementTickMs, takes the due accounts not being polled here already, up
 * to settlementConcurrency polls in flight, each on its own (a slow bookmaker delays only its accounts). When
 * every slot was taken, a finished poll looks again at once. One timer for the whole process.
 */
export class AccountPoller {
  private timer: NodeJS.Timeout | undefined;
  private roundActive = false;
  private saturated = false;
  private stopped = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly tokenPrefix = randomUUID();
  private polls = 0;

  constructor(private readonly options: AccountPollerOptions) {}

  start(): void {
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.inFlight.values());
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.roundActive = true;
      this.round().catch((error: unknown) => {
        this.options.deps.log.warn({ err: error }, 'account settlement polling failed; it goes on');
      }).finally(() => {
        this.roundActive = false;
        this.schedule(this.options.deps.config.settlementTickMs);
      });
    }, delayMs);
  }

  private async round(): Promise<void> {
    const { deps, store } = this.options;
    const free = deps.config.settlementConcurrency - this.inFlight.size;
    if (free <= 0) return;
    const due = await store.dueAccounts(Date.now(), free + this.inFlight.size);
    const taken = due.filter((ref) => !this.inFlight.has(accountMember(ref))).slice(0, free);
    this.saturated = taken.length === free;
    for (const ref of taken) {
      const member = accountMember(ref);
      const token = `${this.tokenPrefix}:${++this.polls}`;
      const poll = pollAccount(this.options, ref, token).then(
        () => undefined,
        (error: unknown) => {
          // Its claim lapses and the account is polled again (by this or another worker): nothing is lost.
          deps.log.error({ provider: ref.provider, accountId: ref.accountId, err: error }, 'account settlement poll interrupted; it will be retried');
        },
      ).finally(() => {
        this.inFlight.delete(member);
        if (this.saturated && !this.roundActive && !this.stopped) {
          this.saturated = false;
          this.schedule(0);
        }
      });
      this.inFlight.set(member, poll);
    }
  }
}
