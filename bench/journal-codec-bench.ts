// CPU of the journal document's stored form: format 2 (src/domain/pair-codec.ts) against format 1 (plain JSON), per write and read.
// `node --import tsx bench/journal-codec-bench.ts [iterations]`: a hedged pair's document as the executor writes it (the bench's pair).
import { performance } from 'node:perf_hooks';
import { decodePairDoc, encodePairDoc } from '../src/domain/pair-codec.js';
import { newPairDoc, newPlacement, type PairDoc, type Placement } from '../src/domain/pair.js';
import { parseBetPair } from '../src/domain/validation.js';
import { makeBenchPair } from './rounds.js';

function hedgedDoc(): PairDoc {
  const parsed = parseBetPair({ ...makeBenchPair('tce0e4ef1', 0), enqueuedAtMs: undefined });
  if (!parsed.ok) throw new Error(`bench pair refused: ${parsed.errors.join('; ')}`);
  const pair = { ...parsed.pair, enqueuedAtMs: 1_795_563_921_432 };
  const t0 = 1_795_563_921_440;
  const accepted = (p: Placement, ticketId: string): Placement => ({ ...p, status: 'accepted', ticketId, acceptedStakeMinor: p.stakeMinor, acceptedOddsMilli: p.oddsMilli });
  return {
    ...newPairDoc(pair, '1', t0), state: 'hedged', updatedAtMs: t0 + 24, positiveAcceptedAtMs: t0 + 16, hedgeTargetReturnMinor: 21_000, outcomeReason: 'executed', hedgedAtMs: t0 + 24,
    positive: accepted(newPlacement(pair, 'positive', 1, pair.positive.stakeMinor, pair.positive.oddsMilli, t0 + 2), 'bookA-1'),
    hedges: [accepted(newPlacement(pair, 'hedge', 1, pair.hedge.stakeMinor, pair.hedge.oddsMilli, t0 + 16), 'bookB-1')],
  };
}

/** Median µs per call over 5 runs of `iterations` calls (after one warm-up run). */
function microsPerCall(iterations: number, call: () => unknown): number {
  const runs: number[] = [];
  for (let r = 0; r < 6; r++) {
    const start = performance.now();
    for (let i = 0; i < iterations; i++) call();
    if (r > 0) runs.push(((performance.now() - start) * 1000) / iterations);
  }
  return runs.sort((a, b) => a - b)[2] ?? Number.NaN;
}

const iterations = Number(process.argv[2] ?? 50_000);
const doc = hedgedDoc();
const format1 = JSON.stringify(doc);
const format2 = encodePairDoc(doc);
const rows: Array<[string, number, number]> = [
  ['write (encode)', microsPerCall(iterations, () => JSON.stringify(doc)), microsPerCall(iterations, () => encodePairDoc(doc))],
  ['read (decode)', microsPerCall(iterations, () => JSON.parse(format1)), microsPerCall(iterations, () => decodePairDoc(format2))],
];
console.log(`journal document of a hedged pair: format 1 ${format1.length} B, format 2 ${format2.length} B`);
console.log(`${'µs per call'.padEnd(16)}  ${'format 1'.padStart(8)}  ${'format 2'.padStart(8)}  ratio`);
for (const [what, one, two] of rows) console.log(`${what.padEnd(16)}  ${one.toFixed(2).padStart(8)}  ${two.toFixed(2).padStart(8)}  ${(two / one).toFixed(2)}x`);
