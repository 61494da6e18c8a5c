// Per-account settlement polling at a real book's scale: N open pairs across A accounts of two batch-capable
// bookmakers, one worker. The pairs are seeded, not executed (placing 100,000 pairs would take minutes): their bets
// are placed at the simulators in bulk (POST /_sim/place-many), and each pair's journal is written through the
// store (claim, then the `hedged` transition, from the document of one pair the worker executed for real) and its
// settlement started through the scheduler, as the executor does after a hedge. During the window some bets are
// settled at the simulators on a schedule (POST /_sim/settle-many); the delay to their `bet_settled` event is measured.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { startWorker } from '../src/app/worker.js';
import type { PairDoc } from '../src/domain/pair.js';
import { betsToPoll } from '../src/domain/pair-settlement.js';
import { startPrivateRedis, type PrivateRedis } from '../src/infra/redis-server.js';
import { closeProviders, providersFromConfig } from '../src/providers/factory.js';
import { schedulePolicyOf } from '../src/settlement/account-poller.js';
import { AccountSettlementStore } from '../src/settlement/account-store.js';
import type { SettlementProbe } from '../src/settlement/poller.js';
import { BullSettlementScheduler } from '../src/settlement/scheduler.js';
import { eventsStream, keys } from '../src/store/keys.js';
import { Store } from '../src/store/store.js';
import { benchConfig, completions, fillPausedQueue, makeBenchPair, outcomeProblem, sampleCpu, type RoundTarget } from './rounds.js';
import { pollIntervalMs } from './settlement-bench.js';
import type { BenchSims } from './sims.js';
import { summarize, type LatencySummary } from './stats.js';

export interface AccountSettlementOptions {
  /** Open pairs seeded (2 bets each, one per bookmaker). */
  pairs: number;
  /** Accounts they spread over, half at each bookmaker. */
  accounts: number;
  /** Measurement window: whole poll intervals. */
  windowMs: number;
  /** Pairs whose two bets are settled at the simulators during the window (at random times in it). */
  settledPairs: number;
}

export const accountSettlementDefaults: AccountSettlementOptions = { pairs: 100_000, accounts: 1_000, windowMs: 4 * pollIntervalMs, settledPairs: 2_000 };

/** Pairs written at once while seeding (ioredis pipelines the commands of one chunk). */
const seedChunk = 500;
/** Bets per POST /_sim/place-many (the control body's limit is 10,000). */
const placeChunk = 5_000;
const settleChunk = 5_000;

export interface AccountSettlementFigures {
  generatedAt: string;
  pairs: number;
  accounts: number;
  betsPerAccount: number;
  pollIntervalMs: number;
  windowMs: number;
  seeding: { placeMs: number; journalMs: number; note: string };
  cpu: { percentOfCore: { worker: number; redis: number; sims: number | null } };
  requests: {
    /** Bookmaker settlement requests (feed pages, batched status, per-ticket status) in the window, both bookmakers. */
    inWindow: number;
    perSecond: number;
    /** Requests / (accounts × intervals in the window). */
    perAccountPerInterval: number;
    byKind: { feed: number; batchedStatus: number; ticketStatus: number };
  };
  /** Account polls started in the window, and how late against their due time. */
  accountPolls: { count: number; lateness: LatencySummary };
  redis: {
    bytesBefore: number;
    bytesAfterSeed: number;
    /** (after seeding − before) / pairs: journal, indexes, the account sets; no execution events (seeded). */
    bytesPerOpenPair: number;
    /** Of which the settlement state alone (the account sets, their deadlines, the pending-pairs index), MEMORY USAGE / pairs. */
    settlementBytesPerOpenPair: number;
    /** Of which the pair's journal hash (be:pair:{arbId}), MEMORY USAGE averaged over a sample of the seeded pairs. */
    journalBytesPerOpenPair: number;
    /** The journal's `doc` field (the stored document, src/domain/pair-codec.ts), bytes, averaged over the same sample. */
    journalDocBytes: number;
  };
  /** Simulator settled the bet (its scheduled time) → the bet's `bet_settled` event in the events stream. */
  detection: LatencySummary & { settledBets: number; detected: number };
}

class PollRecorder implements SettlementProbe {
  recording = false;
  latenessMs: number[] = [];
  pollStarted(latenessMs: number): void {
    if (this.recording) this.latenessMs.push(latenessMs);
  }
}

