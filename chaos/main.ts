// `npm run chaos -- --seed S | --seeds S1,S2,.. --pairs N --workers W [--classes all|c1,c2] [--clock-hook worker|preload] [--naive|--no-naive] [--topology sentinel --no-dedupe --journal-replicas-min N] [--sick-bookmaker --circuits on|off]`: seeded chaos runs and their invariant table.
import { Command, InvalidArgumentError } from 'commander';
import { checkInvariants, formatTable, sumResults, type InvariantResult } from '../src/rig/invariants.js';
import { runChaos, type ChaosCircuits, type ClockHook, type ExecutorKind } from './run.js';
import { buildScenario, faultClasses, type ChaosTopology, type FaultClass } from './scenario.js';

export interface ChaosOptions {
  seed: number;
  pairs: number;
  workers: number;
  accounts: number;
  durationMs: number;
  naive: boolean;
  quiesceMsMax: number;
  /** Issue-7 fault classes to inject (default none: the scenario every earlier run used). */
  classes?: readonly FaultClass[];
  clockHook?: ClockHook;
  /** Write each run's snapshot to snapshot.json beside its worker logs. */
  dump?: boolean;
  /** sentinel: a primary, a replica and three Sentinels; failovers and a worker partition replace the Redis restart and pause. */
  topology?: ChaosTopology;
  /** Sentinel failovers in the run (default 2). */
  failovers?: number;
  /** false: simulators that do not deduplicate client references. */
  dedupe?: boolean;
  journalReplicasMin?: number;
  /** Replica link black-holed this long before each failover's kill. */
  replicaLagMs?: number;
  /** bookB answers every request 500 from 30 % to 60 % of the run. */
  sickBookmaker?: boolean;
  /** Circuit breakers of a sick-bookmaker run: on (scaled to the run) or off. */
  circuits?: ChaosCircuits;
  /** Two more pairs, each sure to end in an exposure whatever the timing (chaos/scenario.ts sureExposurePairs). */
  sureExposures?: boolean;
  log: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  ours: InvariantResult[];
  naive?: InvariantResult[];
  oursViolations: number;
  quiesced: boolean;
  table: string;
  /** Wall time of each executor's run (ms). */
  runMs: Partial<Record<ExecutorKind, number>>;
  /** Failovers completed in our run (sentinel topology). */
  failovers: number;
  /** What the sentinel faults did in our run. */
  notes: string[];
}

export async function chaos(o: ChaosOptions): Promise<ChaosReport> {
  const classes = o.classes ?? [];
  const topology = o.topology ?? 'single';
  const redisText = topology === 'sentinel'
    ? `, topology sentinel (${o.failovers ?? 2} failovers, replica lag ${o.replicaLagMs ?? 500} ms, a partition), journalReplicasMin ${o.journalReplicasMin ?? 0}`
    : '';
  o.log(`chaos seed ${o.seed}: ${o.pairs} pairs, ${o.workers} workers, ${o.accounts} accounts per bookmaker, ${o.durationMs} ms of faults, classes: ${classes.length > 0 ? classes.join(',') : 'none'}${redisText}, simulators ${o.dedupe === false ? 'not ' : ''}deduplicating (replay with --seed ${o.seed}${classes.length > 0 ? ` --classes ${classes.join(',')}` : ''})`);
  const scenario = buildScenario({ seed: o.seed, pairs: o.pairs, accountsPerBook: o.accounts, durationMs: o.durationMs, workers: o.workers, lockTtlMs: 1_000, classes, topology, ...(o.failovers !== undefined ? { failovers: o.failovers } : {}), ...(o.sickBookmaker ? { sickBookmaker: true } : {}), ...(o.sureExposures ? { sureExposures: true } : {}) });
  // The naive executor reads REDIS_URL only: no Sentinel.
  const naive = o.naive && topology === 'single';
  if (o.naive && !naive) o.log('the naive executor has no Sentinel support: ours only');
  const results: Partial<Record<ExecutorKind, InvariantResult[]>> = {};
  const runMs: Partial<Record<ExecutorKind, number>> = {};
  let quiesced = true;
  let failovers = 0;
  let notes: string[] = [];
  for (const kind of (naive ? ['ours', 'naive'] : ['ours']) as ExecutorKind[]) {
    o.log(`--- ${kind} executor ---`);
    const startedMs = Date.now();
    const run = await runChaos({
      kind, scenario, workers: o.workers, seed: o.seed, quiesceMsMax: o.quiesceMsMax, clockHook: o.clockHook ?? 'worker', dumpSnapshot: o.dump === true, log: o.log, topology,
      ...(o.dedupe === false ? { dedupe: false } : {}),
      ...(o.journalReplicasMin !== undefined ? { journalReplicasMin: o.journalReplicasMin } : {}),
      ...(o.replicaLagMs !== undefined ? { replicaLagMs: o.replicaLagMs } : {}),
      ...(o.sickBookmaker ? { circuits: o.circuits ?? 'on' } : {}),
    });
    runMs[kind] = Date.now() - startedMs;
    if (kind === 'ours') {
      quiesced = run.quiesced;
      failovers = run.failovers;
      notes = run.notes;
    }
    o.log(`${kind}: ${run.quiesced ? 'quiesced' : 'did NOT quiesce in time'} after ${Math.round((runMs[kind] ?? 0) / 1000)} s; worker logs in ${run.logDir}`);
    results[kind] = checkInvariants(run.snapshot);
  }
  const ours = results.ours ?? [];
  const oursViolations = ours.reduce((sum, r) => sum + r.violations, 0) + (quiesced ? 0 : 1);
  return { seed: o.seed, ours, ...(results.naive ? { naive: results.naive } : {}), oursViolations, quiesced, table: formatTable(ours, results.naive), runMs, failovers, notes };
}

