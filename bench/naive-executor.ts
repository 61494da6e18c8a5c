// A deliberately naive executor that does what the audited "Worker 5" did, for the chaos comparison only.
//
// DELIBERATELY UNSAFE — never use it outside the side-by-side chaos comparison (`npm run chaos`, the
// "naive" column). It exists to show that the chaos invariants can fail. It can place one bet twice,
// bet inside an account's cooldown, and leave a positive bet unhedged without telling anyone.
//
// What it reproduces from the audit report (DESIGN.md, "What the audit missed"):
// - The cooldown lives in process memory (a Map), is read before the bets and written only AFTER them:
//   two pairs on one account checked at the same time both pass, and every worker process has its own.
// - No lease and no journal: a duplicate delivery of a job, or a job redelivered after a worker died,
//   is simply executed again (the audit marked "no double execution" PASS; it was not implemented).
// - No lookup before a retry: a positive placement that timed out or got a 5xx is re-sent blindly, up
//   to twice, each time as a fresh request. The audited code generated a new request id per attempt;
//   here attempt n is sent as `be1.{arbId}.p{n}` (clientRefFor), so the first attempt carries the same
//   reference as ours (the chaos scenario's bookmaker faults hit both executors alike) and the checks
//   can tie every bet to its arb and leg. A re-executed job starts again at attempt 1, so a bookmaker
//   that deduplicates references answers its repeat with the original bet; a blind retry (p2, p3) after
//   a lost answer is a new bet.
// - The hedge is placed only if the positive came back accepted (the part the seed did right), once,
//   at the job's stake and odds; its failure is ignored: no retry, no alert, no exposure record.
// - No settlement polling, no reconciliation, no events, no audit trail. Errors are logged and the job
//   completes ("logged and went on").
// - Input is checked for shape only (ids, odds, stakes): no kill switch, no staleness, and none of the
//   executor's own rules on what a pair must be (that its legs form an arb, leg terms it cannot honour).
//   It does not share parseBetPair, which grows those rules: a pair on one side, or on two events, is
//   executed here as the audited worker executed it.
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { parseOdds } from '../src/domain/money.js';
import { clientRefFor } from '../src/domain/pair.js';
import type { BetPair, LegInput, LegRole } from '../src/domain/types.js';
import { CURRENCY_RE, IDENTIFIER_RE, MARKET_RE } from '../src/domain/validation.js';
import type { PlaceOutcome, Provider } from '../src/providers/provider.js';

export interface NaiveWorkerOptions {
  redisUrl: string;
  queueName: string;
  providers: Map<string, Provider>;
  cooldownMs: number;
  concurrency: number;
  /** BullMQ job lock, stalled check and stalls allowed (the real worker's config values); BullMQ's defaults otherwise. */
  jobLockMs?: number;
  stalledCheckMs?: number;
  stalledCountMax?: number;
  /** One line per notable step (stderr in the process entry); silent by default. */
  log?: (line: string) => void;
}

/** Blind re-sends of a positive whose placement ended in doubt (timeout, reset, 5xx). */
export const positiveRetriesMax = 2;

type NaiveOutcome = 'invalid' | 'blocked' | 'positive_not_accepted' | 'executed' | 'hedge_ignored';

export interface NaiveDeps {
  providers: Map<string, Provider>;
  cooldownMs: number;
  /** Cooldown key → unix ms until which the account is cooling down. Process memory only. */
  cooldowns: Map<string, number>;
  log: (line: string) => void;
}

export async function startNaiveWorker(opts: NaiveWorkerOptions): Promise<{ close(): Promise<void> }> {
  const deps: NaiveDeps = { providers: opts.providers, cooldownMs: opts.cooldownMs, cooldowns: new Map<string, number>(), log: opts.log ?? (() => undefined) };
  const connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: null });
  connection.on('error', (error: Error) => deps.log(`redis error: ${error.message}`));
  const worker = new Worker(opts.queueName, (job: Job) => processNaively(deps, job), {
    connection,
    concurrency: opts.concurrency,
    ...(opts.jobLockMs !== undefined ? { lockDuration: opts.jobLockMs } : {}),
    ...(opts.stalledCheckMs !== undefined ? { stalledInterval: opts.stalledCheckMs } : {}),
    ...(opts.stalledCountMax !== undefined ? { maxStalledCount: opts.stalledCountMax } : {}),
    removeOnComplete: { count: 100_000 },
    removeOnFail: { count: 100_000 },
  });
  worker.on('error', (error: Error) => deps.log(`bullmq worker error: ${error.message}`));
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}