type SimCounts = { status: number; statuses: number; settled: number };

async function simCounts(url: string): Promise<SimCounts> {
  const response = await fetch(`${url}/_sim/requests`);
  if (!response.ok) throw new Error(`GET ${url}/_sim/requests answered ${response.status}`);
  // The simulator answers { requests: { place, lookup, status, account, statuses, settled, settledAccounts } }.
  return ((await response.json()) as { requests: SimCounts }).requests;
}

async function postJson<T>(url: string, body: unknown): Promise<T> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? Number.NaN);
}

async function memoryUsage(redis: Redis, key: string): Promise<number> {
  return Number(await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) || 0;
}

/** Seeded journals measured one by one (MEMORY USAGE) for the journal's share. */
const journalSampleSize = 1_000;

async function journalSample(redis: Redis, arbIds: string[]): Promise<{ bytes: number; docBytes: number }> {
  let bytes = 0;
  let docBytes = 0;
  for (const arbId of arbIds) {
    bytes += await memoryUsage(redis, keys.pair(arbId));
    docBytes += Number(await redis.hstrlen(keys.pair(arbId), 'doc'));
  }
  if (bytes === 0 || docBytes === 0) throw new Error(`journal sample: no seeded journal found (first ${arbIds[0] ?? 'none'})`);
  return { bytes: bytes / arbIds.length, docBytes: docBytes / arbIds.length };
}

const accountOf = (book: 'a' | 'b', i: number, perBook: number): string => `acc-${book}-${i % perBook}`;

