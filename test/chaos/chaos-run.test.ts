// A small seeded chaos run in the suite: real worker processes under faults, ours clean, the naive one caught.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chaos } from '../../chaos/main.js';

describe('a seeded chaos run (SIGKILL, SIGSTOP, Redis restart and pause, duplicates, bookmaker faults)', () => {
  it('keeps every invariant for our executor, and the same checks catch the naive executor', async () => {
    // Which seeded faulted pairs run, and which another pair's cooldown blocks, depends on the timing: the two sure
    // exposures (a hedge rejected every time, a positive in doubt, on accounts of their own) give #7 and #11 something
    // to check in every run.
    const report = await chaos({ seed: 20261124, pairs: 100, workers: 2, accounts: 5, durationMs: 6_000, naive: true, quiesceMsMax: 60_000, sureExposures: true, log: () => undefined });
    assert.equal(report.quiesced, true, 'every pair and job reached an end state in time');
    for (const r of report.ours) {
      // #15 has something to check only with the lost_chain class (`npm run chaos -- --classes all`); its
      // check is unit-tested in invariants.test.ts and the behaviour in test/settlement/review.test.ts.
      if (r.id !== 15) assert.ok(r.checked > 0, `invariant ${r.id} checked something`);
      assert.equal(r.violations, 0, `${r.name}: ${r.examples.join('; ')}`);
    }
    const naive = report.naive ?? [];
    const caught = naive.filter((r) => r.violations > 0).map((r) => r.id);
    for (const id of [1, 3, 4, 5, 6, 8, 9]) assert.ok(caught.includes(id), `the naive executor violates invariant ${id} (caught: ${caught.join(',')})\n${report.table}`);
  });
});
