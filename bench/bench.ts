// `npm run bench`: the executor's time per pair and leg window, as ratios to a BullMQ no-op job measured in the same run.
import { existsSync, readFileSync } from 'node:fs';
import { cpus, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { startRedisTopology } from '../src/rig/redis.js';
import { figuresFor, renderTable, targets, writeJson, type Environment } from './report.js';
import { baselineRound, executorRound, wireRound, LegWindowRecorder, roundSettlementOverrides, type RoundResult, type RoundSettlement, type RoundTarget } from './rounds.js';
import { accountSettlementDefaults, accountSettlementPhase, renderAccountSettlementTable, type AccountSettlementFigures, type AccountSettlementOptions } from './account-settlement-bench.js';
import { pollIntervalMs, renderSettlementTable, settlementDefaults, settlementPhase, type SettlementFigures, type SettlementOptions } from './settlement-bench.js';
import { startSims, type BenchSims, type SimMode } from './sims.js';
import { replicaDefaults, replicaPhase, renderReplicaTable, type ReplicaOptions } from './replicas-bench.js';
import { summarize } from './stats.js';

interface BenchOptions {
  /** The interleaved no-op/executor rounds run (not with --only settlement). */
  runRounds: boolean;
  /** The settlement phase after the rounds; null with --no-settlement or --only rounds. */
  settlement: SettlementOptions | null;
  /** Settlement polled per account at scale (batch-capable bookmakers); null with --no-settlement or another --only. */
  accounts: AccountSettlementOptions | null;
  /** journalReplicasMin 0 vs 1 on a primary + replica; null with --no-replicas or another --only. */
  replicas: ReplicaOptions | null;
  pairsC16: number;
  pairsC1: number;
  rounds: number;
  sim: SimMode;
  warmupPairs: number;
  /** How the rounds' pairs schedule their settlement: poll chains (default providers) or per account (both sims batch-capable). */
  roundSettlement: RoundSettlement;
}

interface BenchRedis {
  mode: string;
  /** A URL no earlier round wrote to: a fresh database of the private server, or REDIS_URL as given. */
  nextUrl(): Promise<string>;
  version(): Promise<string>;
  stop(): Promise<void>;
}

const concurrencies = [1, 16] as const;
const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsPath = join(projectDir, 'bench', 'results', 'latest.json');
const defaults = { pairs: 2000, rounds: 5, sim: 'process' as SimMode, warmupPairs: 300, roundSettlement: 'chains' as RoundSettlement };

function positiveInt(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) throw new Error(`--${name} (${raw}) is not an integer >= ${min}`);
  return value;
}

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      pairs: { type: 'string' },
      'pairs-c1': { type: 'string' },
      rounds: { type: 'string' },
      sim: { type: 'string' },
      'warmup-pairs': { type: 'string' },
      'round-settlement': { type: 'string' },
      'settlement-pairs': { type: 'string' },
      'settlement-window-ms': { type: 'string' },
      'no-settlement': { type: 'boolean' },
      'account-pairs': { type: 'string' },
      accounts: { type: 'string' },
      'account-settled-pairs': { type: 'string' },
      'replica-pairs': { type: 'string' },
      'replica-rounds': { type: 'string' },
      'no-replicas': { type: 'boolean' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write([
      'usage: npm run bench -- [--pairs N] [--pairs-c1 N] [--rounds R] [--sim process|inline] [--warmup-pairs N]',
      '                        [--round-settlement chains|accounts]',
      '                        [--settlement-pairs N] [--settlement-window-ms MS] [--no-settlement]',
      '                        [--account-pairs N] [--accounts A] [--account-settled-pairs S]',
      '                        [--replica-pairs N] [--replica-rounds R] [--no-replicas] [--only rounds|settlement|accounts|replicas]',
      `  --pairs N         pairs per round at concurrency 16 (default ${defaults.pairs})`,
      '  --pairs-c1 N      pairs per round at concurrency 1 (default: a quarter of --pairs)',
      `  --rounds R        rounds of each kind per concurrency, interleaved (default ${defaults.rounds})`,
      '  --sim MODE        process: the sims in a child process (default); inline: in the bench process',
      `  --warmup-pairs N  unmeasured warm-up pairs of each kind before the rounds (default ${defaults.warmupPairs}, 0 = none)`,
      '  --round-settlement chains|accounts  how the rounds\' pairs schedule their settlement: chains (default providers,',
      '                    two BullMQ delayed poll jobs per pair) or accounts (both sims settlementBatch: true, one pipeline per pair)',
      '',
      'settlement phase (after the rounds): N pairs executed and left open (bets never settle), so 2N poll chains',
      `  at the production interval (${pollIntervalMs} ms) on one worker; after one interval of warm-up, a window measures poll`,
      '  lateness p50/p99/max, polls/s against 2N/5 s, CPU by process, the worker process\'s timers, Redis memory',
      '  and delayed set, and Redis commands per poll. It runs on its own private redis-server (or REDIS_URL).',
      `  --settlement-pairs N       open pairs (default ${settlementDefaults.pairs})`,
      `  --settlement-window-ms MS  measurement window, a multiple of ${pollIntervalMs} (default ${settlementDefaults.windowMs}: ${settlementDefaults.windowMs / pollIntervalMs} poll cycles)`,
      '  --no-settlement            skip both settlement phases',
      '',
      'account settlement phase (after the chains, side by side): N open pairs seeded through the store on A accounts of',
      '  two batch-capable bookmakers (polled per account), one worker; S pairs settle at the simulators during the window.',
      '  Worker and Redis CPU, bookmaker requests/s and per account per interval, Redis bytes per open pair, detection',
      '  delay (simulator settles -> bet_settled) p50/p99.',
      `  --account-pairs N          open pairs (default ${accountSettlementDefaults.pairs})`,
      `  --accounts A               accounts, half at each bookmaker (default ${accountSettlementDefaults.accounts})`,
      `  --account-settled-pairs S  pairs settled in the window (default ${accountSettlementDefaults.settledPairs})`,
      '',
      '  --only rounds|settlement|accounts|replicas  run one part (settlement: the chains and the accounts phase, side by side;',
      '                             accounts: that phase alone); e.g. npm run bench -- --only settlement',
      '',
      'replicas phase: the executor on a private primary with one replica, journalReplicasMin 0 vs 1 (a WAIT before',
      '  each journaled send), interleaved rounds at concurrency 1 and 16: time per pair and leg window, as ratios.',
      `  --replica-pairs N   pairs per round at concurrency 16, a quarter at 1 (default ${replicaDefaults.pairs})`,
      `  --replica-rounds R  rounds of each setting (default ${replicaDefaults.rounds})`,
      '  --no-replicas       skip it',
      '',
      '  REDIS_URL         use this Redis (a scratch database!) instead of a private redis-server',
      '  results           bench/results/latest.json: the parts that ran replace theirs, a part that did not run is kept',
      '',
    ].join('\n'));
    process.exit(0);
  }
  const pairsC16 = positiveInt('pairs', values.pairs, defaults.pairs);
  const sim = values.sim ?? defaults.sim;
  if (sim !== 'process' && sim !== 'inline') throw new Error(`--sim (${sim}) is not process or inline`);
  const roundSettlement = values['round-settlement'] ?? defaults.roundSettlement;
  if (roundSettlement !== 'chains' && roundSettlement !== 'accounts') throw new Error(`--round-settlement (${roundSettlement}) is not chains or accounts`);
  const only = values.only;
  if (only !== undefined && only !== 'rounds' && only !== 'settlement' && only !== 'accounts' && only !== 'replicas') throw new Error(`--only (${only}) is not rounds, settlement, accounts or replicas`);
  if (only === 'settlement' && values['no-settlement']) throw new Error('--only settlement and --no-settlement contradict each other');
  const settlement: SettlementOptions = {
    pairs: positiveInt('settlement-pairs', values['settlement-pairs'], settlementDefaults.pairs),
    windowMs: positiveInt('settlement-window-ms', values['settlement-window-ms'], settlementDefaults.windowMs, pollIntervalMs),
  };
  if (settlement.windowMs % pollIntervalMs !== 0) throw new Error(`--settlement-window-ms (${settlement.windowMs}) is not a multiple of ${pollIntervalMs}`);
  return {
    runRounds: only === undefined || only === 'rounds',
    settlement: (only !== undefined && only !== 'settlement') || values['no-settlement'] ? null : settlement,
    accounts: (only !== undefined && only !== 'settlement' && only !== 'accounts') || values['no-settlement'] ? null : {
      pairs: positiveInt('account-pairs', values['account-pairs'], accountSettlementDefaults.pairs),
      accounts: positiveInt('accounts', values.accounts, accountSettlementDefaults.accounts, 2),
      windowMs: accountSettlementDefaults.windowMs,
      settledPairs: positiveInt('account-settled-pairs', values['account-settled-pairs'], accountSettlementDefaults.settledPairs, 0),
    },
    replicas: (only !== undefined && only !== 'replicas') || values['no-replicas'] ? null : {
      pairs: positiveInt('replica-pairs', values['replica-pairs'], replicaDefaults.pairs),
      rounds: positiveInt('replica-rounds', values['replica-rounds'], replicaDefaults.rounds),
    },
    pairsC16,
    pairsC1: positiveInt('pairs-c1', values['pairs-c1'], Math.max(1, Math.ceil(pairsC16 / 4))),
    rounds: positiveInt('rounds', values.rounds, defaults.rounds),
    sim,
    warmupPairs: positiveInt('warmup-pairs', values['warmup-pairs'], defaults.warmupPairs, 0),
    roundSettlement,
  };
}