export async function accountSettlementPhase(input: { options: AccountSettlementOptions; sims: BenchSims; redisUrl?: string; progress(line: string): void }): Promise<AccountSettlementFigures> {
  const { options, sims, progress } = input;
  const n = options.pairs;
  const perBook = Math.max(1, Math.floor(options.accounts / 2));
  if (options.windowMs < pollIntervalMs || options.windowMs % pollIntervalMs !== 0) throw new Error(`account settlement window (${options.windowMs} ms) is not a whole number of poll intervals (${pollIntervalMs} ms)`);
  if (options.settledPairs > n) throw new Error(`settled pairs (${options.settledPairs}) > pairs (${n})`);
  let server: PrivateRedis | undefined;
  if (input.redisUrl === undefined) {
    server = await startPrivateRedis();
    const started = server;
    process.once('exit', () => started.process.kill('SIGKILL'));
  }
  const redisUrl = input.redisUrl ?? server?.url ?? '';
  const tag = randomBytes(4).toString('hex');
  const target: RoundTarget = { redisUrl, concurrency: 16, count: 1, bookAUrl: sims.bookAUrl, bookBUrl: sims.bookBUrl, simsCpuMs: () => sims.cpuMs() };
  const config = benchConfig(target, `bench-acct-pairs-${tag}`, {
    providers: { bookA: { url: sims.bookAUrl, settlementBatch: true }, bookB: { url: sims.bookBUrl, settlementBatch: true } },
    settlementQueueName: `bench-acct-settlement-${tag}`,
    settlementPollIntervalMs: pollIntervalMs,
    pairRecordTtlMs: 86_400_000,
    settlementDeadlineMs: 43_200_000,
  });
  const bench = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const pairQueue = new Queue(config.queueName, { connection: bench });
  const providers = providersFromConfig(config);
  const recorder = new PollRecorder();
  const log = pino({ level: 'warn' }, { write: () => undefined });
  const store = new Store(bench, config.eventsStreamLenMax);
  const accounts = new AccountSettlementStore(bench);
  const scheduler = BullSettlementScheduler.fromConfig(bench, config, { store: accounts, batchProviders: new Set(['bookA', 'bookB']), policy: schedulePolicyOf(config) });
  let running: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    await sims.reset();
    running = await startWorker({ config, redisUrl, providers, log, settlementProbe: recorder, recoverySweep: false });
    // 1. One pair executed for real: its hedged journal is the template of the seeded ones.
    const template = makeBenchPair(`t${tag}`, 0);
    const waiter = completions(running.worker, 1, outcomeProblem);
    await fillPausedQueue(pairQueue, [template]);
    await pairQueue.resume();
    try {
      await waiter.done;
    } finally {
      waiter.detach();
    }
    const loaded = await store.loadPair(template.arbId);
    if (loaded === null || loaded.doc.state !== 'hedged') throw new Error(`template pair not hedged: ${JSON.stringify(loaded?.doc.state)}`);
    const templateBets = betsToPoll(loaded.doc);
    const templateJson = JSON.stringify(loaded.doc);
    const bytesBefore = await usedMemory(bench);

    // 2. The bets at the simulators, in bulk.
    progress(`account settlement: placing ${2 * n} bets on ${2 * perBook} accounts at the simulators`);
    const placeStart = performance.now();
    const tickets: Array<{ a: string; b: string }> = new Array(n);
    const place = async (url: string, book: 'a' | 'b', role: 'p1' | 'h1'): Promise<void> => {
      for (let from = 0; from < n; from += placeChunk) {
        const body = [];
        for (let i = from; i < Math.min(n, from + placeChunk); i++) {
          body.push({ clientRef: `be1.arb-s${tag}-${i}.${role}`, accountId: accountOf(book, i, perBook), eventId: `ev-s${tag}-${i}`, market: 'match_winner', selection: book === 'a' ? 'home' : 'away', oddsMilli: book === 'a' ? 2100 : 2050, stakeMinor: book === 'a' ? 10_000 : 10_244, currency: 'EUR' });
        }
        const answer = await postJson<{ tickets: Array<{ ticketId?: string; status: string }> }>(`${url}/_sim/place-many`, body);
        answer.tickets.forEach((t, k) => {
          if (t.ticketId === undefined || t.status !== 'accepted') throw new Error(`seeded bet not accepted: ${JSON.stringify(t)}`);
          const slot = (tickets[from + k] ??= { a: '', b: '' });
          slot[book] = t.ticketId;
        });
      }
    };
    await place(sims.bookAUrl, 'a', 'p1');
    await place(sims.bookBUrl, 'b', 'h1');
    const placeMs = performance.now() - placeStart;

    // 3. Their journals and settlement, through the store and the scheduler.
    progress(`account settlement: journaling ${n} hedged pairs through the store`);
    const journalStart = performance.now();
    const positive = templateBets.find((b) => b.role === 'positive');
    const hedge = templateBets.find((b) => b.role === 'hedge');
    if (positive?.accountId === undefined || hedge?.accountId === undefined) throw new Error('template pair lacks a polled bet');
    const seedOne = async (i: number): Promise<void> => {
      const t = tickets[i];
      if (t === undefined) throw new Error(`no tickets for pair ${i}`);
      const json = templateJson
        .replaceAll(positive.accountId ?? '', accountOf('a', i, perBook)).replaceAll(hedge.accountId ?? '', accountOf('b', i, perBook))
        .replaceAll(positive.ticketId, t.a).replaceAll(hedge.ticketId, t.b)
        .replaceAll(`t${tag}-0`, `s${tag}-${i}`);
      const doc = JSON.parse(json) as PairDoc;
      const token = `seed-${i}`;
      const claimed = await store.claim(doc.arbId, token, 60_000, doc, config.pairRecordTtlMs);
      if (claimed.kind !== 'created') throw new Error(`seeding ${doc.arbId}: ${claimed.kind}`);
      const moved = await store.transition({ arbId: doc.arbId, token, rev: claimed.rev, from: 'received', doc, closes: true, nowMs: Date.now() });
      if (moved.kind !== 'ok') throw new Error(`seeding ${doc.arbId}: ${moved.kind}`);
      await scheduler.ensureScheduled(doc);
    };
    for (let from = 0; from < n; from += seedChunk) {
      const chunk: Array<Promise<void>> = [];
      for (let i = from; i < Math.min(n, from + seedChunk); i++) chunk.push(seedOne(i));
      await Promise.all(chunk);
    }
    const journalMs = performance.now() - journalStart;
    const bytesAfterSeed = await usedMemory(bench);
    const settlementKeys = [keys.settlePending];
    for (const [provider, book] of [['bookA', 'a'], ['bookB', 'b']] as const) {
      for (let k = 0; k < perBook; k++) {
        const accountId = accountOf(book, k, perBook);
        settlementKeys.push(keys.settleAccount(provider, accountId), keys.settleAccountBets(provider, accountId), keys.settleAccountUnchecked(provider, accountId), keys.settleAccountDeadlines(provider, accountId));
      }
    }
    let settlementBytes = await memoryUsage(bench, keys.settleAccountsDue);
    for (const key of settlementKeys) settlementBytes += await memoryUsage(bench, key);
    const journal = await journalSample(bench, Array.from({ length: Math.min(n, journalSampleSize) }, (_, k) => `arb-s${tag}-${Math.floor((k * n) / Math.min(n, journalSampleSize))}`));

    // 4. Warm-up: every account polled once and its new bets checked by id, then one more interval.
    progress(`account settlement: ${n} pairs seeded in ${((placeMs + journalMs) / 1000).toFixed(1)} s; warm-up until every bet was checked by id`);
    for (;;) {
      const pipeline = bench.pipeline();
      for (const [provider, book] of [['bookA', 'a'], ['bookB', 'b']] as const) for (let k = 0; k < perBook; k++) pipeline.scard(keys.settleAccountUnchecked(provider, accountOf(book, k, perBook)));
      const replies = (await pipeline.exec()) ?? [];
      if (replies.every(([, count]) => Number(count) === 0)) break;
      await sleep(500);
    }
    await sleep(pollIntervalMs);

    // 5. The window: some bets settle at the simulators at random times in it (not in its last interval).
    const windowStartMs = Date.now() + 1_000;
    const chosen = new Set<number>();
    while (chosen.size < options.settledPairs) chosen.add(Math.floor(Math.random() * n));
    const settleAtMs = new Map<string, number>();
    const schedule: Record<'a' | 'b', Array<{ ticketId: string; result: string; atMs: number }>> = { a: [], b: [] };
    for (const i of chosen) {
      const t = tickets[i];
      if (t === undefined) continue;
      for (const book of ['a', 'b'] as const) {
        const atMs = windowStartMs + Math.floor(Math.random() * (options.windowMs - pollIntervalMs));
        schedule[book].push({ ticketId: t[book], result: book === 'a' ? 'won' : 'lost', atMs });
        settleAtMs.set(`be1.arb-s${tag}-${i}.${book === 'a' ? 'p1' : 'h1'}`, atMs);
      }
    }
    for (const [url, book] of [[sims.bookAUrl, 'a'], [sims.bookBUrl, 'b']] as const) {
      for (let from = 0; from < schedule[book].length; from += settleChunk) await postJson(`${url}/_sim/settle-many`, schedule[book].slice(from, from + settleChunk));
    }
    await sleep(Math.max(0, windowStartMs - Date.now()));
    progress(`account settlement: ${options.windowMs} ms window, ${2 * chosen.size} bets settling in it`);
    const eventsFrom = `${windowStartMs}-0`;
    const countsBefore = await Promise.all([simCounts(sims.bookAUrl), simCounts(sims.bookBUrl)]);
    const cpuBefore = await sampleCpu(bench, target);
    const measureStart = performance.now();
    recorder.recording = true;
    await sleep(options.windowMs);
    recorder.recording = false;
    const measuredMs = performance.now() - measureStart;
    const cpuAfter = await sampleCpu(bench, target);
    const countsAfter = await Promise.all([simCounts(sims.bookAUrl), simCounts(sims.bookBUrl)]);

    // 6. Detection: the bet_settled events of the settled bets (waiting up to two more intervals for the last ones).
    const delays = new Map<string, number>();
    const drainUntil = Date.now() + 2 * pollIntervalMs + 1_000;
    let cursor = eventsFrom;
    while (delays.size < settleAtMs.size && Date.now() < drainUntil) {
      const rows = await bench.xrange(eventsStream, cursor, '+', 'COUNT', 10_000);
      for (const [id, fields] of rows) {
        cursor = `(${id}`;
        if (fields[1] !== 'bet_settled') continue;
        const data = JSON.parse(fields[3] ?? '{}') as { clientRef?: string };
        const at = data.clientRef === undefined ? undefined : settleAtMs.get(data.clientRef);
        if (at !== undefined && !delays.has(data.clientRef ?? '')) delays.set(data.clientRef ?? '', Number(id.split('-')[0]) - at);
      }
      if (rows.length === 0) await sleep(250);
    }
    const sum = (c: SimCounts[], k: keyof SimCounts) => c.reduce((s, x) => s + x[k], 0);
    const byKind = {
      feed: sum(countsAfter, 'settled') - sum(countsBefore, 'settled'),
      batchedStatus: sum(countsAfter, 'statuses') - sum(countsBefore, 'statuses'),
      ticketStatus: sum(countsAfter, 'status') - sum(countsBefore, 'status'),
    };
    const inWindow = byKind.feed + byKind.batchedStatus + byKind.ticketStatus;
    const pct = (after: number, before: number) => (100 * (after - before)) / measuredMs;
    const simsPct = cpuAfter.simsMs === null || cpuBefore.simsMs === null ? null : pct(cpuAfter.simsMs, cpuBefore.simsMs);
    return {
      generatedAt: new Date().toISOString(),
      pairs: n,
      accounts: 2 * perBook,
      betsPerAccount: n / perBook,
      pollIntervalMs,
      windowMs: options.windowMs,
      seeding: { placeMs, journalMs, note: 'pairs seeded through the store (claim, hedged transition, scheduler) from one executed pair, bets placed at the simulators in bulk: executing 100,000 pairs would take minutes' },
      cpu: { percentOfCore: { worker: pct(cpuAfter.nodeMs, cpuBefore.nodeMs), redis: pct(cpuAfter.redisMs, cpuBefore.redisMs), sims: simsPct } },
      requests: { inWindow, perSecond: (inWindow * 1000) / measuredMs, perAccountPerInterval: inWindow / (2 * perBook * (measuredMs / pollIntervalMs)), byKind },
      accountPolls: { count: recorder.latenessMs.length, lateness: summarize(recorder.latenessMs) },
      redis: { bytesBefore, bytesAfterSeed, bytesPerOpenPair: (bytesAfterSeed - bytesBefore) / n, settlementBytesPerOpenPair: settlementBytes / n, journalBytesPerOpenPair: journal.bytes, journalDocBytes: journal.docBytes },
      detection: { ...summarize([...delays.values()]), settledBets: settleAtMs.size, detected: delays.size },
    };
  } finally {
    await running?.close();
    await closeProviders(providers);
    await scheduler.close();
    await pairQueue.close();
    bench.disconnect();
    await server?.stop();
  }
}

