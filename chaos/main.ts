// `npm run chaos -- --seed S --pairs N --workers W [--naive|--no-naive]`: the seeded chaos run and its invariant table.
import { Command, InvalidArgumentError } from 'commander';
import { checkInvariants, formatTable, type InvariantResult } from './invariants.js';
import { runChaos, type ExecutorKind } from './run.js';
import { buildScenario } from './scenario.js';

export interface ChaosOptions {
  seed: number;
  pairs: number;
  workers: number;
  accounts: number;
  durationMs: number;
  naive: boolean;
  quiesceMsMax: number;
  log: (line: string) => void;
}

export interface ChaosReport {
  ours: InvariantResult[];
  naive?: InvariantResult[];
  oursViolations: number;
  quiesced: boolean;
  table: string;
}

export async function chaos(o: ChaosOptions): Promise<ChaosReport> {
  o.log(`chaos seed ${o.seed}: ${o.pairs} pairs, ${o.workers} workers, ${o.accounts} accounts per bookmaker, ${o.durationMs} ms of faults (replay with --seed ${o.seed})`);
  const scenario = buildScenario({ seed: o.seed, pairs: o.pairs, accountsPerBook: o.accounts, durationMs: o.durationMs, workers: o.workers, lockTtlMs: 1_000 });
  const results: Partial<Record<ExecutorKind, InvariantResult[]>> = {};
  let quiesced = true;
  for (const kind of (o.naive ? ['ours', 'naive'] : ['ours']) as ExecutorKind[]) {
    o.log(`--- ${kind} executor ---`);
    const run = await runChaos({ kind, scenario, workers: o.workers, seed: o.seed, quiesceMsMax: o.quiesceMsMax, log: o.log });
    if (kind === 'ours') quiesced = run.quiesced;
    o.log(`${kind}: ${run.quiesced ? 'quiesced' : 'did NOT quiesce in time'}; worker logs in ${run.logDir}`);
    results[kind] = checkInvariants(run.snapshot);
  }
  const ours = results.ours ?? [];
  const oursViolations = ours.reduce((sum, r) => sum + r.violations, 0) + (quiesced ? 0 : 1);
  return { ours, ...(results.naive ? { naive: results.naive } : {}), oursViolations, quiesced, table: formatTable(ours, results.naive) };
}

function intOption(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer (got ${value})`);
    return n;
  };
}

async function main(): Promise<void> {
  const program = new Command()
    .name('chaos')
    .option('--seed <s>', 'scenario seed (printed; the same seed replays the same scenario)', intOption('--seed'), Date.now() % 100_000)
    .option('--pairs <n>', 'bet pairs', intOption('--pairs'), 2_000)
    .option('--workers <n>', 'worker processes', intOption('--workers'), 3)
    .option('--accounts <n>', 'accounts per bookmaker (few = contended cooldowns)', intOption('--accounts'), 12)
    .option('--duration-ms <ms>', 'length of the enqueue and fault phase', intOption('--duration-ms'), 40_000)
    .option('--no-naive', 'skip the naive executor column')
    .option('--quiesce-ms-max <ms>', 'how long to wait for everything to finish', intOption('--quiesce-ms-max'), 120_000)
    .parse(process.argv);
  const opts = program.opts<Omit<ChaosOptions, 'log'>>();
  const report = await chaos({ ...opts, log: (line) => console.error(line) });
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
