// Turns the bench's rounds into figures against their targets: a compact table for people, JSON for tools.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CpuPerItem, RoundResult } from './rounds.js';
import { median, summarize, type LatencySummary } from './stats.js';

/** Targets from the issue. Informative: a miss is printed, it does not fail the run. */
export const targets = {
  perPairToNoopRatioMax: 6,
  legWindowP99MsMax: { 1: 1, 16: 3 } as Record<number, number>,
  /** Job taken by the worker → positive request written to the socket (issue 12). */
  decisionP99MsMax: { 1: 0.5 } as Record<number, number>,
  /** Pairs per second with the simulators in a child process (issue 12). */
  pairsPerSecondMin: { 16: 2000 } as Record<number, number>,
};

export interface ConcurrencyFigures {
  concurrency: number;
  pairsPerRound: number;
  rounds: number;
  noopMsPerJobMedian: number;
  executorMsPerPairMedian: number;
  /** Median executor time per pair / median no-op time per job. */
  ratioOfMedians: number;
  /** Median over rounds of (executor round / the baseline round next to it). */
  medianOfRoundRatios: number;
  pairsPerSecondMedian: number;
  noopJobsPerSecondMedian: number;
  /** CPU per job / pair by process, median of the rounds: what the wall time is made of. */
  noopCpu: CpuPerItem;
  executorCpu: CpuPerItem;
  /** The wire floor (rounds.ts wireRound): the bookmaker part of a pair alone, no journal. */
  wire: WireFigures;
  /** Over every pair of every round at this concurrency. */
  legWindow: LatencySummary;
  ratioPass: boolean;
  legWindowP99TargetMs: number | null;
  legWindowPass: boolean | null;
  /** Over every pair of every round at this concurrency: job taken → positive request on the socket. */
  decision: LatencySummary;
  decisionP99TargetMs: number | null;
  decisionPass: boolean | null;
  pairsPerSecondTarget: number | null;
  pairsPerSecondPass: boolean | null;
}

export interface WireFigures {
  msPerPairMedian: number;
  /** Median wire-floor time per pair / median no-op time per job: the least the executor's ratio could be. */
  toNoopRatio: number;
  /** Median executor time per pair / median wire-floor time per pair: what the journal and its safety add. */
  executorToWireRatio: number;
  pairsPerSecondMedian: number;
  cpu: CpuPerItem;
  decision: LatencySummary;
  legWindow: LatencySummary;
}

export interface Environment {
  node: string;
  redis: string;
  bullmq: string;
  cpus: number;
  cpuModel: string;
  platform: string;
  redisMode: string;
  simMode: string;
  /** How the executor rounds' pairs scheduled their settlement (--round-settlement). */
  roundSettlement: string;
}

function medianCpu(rounds: readonly RoundResult[]): CpuPerItem {
  const sims = rounds.map((r) => r.cpuPerItem.simsMs);
  return {
    nodeMs: median(rounds.map((r) => r.cpuPerItem.nodeMs)),
    redisMs: median(rounds.map((r) => r.cpuPerItem.redisMs)),
    simsMs: sims.every((v): v is number => v !== null) ? median(sims) : null,
  };
}

