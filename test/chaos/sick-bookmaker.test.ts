// The chaos run's sick bookmaker: bookB answers every request 500 for a while. With circuits on, its circuit opens,
// new pairs needing it are blocked (nothing placed), and every invariant holds; the off-vs-on exposure counts of
// a full run are in the README (`npm run chaos -- --sick-bookmaker --circuits on|off`).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chaos } from '../../chaos/main.js';

function figure(note: string | undefined, what: RegExp): number {
  const m = what.exec(note ?? '');
  assert.ok(m, `${String(what)} in "${note ?? ''}"`);
  return Number(m[1]);
}

describe('a seeded chaos run with a sick hedge bookmaker and circuits on', () => {
  it('opens the circuit, blocks new pairs needing it, and keeps every invariant', async () => {
    const lines: string[] = [];
    const report = await chaos({
      seed: 5, pairs: 300, workers: 2, accounts: 12, durationMs: 10_000, naive: false, quiesceMsMax: 150_000, log: (line) => lines.push(line),
      sickBookmaker: true, circuits: 'on',
    });
    const context = `${lines.join('\n')}\n${report.table}`;
    assert.equal(report.quiesced, true, `every pair and job reached an end state in time\n${context}`);
    for (const r of report.ours) assert.equal(r.violations, 0, `${r.name}: ${r.examples.join('; ')}\n${context}`);
    const note = report.notes.find((n) => n.startsWith('sick bookmaker, circuits on'));
    assert.ok(figure(note, /(\d+) circuit\(s\) opened/) >= 1, `the sick bookmaker's circuit opened\n${context}`);
    assert.ok(figure(note, /(\d+) pair\(s\) blocked circuit_open/) >= 1, `pairs were blocked while it was open\n${context}`);
  });
});