function reproduceCommand(options: BenchOptions): string {
  const args: string[] = [];
  const parts = [options.runRounds ? 'rounds' : null, options.settlement ? 'settlement' : options.accounts ? 'accounts' : null, options.replicas ? 'replicas' : null].filter((p) => p !== null);
  if (parts.length === 1) args.push(`--only ${parts[0]}`);
  if (options.runRounds) {
    args.push(`--pairs ${options.pairsC16}`, `--rounds ${options.rounds}`);
    if (options.pairsC1 !== Math.max(1, Math.ceil(options.pairsC16 / 4))) args.push(`--pairs-c1 ${options.pairsC1}`);
    if (options.warmupPairs !== defaults.warmupPairs) args.push(`--warmup-pairs ${options.warmupPairs}`);
    if (options.roundSettlement !== defaults.roundSettlement) args.push(`--round-settlement ${options.roundSettlement}`);
  }
  if (options.sim !== defaults.sim) args.push(`--sim ${options.sim}`);
  if (!options.settlement && parts.length > 1) args.push('--no-settlement');
  if (options.settlement) {
    args.push(`--settlement-pairs ${options.settlement.pairs}`);
    if (options.settlement.windowMs !== settlementDefaults.windowMs) args.push(`--settlement-window-ms ${options.settlement.windowMs}`);
  }
  if (options.accounts) {
    if (options.accounts.pairs !== accountSettlementDefaults.pairs) args.push(`--account-pairs ${options.accounts.pairs}`);
    if (options.accounts.accounts !== accountSettlementDefaults.accounts) args.push(`--accounts ${options.accounts.accounts}`);
    if (options.accounts.settledPairs !== accountSettlementDefaults.settledPairs) args.push(`--account-settled-pairs ${options.accounts.settledPairs}`);
  }
  if (!options.replicas && parts.length > 1) args.push('--no-replicas');
  if (options.replicas) args.push(`--replica-pairs ${options.replicas.pairs}`, `--replica-rounds ${options.replicas.rounds}`);
  const env = process.env.REDIS_URL ? `REDIS_URL=${process.env.REDIS_URL} ` : '';
  return `${env}npm run bench -- ${args.join(' ')}`;
}

