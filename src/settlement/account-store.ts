// Redis side of per-account settlement polling: which accounts are due, their open bets, feed cursor and poll claim.
// Every step that must be atomic is one Lua script (src/store/lua/account_*.lua).
import type { Redis } from 'ioredis';
import type { BetToPoll } from '../domain/pair-settlement.js';
import { betWindow, ticketDeadlineMs, type SchedulePolicy } from '../domain/settlement-schedule.js';
import type { LegRole } from '../domain/types.js';
import { replyName } from '../store/codes.js';
import { keys } from '../store/keys.js';
import { opsLua } from '../store/scripts.js';

/** An open bet as its account's set keeps it (short field names: 100,000s of them live in Redis). */
export interface OpenBet {
  arbId: string;
  role: LegRole;
  clientRef: string;
  ticketId: string;
  /** How many bets the pair polls: the pair is complete when that many have a result. */
  betsPolled: number;
  registeredAtMs: number;
}

interface StoredBet {
  a: string;
  r: LegRole;
  c: string;
  n: number;
  t: number;
}

export interface AccountRef {
  provider: string;
  accountId: string;
}

/** What a worker learns when it takes an account's poll. */
export interface BegunPoll {
  dueAtMs: number;
  /** The feed cursor stored after the last poll (null: never polled: from the start of the feed). */
  cursor: string | null;
  window: { hotFromMs: number; hotUntilMs: number; idlePolls: number };
  /** Open bets not yet checked by id. */
  unchecked: string[];
  /** Open bets past their deadline. */
  expired: string[];
}

type Reply = Array<string | number>;

interface AccountRedis extends Redis {
  beAccountRegister(...args: (string | number)[]): Promise<number>;
  beAccountBegin(...args: (string | number)[]): Promise<Reply>;
  beAccountCommit(...args: (string | number)[]): Promise<number>;
}

/** A pair's entry in the settlement pending index (keys.settlePending): when the sweep looks at it. */
export interface PendingEntry {
  arbId: string;
  sweepAtMs: number;
}

type AccountPipeline = ReturnType<Redis['pipeline']> & { beAccountRegister(...args: (string | number)[]): AccountPipeline };

/** register's script keys and arguments for one bet. */
function registerArgs(bet: BetToPoll, betsPolled: number, nowMs: number, policy: SchedulePolicy): Array<string | number> {
  if (bet.accountId === undefined) throw new Error(`invariant violated: bet ${bet.clientRef} polled per account without its account`);
  const ref = { provider: bet.provider, accountId: bet.accountId };
  const expectedEndAtMs = bet.expectedEndAtMs ?? null;
  const window = betWindow(nowMs, expectedEndAtMs, policy);
  const stored: StoredBet = { a: bet.arbId, r: bet.role, c: bet.clientRef, n: betsPolled, t: nowMs };
  return [
    ...accountKeys(ref), accountMember(ref), bet.ticketId, JSON.stringify(stored),
    ticketDeadlineMs(nowMs, expectedEndAtMs, policy), window.fromMs, window.untilMs, nowMs + policy.pollIntervalMs,
  ];
}

export function accountMember(ref: AccountRef): string {
  return `${ref.provider}:${ref.accountId}`;
}

/** Provider names are [A-Za-z0-9_-]: the first `:` ends it. */
export function accountOfMember(member: string): AccountRef {
  const at = member.indexOf(':');
  return { provider: member.slice(0, at), accountId: member.slice(at + 1) };
}

function accountKeys(ref: AccountRef): string[] {
  return [
    keys.settleAccountsDue,
    keys.settleAccount(ref.provider, ref.accountId),
    keys.settleAccountBets(ref.provider, ref.accountId),
    keys.settleAccountUnchecked(ref.provider, ref.accountId),
    keys.settleAccountDeadlines(ref.provider, ref.accountId),
  ];
}

export class AccountSettlementStore {
  private readonly redis: AccountRedis;

  constructor(redis: Redis) {
    redis.defineCommand('beAccountRegister', { numberOfKeys: 5, lua: opsLua('account_register') });
    redis.defineCommand('beAccountBegin', { numberOfKeys: 5, lua: opsLua('account_begin') });
    redis.defineCommand('beAccountCommit', { numberOfKeys: 5, lua: opsLua('account_commit') });
    this.redis = redis as AccountRedis;
  }