export function renderAccountSettlementTable(f: AccountSettlementFigures, command: string): string {
  const row = (label: string, value: string) => `${label.padEnd(50)}  ${value}`;
  const l = f.accountPolls.lateness;
  const d = f.detection;
  return [
    '',
    `settlement polled per account: ${f.pairs} open pairs on ${f.accounts} accounts (${f.betsPerAccount} bets each), interval ${f.pollIntervalMs} ms, one worker; ${f.windowMs} ms window`,
    row('metric', 'value'),
    row('-'.repeat(50), '-'.repeat(30)),
    row('seeding: bets placed / journals written, s', `${(f.seeding.placeMs / 1000).toFixed(1)} / ${(f.seeding.journalMs / 1000).toFixed(1)}`),
    row('CPU % of a core: worker / redis / sims', `${f.cpu.percentOfCore.worker.toFixed(1)} / ${f.cpu.percentOfCore.redis.toFixed(1)} / ${f.cpu.percentOfCore.sims === null ? 'inline' : f.cpu.percentOfCore.sims.toFixed(1)}`),
    row('bookmaker requests/s (feed / batched / per ticket)', `${f.requests.perSecond.toFixed(1)} (${f.requests.byKind.feed} / ${f.requests.byKind.batchedStatus} / ${f.requests.byKind.ticketStatus} in the window)`),
    row('requests per account per interval', f.requests.perAccountPerInterval.toFixed(2)),
    row('account poll lateness p50 / p99 / max, ms', `${l.p50Ms} / ${l.p99Ms} / ${l.maxMs} (n=${l.count})`),
    row('Redis per open pair: all / settlement / journal, B', `${f.redis.bytesPerOpenPair.toFixed(0)} / ${f.redis.settlementBytesPerOpenPair.toFixed(0)} / ${f.redis.journalBytesPerOpenPair.toFixed(0)} (its doc ${f.redis.journalDocBytes.toFixed(0)} B)`),
    row('detection sim settle -> bet_settled p50 / p99 / max, ms', `${d.p50Ms} / ${d.p99Ms} / ${d.maxMs} (${d.detected} of ${d.settledBets} bets)`),
    `seeded: ${f.seeding.note}`,
    `reproduce: ${command}`,
  ].join('\n');
}
