// The chaos run's sentinel topology, small: a Sentinel failover (with the replica's link lagged) and a worker partition under load, journalReplicasMin 1, non-deduplicating simulators.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chaos } from '../../chaos/main.js';

describe('a seeded chaos run on a primary, a replica and three Sentinels', () => {
  it('keeps every invariant through a failover that loses acknowledged writes and a partition, with journalReplicasMin 1', async () => {
    const lines: string[] = [];
    const report = await chaos({
      seed: 20261125, pairs: 120, workers: 2, accounts: 8, durationMs: 6_000, naive: false, quiesceMsMax: 150_000, log: (line) => lines.push(line),
      topology: 'sentinel', failovers: 1, dedupe: false, journalReplicasMin: 1, replicaLagMs: 500,
    });
    const context = `${lines.join('\n')}\n${report.table}`;
    assert.equal(report.failovers, 1, `the Sentinels promoted the replica\n${context}`);
    assert.equal(report.quiesced, true, `every pair and job reached an end state in time\n${context}`);
    for (const r of report.ours) {
      if (r.id === 1 || r.id === 6) assert.ok(r.checked > 0, `invariant ${r.id} checked something`);
      assert.equal(r.violations, 0, `${r.name}: ${r.examples.join('; ')}\n${context}`);
    }
  });
});