  /**
   * Opens each bet on its account (once: a repeat adds nothing), due for a first poll one interval from now at the
   * latest, with its deadline and fast window from the schedule (src/domain/settlement-schedule.ts), in one round
   * trip: a pipeline on one connection, which Redis runs in order. `pending` (the pair's entry in the index the sweep for lost polling reads, added NX) goes
   * first, so a crash part-way leaves a pair the sweep finds, never a registered bet outside the index.
   * Per bet: true registered, false open already.
   */
  async registerAll(bets: readonly BetToPoll[], betsPolled: number, nowMs: number, policy: SchedulePolicy, pending: PendingEntry | null): Promise<boolean[]> {
    const pipeline = this.redis.pipeline() as AccountPipeline;
    if (pending !== null) pipeline.zadd(keys.settlePending, 'NX', pending.sweepAtMs, pending.arbId);
    for (const bet of bets) pipeline.beAccountRegister(...registerArgs(bet, betsPolled, nowMs, policy));
    const replies = (await pipeline.exec()) ?? [];
    if (replies.length !== bets.length + (pending === null ? 0 : 1)) throw new Error(`account registration: ${replies.length} replies to ${bets.length} bet(s)`);
    const failed = replies.find(([error]) => error !== null);
    if (failed) throw failed[0] ?? new Error('account registration failed');
    return replies.slice(pending === null ? 0 : 1).map(([, reply]) => replyName(reply as number, 'account_register', ['ok', 'already']) === 'ok');
  }

  /** Accounts whose poll is due, earliest first. */
  async dueAccounts(nowMs: number, countMax: number): Promise<AccountRef[]> {
    const members = await this.redis.zrangebyscore(keys.settleAccountsDue, '-inf', nowMs, 'LIMIT', 0, countMax);
    return members.map(accountOfMember);
  }

  /** When the earliest account is due (null: none open). */
  async nextDueMs(): Promise<number | null> {
    const first = await this.redis.zrange(keys.settleAccountsDue, 0, 0, 'WITHSCORES');
    return first[1] === undefined ? null : Number(first[1]);
  }

  /** Takes the account's poll if it is still due; null when another worker took it (or it is not due). */
  async begin(ref: AccountRef, nowMs: number, leaseMs: number, token: string, uncheckedMax: number, expiredMax: number): Promise<BegunPoll | null> {
    const reply = await this.redis.beAccountBegin(...accountKeys(ref), accountMember(ref), nowMs, leaseMs, token, uncheckedMax, expiredMax);
    if (replyName(reply, 'account_begin', ['ok', 'already']) === 'already') return null;
    const [, due, cursor, hotFrom, hotUntil, idle] = reply;
    const uncheckedCount = Number(reply[6]);
    const unchecked = reply.slice(7, 7 + uncheckedCount).map(String);
    const expiredCount = Number(reply[7 + uncheckedCount]);
    const expired = reply.slice(8 + uncheckedCount, 8 + uncheckedCount + expiredCount).map(String);
    return {
      dueAtMs: Number(due),
      cursor: cursor === '' || cursor === undefined ? null : String(cursor),
      window: { hotFromMs: Number(hotFrom), hotUntilMs: Number(hotUntil), idlePolls: Number(idle) },
      unchecked,
      expired,
    };
  }

  /** The open bets among these tickets (others: not ours, or their result is recorded already). */
  async openBets(ref: AccountRef, ticketIds: readonly string[]): Promise<Map<string, OpenBet>> {
    const out = new Map<string, OpenBet>();
    if (ticketIds.length === 0) return out;
    const values = await this.redis.hmget(keys.settleAccountBets(ref.provider, ref.accountId), ...ticketIds);
    ticketIds.forEach((ticketId, i) => {
      const json = values[i];
      if (json === null || json === undefined) return;
      const s = JSON.parse(json) as StoredBet;
      out.set(ticketId, { arbId: s.a, role: s.r, clientRef: s.c, ticketId, betsPolled: s.n, registeredAtMs: s.t });
    });
    return out;
  }

  /**
   * Ends the poll if this worker still holds it: `done` bets leave the open set, `checked` ones the to-check
   * set, the cursor moves on (null: unchanged), next poll at `nextAtMs` (see account_commit.lua). False: fenced.
   */
  async commit(ref: AccountRef, token: string, outcome: { cursor: string | null; nextAtMs: number; idlePolls: number; uncheckedDueMs: number; done: readonly string[]; checked: readonly string[] }): Promise<boolean> {
    const reply = await this.redis.beAccountCommit(
      ...accountKeys(ref), accountMember(ref), token, outcome.cursor ?? '', outcome.nextAtMs, outcome.idlePolls, outcome.uncheckedDueMs,
      outcome.done.length, ...outcome.done, outcome.checked.length, ...outcome.checked,
    );
    return replyName(reply, 'account_commit', ['ok', 'fenced']) === 'ok';
  }

  /** The bet is open on its account and the account is due some time: its polling is alive. */
  async isOpen(bet: BetToPoll): Promise<boolean> {
    if (bet.accountId === undefined) return false;
    const ref = { provider: bet.provider, accountId: bet.accountId };
    const [open, due] = await Promise.all([
      this.redis.hexists(keys.settleAccountBets(ref.provider, ref.accountId), bet.ticketId),
      this.redis.zscore(keys.settleAccountsDue, accountMember(ref)),
    ]);
    return open === 1 && due !== null;
  }
}