/** One line per seed: violations per invariant (only those with any), and the run times. */
export function seedLine(r: ChaosReport): string {
  const nonZero = (rs: InvariantResult[]) => rs.filter((x) => x.violations > 0).map((x) => `#${x.id}:${x.violations}`).join(' ') || 'none';
  const secs = (ms: number | undefined) => (ms === undefined ? '-' : `${Math.round(ms / 1000)} s`);
  const naive = r.naive ? `; naive ${nonZero(r.naive)} (${secs(r.runMs.naive)})` : '';
  const failovers = r.notes.length > 0 ? `, ${r.failovers} failover(s)` : '';
  return `seed ${r.seed}: ours ${nonZero(r.ours)}${r.quiesced ? '' : ' + did not quiesce'} (${secs(r.runMs.ours)}${failovers})${naive}`;
}

/** Runs seeds one after another and sums their tables. */
export async function chaosSeeds(o: Omit<ChaosOptions, 'seed'> & { seeds: number[] }): Promise<{ reports: ChaosReport[]; table: string; oursViolations: number }> {
  const reports: ChaosReport[] = [];
  for (const seed of o.seeds) {
    const report = await chaos({ ...o, seed });
    o.log(seedLine(report));
    reports.push(report);
  }
  const ours = sumResults(reports.map((r) => ({ label: `seed ${r.seed}`, results: r.ours })));
  const naiveRuns = reports.filter((r) => r.naive).map((r) => ({ label: `seed ${r.seed}`, results: r.naive ?? [] }));
  const naive = naiveRuns.length > 0 ? sumResults(naiveRuns) : undefined;
  const header = `${o.seeds.length} seeds (${o.seeds.join(', ')}) × ${o.pairs} pairs = ${o.seeds.length * o.pairs} pairs; classes: ${(o.classes ?? []).join(',') || 'none'}`;
  const table = [header, ...reports.map(seedLine), '', formatTable(ours, naive)].join('\n');
  return { reports, table, oursViolations: reports.reduce((sum, r) => sum + r.oursViolations, 0) };
}

function intOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer (got ${value})`);
    return n;
  };
}

function seedsOption(value: string): number[] {
  const seeds = value.split(',').map((s) => s.trim()).filter((s) => s !== '').map(intOption('--seeds'));
  if (seeds.length === 0 || seeds.length > 100) throw new InvalidArgumentError(`--seeds takes 1 to 100 comma-separated seeds (got ${value})`);
  return seeds;
}

function circuitsOption(value: string): ChaosCircuits {
  if (value !== 'on' && value !== 'off') throw new InvalidArgumentError(`--circuits must be on or off (got ${value})`);
  return value;
}

export function classesOption(value: string): FaultClass[] {
  if (value === 'all') return [...faultClasses];
  if (value === 'none' || value === '') return [];
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(faultClasses as readonly string[]).includes(n));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown class(es) ${unknown.join(', ')}; known: all, none, ${faultClasses.join(', ')}`);
  return names as FaultClass[];
}

