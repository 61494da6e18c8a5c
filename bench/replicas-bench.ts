// The cost of journalReplicasMin: the executor on a primary with one local replica, journalReplicasMin 0 vs 1, interleaved rounds.
import { startRedisTopology } from '../src/rig/redis.js';
import { executorRound, LegWindowRecorder, type RoundResult } from './rounds.js';
import type { BenchSims } from './sims.js';
import { median, summarize, type LatencySummary } from './stats.js';

export interface ReplicaOptions {
  pairs: number;
  rounds: number;
}

export const replicaDefaults: ReplicaOptions = { pairs: 1_000, rounds: 3 };

export interface ReplicaSide {
  journalReplicasMin: number;
  msPerPairMedian: number;
  legWindow: LatencySummary;
}

export interface ReplicaFigures {
  concurrency: number;
  pairsPerRound: number;
  rounds: number;
  sides: [ReplicaSide, ReplicaSide];
  /** journalReplicasMin 1 over 0. */
  perPairRatio: number;
  legWindowP50Ratio: number;
  legWindowP99Ratio: number;
}

const concurrencies = [1, 16] as const;
const journalWaitTimeoutMs = 1_000;

function side(min: number, rounds: RoundResult[]): ReplicaSide {
  return { journalReplicasMin: min, msPerPairMedian: median(rounds.map((r) => r.perItemMs)), legWindow: summarize(rounds.flatMap((r) => r.legWindowsMs)) };
}

/** Rounds of both settings, alternating which goes first, on a private primary + replica (fresh database per round). */
export async function replicaPhase(o: { options: ReplicaOptions; sims: BenchSims; progress: (line: string) => void }): Promise<ReplicaFigures[]> {
  const roundsTotal = o.options.rounds * 2 * concurrencies.length + 2;
  const topology = await startRedisTopology({ kind: 'replicated', replicas: 1, databases: roundsTotal + 1 });
  const primary = topology.primary;
  if (primary === null) throw new Error('no private primary');
  process.once('exit', () => {
    for (const s of [primary, ...topology.replicas]) s.process.kill('SIGKILL');
  });
  let db = 0;
  const probe = new LegWindowRecorder();
  const run = async (concurrency: number, count: number, min: number): Promise<RoundResult> => {
    await o.sims.reset();
    db++;
    return executorRound({
      redisUrl: `${primary.url}/${db}`, concurrency, count, bookAUrl: o.sims.bookAUrl, bookBUrl: o.sims.bookBUrl, simsCpuMs: () => o.sims.cpuMs(),
      configOverrides: { journalReplicasMin: min, journalWaitTimeoutMs },
    }, probe);
  };
  try {
    o.progress(`replicas: warm-up, ${Math.min(300, o.options.pairs)} pairs with journalReplicasMin 1 (not measured)`);
    await run(16, Math.min(300, o.options.pairs), 1);
    const figures: ReplicaFigures[] = [];
    for (const concurrency of concurrencies) {
      const count = concurrency === 1 ? Math.max(1, Math.ceil(o.options.pairs / 4)) : o.options.pairs;
      const bySetting: Record<0 | 1, RoundResult[]> = { 0: [], 1: [] };
      for (let round = 1; round <= o.options.rounds; round++) {
        for (const min of round % 2 === 1 ? [0, 1] as const : [1, 0] as const) bySetting[min].push(await run(concurrency, count, min));
        const [zero, one] = [bySetting[0].at(-1), bySetting[1].at(-1)];
        o.progress(`replicas round ${round}/${o.options.rounds} c${concurrency}: journalReplicasMin 0 ${zero?.perItemMs.toFixed(3)} ms/pair, 1 ${one?.perItemMs.toFixed(3)} ms/pair`);
      }
      const sides: [ReplicaSide, ReplicaSide] = [side(0, bySetting[0]), side(1, bySetting[1])];
      figures.push({
        concurrency, pairsPerRound: count, rounds: o.options.rounds, sides,
        perPairRatio: sides[1].msPerPairMedian / sides[0].msPerPairMedian,
        legWindowP50Ratio: sides[1].legWindow.p50Ms / sides[0].legWindow.p50Ms,
        legWindowP99Ratio: sides[1].legWindow.p99Ms / sides[0].legWindow.p99Ms,
      });
    }
    return figures;
  } finally {
    await topology.stop();
  }
}

export function renderReplicaTable(figures: readonly ReplicaFigures[], command: string): string {
  const lines = [
    '',
    `journalReplicasMin 0 vs 1 (primary + one local replica, WAIT before each journaled send) — ${command}`,
    'conc  pairs×rounds   ms/pair 0 → 1 (ratio)        leg window p50 0 → 1 (ratio)   leg window p99 0 → 1 (ratio)',
  ];
  for (const f of figures) {
    const [zero, one] = f.sides;
    lines.push(`${String(f.concurrency).padStart(4)}  ${`${f.pairsPerRound}×${f.rounds}`.padEnd(12)}   ${zero.msPerPairMedian.toFixed(3)} → ${one.msPerPairMedian.toFixed(3)} (${f.perPairRatio.toFixed(2)}x)`.padEnd(60)
      + `${zero.legWindow.p50Ms.toFixed(3)} → ${one.legWindow.p50Ms.toFixed(3)} (${f.legWindowP50Ratio.toFixed(2)}x)`.padEnd(31)
      + `${zero.legWindow.p99Ms.toFixed(3)} → ${one.legWindow.p99Ms.toFixed(3)} (${f.legWindowP99Ratio.toFixed(2)}x)`);
  }
  return lines.join('\n');
}
