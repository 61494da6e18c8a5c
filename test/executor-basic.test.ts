// The seed's contract through a real worker, real Redis and simulated bookmakers over HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createHarness, eventsFor, makePair, type Harness } from './support/harness.js';

describe('when a valid pair arrives and both bookmakers accept', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness();
    await h.startWorker();
  });
  after(async () => h.close());

  it('places the positive first, then the hedge, and reports arb_executed', async () => {
    const pair = makePair();
    await h.enqueue(pair);
    const executed = await h.waitForEvent(pair.arbId, ['arb_executed', 'exposure_alert', 'arb_failed']);
    assert.equal(executed.type, 'arb_executed');
    const posLog = h.bookA.bookmaker.log();
    const hedgeLog = h.bookB.bookmaker.log();
    assert.equal(posLog.length, 1);
    assert.equal(hedgeLog.length, 1);
    assert.equal(posLog[0]?.decision, 'accepted');
    assert.equal(hedgeLog[0]?.decision, 'accepted');
    assert.ok((posLog[0]?.atMs ?? Infinity) <= (hedgeLog[0]?.atMs ?? 0), 'positive reached the bookmaker before the hedge');
    assert.equal(posLog[0]?.clientRef, `be1.${pair.arbId}.p1`);
    const types = eventsFor(await h.events(), pair.arbId).map((e) => e.type);
    assert.deepEqual(types, ['bet_accepted', 'bet_accepted', 'arb_executed']);
  });
});