async function redisVersion(url: string): Promise<string> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const info = await client.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } finally {
    client.disconnect();
  }
}

/** REDIS_URL when given (used as is; rounds keep apart by fresh queue names and arb ids), else a private server. */
async function openRedis(roundsTotal: number): Promise<BenchRedis> {
  const given = process.env.REDIS_URL;
  if (given) {
    return { mode: 'REDIS_URL', nextUrl: async () => given, version: () => redisVersion(given), stop: async () => undefined };
  }
  const topology = await startRedisTopology({ databases: roundsTotal + 1 });
  const server = topology.primary;
  if (server === null) throw new Error('no private redis-server');
  // Backstop for an exit that skips stop() (an uncaught error, a signal): never leave the server orphaned.
  process.once('exit', () => server.process.kill('SIGKILL'));
  let db = 0;
  return {
    mode: 'private redis-server, a fresh database per round',
    async nextUrl() {
      db++;
      if (db > roundsTotal) throw new Error(`bench needs more than ${roundsTotal} databases`);
      return `${server.url}/${db}`;
    },
    version: () => redisVersion(server.url),
    stop: () => server.stop(),
  };
}

function bullmqVersion(): string {
  const raw = readFileSync(join(projectDir, 'node_modules', 'bullmq', 'package.json'), 'utf8');
  return (JSON.parse(raw) as { version?: string }).version ?? 'unknown';
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

interface RoundContext {
  redis: BenchRedis;
  sims: BenchSims;
  probe: LegWindowRecorder;
  settlement: RoundSettlement;
}

async function runOne(ctx: RoundContext, kind: RoundResult['kind'], concurrency: number, count: number): Promise<RoundResult> {
  await ctx.sims.reset();
  const target: RoundTarget = {
    redisUrl: await ctx.redis.nextUrl(), concurrency, count, bookAUrl: ctx.sims.bookAUrl, bookBUrl: ctx.sims.bookBUrl, simsCpuMs: () => ctx.sims.cpuMs(),
    configOverrides: roundSettlementOverrides(ctx.settlement, ctx.sims.bookAUrl, ctx.sims.bookBUrl),
  };
  switch (kind) {
    case 'baseline': return baselineRound(target);
    case 'wire': return wireRound(target, ctx.probe);
    case 'executor': return executorRound(target, ctx.probe);
  }
}

/** The kinds of a round in the order they run: rotated each round, so that drift hits every kind alike. */
function roundOrder(round: number): Array<RoundResult['kind']> {
  const kinds: Array<RoundResult['kind']> = ['baseline', 'wire', 'executor'];
  const shift = (round - 1) % kinds.length;
  return [...kinds.slice(shift), ...kinds.slice(0, shift)];
}

/** Baseline, wire-floor and executor rounds alternate, and which goes first rotates each round, so drift hits all alike. */
async function measure(ctx: RoundContext, options: BenchOptions): Promise<RoundResult[]> {
  if (options.warmupPairs > 0) {
    progress(`warm-up: ${options.warmupPairs} no-op jobs, wire-floor pairs and pairs at concurrency 16 (not measured)`);
    for (const kind of roundOrder(1)) await runOne(ctx, kind, 16, options.warmupPairs);
  }
  const results: RoundResult[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    for (const concurrency of concurrencies) {
      const count = concurrency === 1 ? options.pairsC1 : options.pairsC16;
      const done: RoundResult[] = [];
      for (const kind of roundOrder(round)) done.push(await runOne(ctx, kind, concurrency, count));
      const [baseline, wire, executor] = (['baseline', 'wire', 'executor'] as const).map((kind) => done.find((r) => r.kind === kind));
      if (!baseline || !wire || !executor) throw new Error('invariant violated: a round without every kind');
      results.push(baseline, wire, executor);
      progress(`round ${round}/${options.rounds} c${concurrency}: no-op ${baseline.perItemMs.toFixed(3)} ms/job, wire floor ${wire.perItemMs.toFixed(3)} ms/pair (${(wire.perItemMs / baseline.perItemMs).toFixed(2)}x), executor ${executor.perItemMs.toFixed(3)} ms/pair (${(executor.perItemMs / baseline.perItemMs).toFixed(2)}x), ${count} each`);
    }
  }
  return results;
}

async function environment(redis: BenchRedis, sims: BenchSims, settlement: RoundSettlement): Promise<Environment> {
  const cpuList = cpus();
  return {
    node: process.version,
    redis: await redis.version(),
    bullmq: bullmqVersion(),
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    platform: `${platform()} ${process.arch}`,
    redisMode: redis.mode,
    simMode: sims.mode === 'process' ? 'child process' : 'in the bench process',
    roundSettlement: settlement === 'chains'
      ? 'chains (default providers: two BullMQ delayed poll jobs per pair)'
      : 'accounts (both sims settlementBatch: true: each bet opened on its account, one pipeline per pair)',
  };
}

/** The previous results file, so that a part that did not run this time keeps its figures. */
function previousResults(): Record<string, unknown> {
  if (!existsSync(resultsPath)) return {};
  try {
    const parsed: unknown = JSON.parse(readFileSync(resultsPath, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

async function runRounds(options: BenchOptions, sims: BenchSims, command: string): Promise<Record<string, unknown>> {
  const roundsTotal = 3 * concurrencies.length * options.rounds + (options.warmupPairs > 0 ? 3 : 0);
  const redis = await openRedis(roundsTotal);
  try {
    const env = await environment(redis, sims, options.roundSettlement);
    const rounds = await measure({ redis, sims, probe: new LegWindowRecorder(), settlement: options.roundSettlement }, options);
    const figures = concurrencies.map((c) => figuresFor(c, rounds));
    process.stdout.write(`${renderTable(figures, env, command)}\n`);
    return {
      generatedAt: new Date().toISOString(),
      command,
      environment: env,
      options,
      targets,
      figures,
      rounds: rounds.map(({ legWindowsMs, decisionsMs, ...round }) => ({
        ...round,
        legWindow: legWindowsMs.length > 0 ? summarize(legWindowsMs) : null,
        decision: decisionsMs.length > 0 ? summarize(decisionsMs) : null,
      })),
    };
  } finally {
    await redis.stop();
  }
}

/** Today's per-bet chains and per-account polling, one row per figure the issue sets a target for. */
function renderSideBySide(chains: SettlementFigures, accounts: AccountSettlementFigures): string {
  const row = (label: string, a: string, b: string) => `${label.padEnd(44)}  ${a.padEnd(26)}  ${b}`;
  const intervals = chains.polls.measuredMs / chains.pollIntervalMs;
  return [
    '',
    'settlement side by side (same run)',
    row('', `per-bet chains`, `per account (target)`),
    row('open pairs / accounts', `${chains.pairs} / ${2 * chains.pairs}`, `${accounts.pairs} / ${accounts.accounts}`),
    row('worker CPU, % of a core', chains.cpu.percentOfCore.node.toFixed(1), `${accounts.cpu.percentOfCore.worker.toFixed(1)} (<= 20)`),
    row('Redis CPU, % of a core', chains.cpu.percentOfCore.redis.toFixed(1), accounts.cpu.percentOfCore.redis.toFixed(1)),
    row('bookmaker requests/s', chains.polls.perSecond.toFixed(0), accounts.requests.perSecond.toFixed(1)),
    row('requests per poll interval: per bet / per account', (chains.polls.inWindow / (2 * chains.pairs * intervals)).toFixed(2), `${accounts.requests.perAccountPerInterval.toFixed(2)} (<= 1)`),
    row('Redis per open pair, KB', (chains.redis.bytesPerOpenPair / 1024).toFixed(2), `${(accounts.redis.bytesPerOpenPair / 1024).toFixed(2)} (<= 2)`),
    // The chains' bets never settle in their phase: a result is seen at the bet's next poll, up to an interval plus its lateness.
    row('detection delay p50 / p99, ms', `<= ${chains.pollIntervalMs} + lateness ${chains.lateness.p50Ms} / ${chains.lateness.p99Ms}`, `${accounts.detection.p50Ms} / ${accounts.detection.p99Ms} (p99 <= ${accounts.pollIntervalMs + 1000})`),
  ].join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const command = reproduceCommand(options);
  let sims: BenchSims | undefined;
  try {
    sims = await startSims(options.sim);
    let results = previousResults();
    let chains: SettlementFigures | undefined;
    if (options.runRounds) {
      const { settlement: kept } = results;
      results = { ...(await runRounds(options, sims, command)), ...(kept === undefined ? {} : { settlement: kept }) };
    }
    if (options.settlement) {
      const redisUrl = process.env.REDIS_URL;
      const figures = await settlementPhase({ options: options.settlement, sims, progress, ...(redisUrl ? { redisUrl } : {}) });
      process.stdout.write(`${renderSettlementTable(figures, command)}\n`);
      results = { ...results, settlement: { command, ...figures } };
      chains = figures;
    }
    if (options.accounts) {
      const redisUrl = process.env.REDIS_URL;
      const figures = await accountSettlementPhase({ options: options.accounts, sims, progress, ...(redisUrl ? { redisUrl } : {}) });
      process.stdout.write(`${renderAccountSettlementTable(figures, command)}\n`);
      if (chains) process.stdout.write(`${renderSideBySide(chains, figures)}\n`);
      results = { ...results, accountSettlement: { command, ...figures } };
    }
    if (options.replicas) {
      const figures = await replicaPhase({ options: options.replicas, sims, progress });
      process.stdout.write(`${renderReplicaTable(figures, command)}\n`);
      results = { ...results, replicas: { command, figures } };
    }
    writeJson(resultsPath, results);
    progress(`results written to ${resultsPath}`);
  } finally {
    await sims?.close();
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench interrupted (${signal})\n`);
    process.exit(130);
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