async function processNaively(deps: NaiveDeps, job: Job): Promise<NaiveOutcome | 'error'> {
  try {
    const outcome = await executeNaively(deps, job.data);
    deps.log(`job ${job.id ?? '?'}: ${outcome}`);
    return outcome;
  } catch (error) {
    // The audited code logged and went on: the job completes, whatever was or was not placed.
    deps.log(`job ${job.id ?? '?'}: error ${(error as Error).message}`);
    return 'error';
  }
}

function cooldownKey(leg: LegInput): string {
  return `cooldown:${leg.whitelabel}:${leg.provider}:${leg.accountId}`;
}

const id = z.string().regex(IDENTIFIER_RE);
const marketName = z.string().regex(MARKET_RE);
const odds = z.union([z.number(), z.string()]).transform((value, ctx) => {
  const result = parseOdds(String(value));
  if (result.ok) return result.oddsMilli;
  ctx.addIssue({ code: 'custom', message: result.reason });
  return z.NEVER;
});
// Unknown keys (a leg's own currency, say) are dropped, as the audited schema did.
const naiveLeg = z.object({
  betId: id, accountId: id, provider: id.optional(), whitelabel: id.optional(), eventId: id,
  market: marketName, selection: marketName, odds, stakeMinor: z.number().int().positive(),
});
const naivePairSchema = z.object({ arbId: id, betPairId: id, whitelabel: id, provider: id, currency: z.string().regex(CURRENCY_RE), positiveBet: naiveLeg, hedgeBet: naiveLeg });

/** The audited system's input check: the job's shape, nothing about whether it is an arb. Null when malformed. */
export function parseNaively(data: unknown): BetPair | null {
  const parsed = naivePairSchema.safeParse(data);
  if (!parsed.success) return null;
  const job = parsed.data;
  const leg = (l: z.output<typeof naiveLeg>): LegInput => ({
    betId: l.betId, accountId: l.accountId, provider: l.provider ?? job.provider, whitelabel: l.whitelabel ?? job.whitelabel,
    eventId: l.eventId, market: l.market, selection: l.selection, oddsMilli: l.odds, stakeMinor: l.stakeMinor,
  });
  return { arbId: job.arbId, betPairId: job.betPairId, whitelabel: job.whitelabel, provider: job.provider, currency: job.currency, createdAtMs: null, positive: leg(job.positiveBet), hedge: leg(job.hedgeBet) };
}

/** One pair, the audited way: check memory, bet, then remember the cooldown. */
export async function executeNaively(deps: NaiveDeps, data: unknown): Promise<NaiveOutcome> {
  const pair = parseNaively(data);
  if (pair === null) return 'invalid';
  const positiveProvider = deps.providers.get(pair.positive.provider);
  const hedgeProvider = deps.providers.get(pair.hedge.provider);
  if (!positiveProvider || !hedgeProvider) return 'invalid';
  const checkedAtMs = Date.now();
  // Check-then-act across awaits: nothing claims the accounts between this read and the write below.
  if ([pair.positive, pair.hedge].some((leg) => (deps.cooldowns.get(cooldownKey(leg)) ?? 0) > checkedAtMs)) return 'blocked';
  const betOn: LegInput[] = [pair.positive];
  try {
    const positive = await placePositiveBlindly(positiveProvider, pair);
    if (positive.kind !== 'accepted') return 'positive_not_accepted';
    betOn.push(pair.hedge);
    const hedge = await placeLeg(hedgeProvider, pair, 'hedge', 1);
    // The audited code stopped here whatever the hedge's fate: an unhedged positive goes unreported.
    return hedge.kind === 'accepted' ? 'executed' : 'hedge_ignored';
  } finally {
    // Written only after the bets, and only in this process's memory.
    const untilMs = Date.now() + deps.cooldownMs;
    for (const leg of betOn) deps.cooldowns.set(cooldownKey(leg), untilMs);
  }
}

/** The positive, re-sent without a lookup while the answer is in doubt: each attempt a new reference. */
async function placePositiveBlindly(provider: Provider, pair: BetPair): Promise<PlaceOutcome> {
  let outcome = await placeLeg(provider, pair, 'positive', 1);
  for (let retry = 1; retry <= positiveRetriesMax && outcome.kind === 'in_doubt'; retry++) {
    outcome = await placeLeg(provider, pair, 'positive', 1 + retry);
  }
  return outcome;
}

function placeLeg(provider: Provider, pair: BetPair, role: LegRole, attempt: number): Promise<PlaceOutcome> {
  const leg = pair[role];
  return provider.place({
    clientRef: clientRefFor(pair.arbId, role, attempt),
    accountId: leg.accountId,
    eventId: leg.eventId,
    market: leg.market,
    selection: leg.selection,
    oddsMilli: leg.oddsMilli,
    stakeMinor: leg.stakeMinor,
    currency: pair.currency,
  });
}
