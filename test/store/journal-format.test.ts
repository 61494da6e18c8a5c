// A journal written before the compact format (format 1, the document's plain JSON) is resumed and finished by today's worker.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { decodePairDoc } from '../../src/domain/pair-codec.js';
import type { CrashPoint } from '../../src/executor/run.js';
import { assertExecutedOnceAfterCrash, createHarness, eventsFor, makePair } from '../support/harness.js';

const testHooks = { BET_EXECUTOR_TEST_HOOKS: '1' };
/** The journal as the executor wrote it before format 2: JSON.stringify of the document. */
const asFormat1 = (json: string): string => JSON.stringify(decodePairDoc(json));

describe('a pair whose worker died while its journal was in format 1', () => {
  const points: CrashPoint[] = ['positive_answered', 'hedge_answered'];
  for (const point of points) {
    it(`at ${point}: a worker of today resumes it from the old journal, places nothing twice, and writes format 2`, async () => {
      const h = await createHarness({ lockTtlMs: 1_000, jobLockMs: 1_000, stalledCheckMs: 300, hedgeDeadlineMs: 15_000 });
      try {
        const pair = makePair();
        const key = `be:pair:${pair.arbId}`;
        const doomed = h.spawnWorker({ ...testHooks, BET_EXECUTOR_CRASH_AT: point });
        await h.enqueue(pair);
        const [, signal] = (await once(doomed, 'exit')) as [number | null, string | null];
        assert.equal(signal, 'SIGKILL', `the worker died at ${point}`);
        const written = await h.redis.hget(key, 'doc');
        assert.ok(written !== null, 'the dead worker left a journal');
        const old = asFormat1(written);
        await h.redis.hset(key, 'doc', old);
        assert.match(old, /^\{"version":1,/);

        await h.startWorker();
        const { positive, hedge } = await assertExecutedOnceAfterCrash(h, pair.arbId);
        assert.ok(eventsFor(await h.events(), pair.arbId).some((e) => e.type === 'arb_resumed'), 'resumed from the old journal');

        const now = await h.redis.hget(key, 'doc');
        assert.ok(now !== null);
        assert.match(now, /^\{"v":2,/, 'the resumed pair is journaled in format 2');
        const doc = decodePairDoc(now);
        assert.equal(doc.state, 'hedged');
        assert.equal(doc.jobId, decodePairDoc(old).jobId);
        const ticketOf = (log: typeof positive) => log.find((e) => e.ticketId !== undefined)?.ticketId;
        assert.equal(doc.positive?.ticketId, ticketOf(positive));
        assert.deepEqual(doc.hedges.map((p) => p.ticketId), [ticketOf(hedge)]);
      } finally {
        await h.close();
      }
    });
  }
});