export function figuresFor(concurrency: number, rounds: readonly RoundResult[]): ConcurrencyFigures {
  const baseline = rounds.filter((r) => r.kind === 'baseline' && r.concurrency === concurrency);
  const wire = rounds.filter((r) => r.kind === 'wire' && r.concurrency === concurrency);
  const executor = rounds.filter((r) => r.kind === 'executor' && r.concurrency === concurrency);
  if (baseline.length === 0 || baseline.length !== executor.length || wire.length !== executor.length) throw new Error(`unbalanced rounds at concurrency ${concurrency}`);
  const wireMs = median(wire.map((r) => r.perItemMs));
  const noopMs = median(baseline.map((r) => r.perItemMs));
  const executorMs = median(executor.map((r) => r.perItemMs));
  const ratio = executorMs / noopMs;
  const legWindow = summarize(executor.flatMap((r) => r.legWindowsMs));
  const legTarget = targets.legWindowP99MsMax[concurrency] ?? null;
  const decision = summarize(executor.flatMap((r) => r.decisionsMs));
  const decisionTarget = targets.decisionP99MsMax[concurrency] ?? null;
  const pairsPerSecond = median(executor.map((r) => r.perSecond));
  const rateTarget = targets.pairsPerSecondMin[concurrency] ?? null;
  return {
    concurrency,
    pairsPerRound: executor[0]?.count ?? 0,
    rounds: executor.length,
    noopMsPerJobMedian: noopMs,
    executorMsPerPairMedian: executorMs,
    ratioOfMedians: ratio,
    medianOfRoundRatios: median(executor.map((r, i) => r.perItemMs / (baseline[i]?.perItemMs ?? Number.NaN))),
    pairsPerSecondMedian: pairsPerSecond,
    noopJobsPerSecondMedian: median(baseline.map((r) => r.perSecond)),
    noopCpu: medianCpu(baseline),
    executorCpu: medianCpu(executor),
    wire: {
      msPerPairMedian: wireMs,
      toNoopRatio: wireMs / noopMs,
      executorToWireRatio: executorMs / wireMs,
      pairsPerSecondMedian: median(wire.map((r) => r.perSecond)),
      cpu: medianCpu(wire),
      decision: summarize(wire.flatMap((r) => r.decisionsMs)),
      legWindow: summarize(wire.flatMap((r) => r.legWindowsMs)),
    },
    legWindow,
    ratioPass: ratio <= targets.perPairToNoopRatioMax,
    legWindowP99TargetMs: legTarget,
    legWindowPass: legTarget === null ? null : legWindow.p99Ms <= legTarget,
    decision,
    decisionP99TargetMs: decisionTarget,
    decisionPass: decisionTarget === null ? null : decision.p99Ms <= decisionTarget,
    pairsPerSecondTarget: rateTarget,
    pairsPerSecondPass: rateTarget === null ? null : pairsPerSecond >= rateTarget,
  };
}

const verdict = (pass: boolean | null): string => (pass === null ? '' : pass ? 'PASS' : 'MISS');

function row(cells: readonly string[]): string {
  const widths = [34, 5, 11, 11, 6];
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd();
}