function topologyOption(value: string): ChaosTopology {
  if (value !== 'single' && value !== 'sentinel') throw new InvalidArgumentError(`--topology must be single or sentinel (got ${value})`);
  return value;
}

function clockHookOption(value: string): ClockHook {
  if (value !== 'worker' && value !== 'preload') throw new InvalidArgumentError(`--clock-hook must be worker or preload (got ${value})`);
  return value;
}

async function main(): Promise<void> {
  const program = new Command()
    .name('chaos')
    .option('--seed <s>', 'scenario seed (printed; the same seed replays the same scenario)', intOption('--seed'), Date.now() % 100_000)
    .option('--seeds <list>', 'run several seeds one after another (e.g. 1,2,3,4) and print their summed table', seedsOption)
    .option('--pairs <n>', 'bet pairs (per seed)', intOption('--pairs'), 2_000)
    .option('--workers <n>', 'worker processes', intOption('--workers'), 3)
    .option('--accounts <n>', 'accounts per bookmaker (few = contended cooldowns)', intOption('--accounts'), 12)
    .option('--duration-ms <ms>', 'length of the enqueue and fault phase', intOption('--duration-ms'), 40_000)
    .option('--classes <list>', `issue-7 fault classes to add: all, none, or a comma list of ${faultClasses.join(', ')}`, classesOption, [])
    .option('--clock-hook <hook>', 'how clock_step steps a worker clock: worker (its own SIGUSR2 test hook) or preload (chaos/clock-step-preload.mjs)', clockHookOption, 'worker')
    .option('--dump', 'write each run\'s snapshot to snapshot.json beside its worker logs')
    .option('--no-naive', 'skip the naive executor column')
    .option('--topology <kind>', 'single (one redis-server) or sentinel (a primary, a replica, three Sentinels; failovers and a worker partition)', topologyOption, 'single')
    .option('--failovers <n>', 'sentinel: failovers in the run', intOption('--failovers'), 2)
    .option('--replica-lag-ms <ms>', 'sentinel: the replica link is black-holed this long before each kill of the primary', intOption('--replica-lag-ms'), 500)
    .option('--journal-replicas-min <n>', 'the executor\'s journalReplicasMin', intOption('--journal-replicas-min'), 0)
    .option('--sick-bookmaker', 'bookB answers every request 500 from 30 % to 60 % of the run (compare --circuits on and off, same seed)')
    .option('--circuits <on|off>', 'with --sick-bookmaker: circuit breakers scaled to the run, or none', circuitsOption, 'on')
    .option('--no-dedupe', 'simulators that do not deduplicate client references (a resend is a second bet)')
    .option('--quiesce-ms-max <ms>', 'how long to wait for everything to finish', intOption('--quiesce-ms-max'), 120_000)
    .parse(process.argv);
  const opts = program.opts<Omit<ChaosOptions, 'log'> & { seeds?: number[] }>();
  const log = (line: string) => console.error(line);
  if (opts.seeds !== undefined) {
    const multi = await chaosSeeds({ ...opts, seeds: opts.seeds, log });
    console.log(multi.table);
    console.log(multi.oursViolations === 0 ? 'ours: no violation' : `ours: ${multi.oursViolations} violation(s)`);
    process.exit(multi.oursViolations === 0 ? 0 : 1);
  }
  const report = await chaos({ ...opts, log });
  console.log(seedLine(report));
  for (const note of report.notes) console.log(note);
  console.log(report.table);
  console.log(report.oursViolations === 0 ? 'ours: no violation' : `ours: ${report.oursViolations} violation(s)`);
  process.exit(report.oursViolations === 0 ? 0 : 1);
}

if (process.argv[1]?.endsWith('chaos/main.ts')) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(2);
  });
}