export function renderTable(figures: readonly ConcurrencyFigures[], env: Environment, command: string): string {
  const lines = [
    row(['metric', 'conc', 'value', 'target', '']),
    row(['-'.repeat(34), '-'.repeat(5), '-'.repeat(11), '-'.repeat(11), '-'.repeat(6)]),
  ];
  for (const f of figures) {
    const c = String(f.concurrency);
    lines.push(
      row([`no-op BullMQ job, ms/job (median)`, c, f.noopMsPerJobMedian.toFixed(3), '', '']),
      row([`executor, ms/pair (median)`, c, f.executorMsPerPairMedian.toFixed(3), '', '']),
      row([`per pair / no-op job`, c, `${f.ratioOfMedians.toFixed(2)}x`, `<= ${targets.perPairToNoopRatioMax}x`, verdict(f.ratioPass)]),
      row([`  (median of per-round ratios)`, c, `${f.medianOfRoundRatios.toFixed(2)}x`, '', '']),
      row([`executor, pairs/s (median)`, c, f.pairsPerSecondMedian.toFixed(0), f.pairsPerSecondTarget === null ? '' : `>= ${f.pairsPerSecondTarget}`, verdict(f.pairsPerSecondPass)]),
      row([`decision p50, ms`, c, f.decision.p50Ms.toFixed(3), '', '']),
      row([`decision p99, ms`, c, f.decision.p99Ms.toFixed(3), f.decisionP99TargetMs === null ? '' : `<= ${f.decisionP99TargetMs.toFixed(3)}`, verdict(f.decisionPass)]),
      row([`decision max, ms (n=${f.decision.count})`, c, f.decision.maxMs.toFixed(3), '', '']),
      row([`leg window p50, ms`, c, f.legWindow.p50Ms.toFixed(3), '', '']),
      row([`leg window p99, ms`, c, f.legWindow.p99Ms.toFixed(3), f.legWindowP99TargetMs === null ? '' : `<= ${f.legWindowP99TargetMs.toFixed(3)}`, verdict(f.legWindowPass)]),
      row([`leg window max, ms (n=${f.legWindow.count})`, c, f.legWindow.maxMs.toFixed(3), '', '']),
      row([`wire floor, ms/pair (median)`, c, f.wire.msPerPairMedian.toFixed(3), '', '']),
      row([`wire floor / no-op job`, c, `${f.wire.toNoopRatio.toFixed(2)}x`, '', '']),
      row([`executor / wire floor`, c, `${f.wire.executorToWireRatio.toFixed(2)}x`, '', '']),
      row([`wire floor, pairs/s (median)`, c, f.wire.pairsPerSecondMedian.toFixed(0), '', '']),
      row([`wire floor decision p50 / p99, ms`, c, `${f.wire.decision.p50Ms.toFixed(3)} / ${f.wire.decision.p99Ms.toFixed(3)}`, '', '']),
    );
  }
  lines.push('', ...cpuLines(figures));
  const rounds = figures.map((f) => `c${f.concurrency}: ${f.rounds} x ${f.pairsPerRound} pairs`).join(', ');
  return [
    '',
    `bet-executor bench: ${rounds}; baseline and executor rounds interleaved`,
    'decision: job taken by the worker\'s processor -> positive request written to the socket (undici request:bodySent)',
    'leg window: positive\'s answer parsed -> hedge request handed to the provider',
    'wire floor: the no-op job placing the pair\'s two bets through the same HTTP adapters, nothing journaled (the least a pair costs)',
    `settlement scheduled by each pair: ${env.roundSettlement}`,
    ...lines,
    '',
    `node ${env.node}, redis ${env.redis} (${env.redisMode}), bullmq ${env.bullmq}, ${env.cpus} x ${env.cpuModel}, sims: ${env.simMode}`,
    `reproduce: ${command}`,
  ].join('\n');
}

function cpuLines(figures: readonly ConcurrencyFigures[]): string[] {
  const cpuRow = (label: string, c: number, cpu: CpuPerItem, wallMs: number): string => {
    const total = cpu.nodeMs + cpu.redisMs + (cpu.simsMs ?? 0);
    const cells = [cpu.nodeMs, cpu.redisMs].map((v) => v.toFixed(3).padStart(7));
    cells.push(cpu.simsMs === null ? 'inline'.padStart(7) : cpu.simsMs.toFixed(3).padStart(7), total.toFixed(3).padStart(7), wallMs.toFixed(3).padStart(7));
    return `${label.padEnd(34)}  ${String(c).padStart(5)}  ${cells.join('  ')}`;
  };
  const lines = [
    `${'CPU ms per item (median of rounds)'.padEnd(34)}  ${'conc'.padStart(5)}  ${['node', 'redis', 'sims', 'sum', 'wall'].map((h) => h.padStart(7)).join('  ')}`,
  ];
  for (const f of figures) {
    lines.push(
      cpuRow('no-op job', f.concurrency, f.noopCpu, f.noopMsPerJobMedian),
      cpuRow('wire floor pair', f.concurrency, f.wire.cpu, f.wire.msPerPairMedian),
      cpuRow('executor pair', f.concurrency, f.executorCpu, f.executorMsPerPairMedian),
    );
  }
  return lines;
}

export function writeJson(path: string, content: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(content, null, 2)}\n`);
}
