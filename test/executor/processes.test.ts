// Real worker processes: SIGKILL at every step of the saga, and two workers contending for the same accounts.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { cooldownHoldMs } from '../../src/domain/cooldown.js';
import { cooldownTimingsOf, crashPoints } from '../../src/executor/run.js';
import { settlementQueueName } from '../../src/settlement/scheduler.js';
import { Queue, Worker } from 'bullmq';
import type { SimLogEntry } from '../../src/sim/bookmaker.js';
import { assertExecutedOnceAfterCrash, assertSafetyChecks, createHarness, eventsFor, makePair } from '../support/harness.js';

const testHooks = { BET_EXECUTOR_TEST_HOOKS: '1' };

describe('a worker killed (SIGKILL) at each step of the saga', () => {
  for (const point of crashPoints) {
    it(`at ${point}: a fresh worker finishes the pair, no bet twice, no hedge without an accepted positive`, async () => {
      // The hedge deadline outlives a worker restart (process start, stalled-job check): past it, a resumed
      // pair alerts instead of hedging (test/executor/adversarial.test.ts); here the subject is recovery.
      const h = await createHarness({ lockTtlMs: 1_000, jobLockMs: 1_000, stalledCheckMs: 300, hedgeDeadlineMs: 15_000 });
      try {
        const pair = makePair();
        const doomed = h.spawnWorker({ ...testHooks, BET_EXECUTOR_CRASH_AT: point });
        await h.enqueue(pair);
        const [, signal] = (await once(doomed, 'exit')) as [number | null, string | null];
        assert.equal(signal, 'SIGKILL', `the worker died at ${point}`);
        h.spawnWorker();
        const { positive, hedge } = await assertExecutedOnceAfterCrash(h, pair.arbId);
        assert.ok((positive[0]?.atMs ?? Infinity) <= (hedge[0]?.atMs ?? 0));
        const events = eventsFor(await h.events(), pair.arbId);
        assert.equal(events.filter((e) => e.type === 'arb_executed').length, 1, 'the outcome is reported once');
        assert.equal(events.filter((e) => e.type === 'bet_accepted').length, 2);
        const settlement = new Queue(settlementQueueName, { connection: h.redis });
        assert.ok(await settlement.getJob(`settle-${pair.arbId}-p1`), 'settlement polling of the positive scheduled');
        assert.ok(await settlement.getJob(`settle-${pair.arbId}-h1`), 'settlement polling of the hedge scheduled');
        assert.equal(await settlement.count(), 2, 'exactly one poll chain per bet');
        await settlement.close();
      } finally {
        await h.close();
      }
    });
  }
});

describe('two worker processes and many pairs on the same few accounts', () => {
  it('never places on an account inside its cooldown and never places a bet twice', async () => {
    const cooldownMs = 150;
    const h = await createHarness({ cooldownMs, concurrency: 8 });
    try {
      h.spawnWorker();
      h.spawnWorker();
      await h.waitFor('two workers on the queue', async () => (await h.queue.getWorkers()).length === 2, 20_000);
      const pairs: Array<ReturnType<typeof makePair>> = [];
      for (let i = 0; i < 60; i++) {
        pairs.push(makePair({}, { positive: { accountId: `pa${i % 3}` }, hedge: { accountId: `ha${i % 2}` } }));
      }
      // Waves, so that cooldowns expire between them and the same accounts are bet on again: a claim holds an
      // account until a cooldown after its request could be taken, longer than cooldownMs.
      const claimHoldMs = Math.max(...['bookA', 'bookB'].map((provider) => cooldownHoldMs('claim', cooldownTimingsOf(h.config, provider))));
      for (let wave = 0; wave < 6; wave++) {
        await Promise.all(pairs.slice(wave * 10, wave * 10 + 10).map((p) => h.enqueue(p)));
        await new Promise((r) => setTimeout(r, claimHoldMs + 50));
      }
      const terminal = ['arb_executed', 'arb_blocked', 'arb_failed', 'exposure_alert'];
      await h.waitFor('every pair terminal', async () => {
        const done = new Set((await h.events()).filter((e) => terminal.includes(e.type)).map((e) => e.data.arbId));
        return pairs.every((p) => done.has(p.arbId));
      }, 30_000);
      assertSafetyChecks(h);
      const events = await h.events();
      const executed = events.filter((e) => e.type === 'arb_executed').length;
      const blocked = events.filter((e) => e.type === 'arb_blocked' && e.data.reason === 'cooldown').length;
      assert.ok(executed >= 6, `executed ${executed}`);
      assert.ok(blocked >= 20, `blocked ${blocked}`);
      // From the simulators' logs alone: consecutive placements on one account by different pairs are a cooldown apart.
      for (const book of [h.bookA, h.bookB]) {
        const byAccount = new Map<string, SimLogEntry[]>();
        for (const e of book.bookmaker.log()) byAccount.set(e.accountId, [...(byAccount.get(e.accountId) ?? []), e]);
        for (const [account, entries] of byAccount) {
          for (let i = 1; i < entries.length; i++) {
            const prev = entries[i - 1] as SimLogEntry;
            const cur = entries[i] as SimLogEntry;
            const samePair = prev.clientRef.split('.')[1] === cur.clientRef.split('.')[1];
            if (!samePair) {
              const gapMs = cur.atMs - prev.atMs;
              assert.ok(gapMs >= cooldownMs - 5, `${account}: ${cur.clientRef} ${gapMs} ms after ${prev.clientRef}`);
            }
          }
        }
      }
    } finally {
      await h.close();
    }
  });
});

describe('a pair whose job is gone after its worker died', () => {
  it('is found by the recovery sweep (open journal, no lease) and finished', async () => {
    const h = await createHarness({ lockTtlMs: 600, jobLockMs: 600, stalledCheckMs: 300 });
    try {
      const pair = makePair();
      const doomed = h.spawnWorker({ ...testHooks, BET_EXECUTOR_CRASH_AT: 'positive_intent_journaled' });
      const jobId = await h.enqueue(pair);
      await once(doomed, 'exit');
      // Lose the job itself (as if it had failed for good), once its lock has lapsed.
      await h.waitFor('job removable', async () => {
        try {
          await (await h.queue.getJob(jobId))?.remove();
          return true;
        } catch {
          return false;
        }
      });
      assert.equal(await h.queue.getJob(jobId), undefined);
      assert.equal(h.bookA.bookmaker.log().length, 0, 'the positive was journaled, not sent');
      await h.startWorker();
      await h.waitForEvent(pair.arbId, ['arb_executed'], 20_000);
      assertSafetyChecks(h);
      const resumed = eventsFor(await h.events(), pair.arbId).find((e) => e.type === 'arb_resumed');
      assert.ok(resumed, 'resumed from the journal');
    } finally {
      await h.close();
    }
  });

  it('is resumed again when an earlier resume of the same revision finished without writing (fenced out)', async () => {
    const h = await createHarness({ lockTtlMs: 600, jobLockMs: 600, stalledCheckMs: 300 });
    try {
      const pair = makePair();
      const doomed = h.spawnWorker({ ...testHooks, BET_EXECUTOR_CRASH_AT: 'positive_intent_journaled' });
      const jobId = await h.enqueue(pair);
      await once(doomed, 'exit');
      await h.waitFor('job removable', async () => {
        try {
          await (await h.queue.getJob(jobId))?.remove();
          return true;
        } catch {
          return false;
        }
      });
      // A resume job of this revision that already ran and ended fenced (its lease lost in a stall, nothing
      // written): BullMQ keeps it completed, so a sweep adding the same job id would add nothing.
      const rev = await h.redis.hget(`be:pair:${pair.arbId}`, 'rev');
      await h.queue.add('resume', { arbId: pair.arbId }, { jobId: `resume-${pair.arbId}-${rev}` });
      const connection = h.redis.duplicate({ maxRetriesPerRequest: null });
      const manual = new Worker(h.config.queueName, undefined, { connection });
      try {
        const token = 'test-fenced-resume';
        const job = await manual.getNextJob(token);
        assert.equal(job?.id, `resume-${pair.arbId}-${rev}`);
        await job?.moveToCompleted({ outcome: 'fenced' }, token, false);
      } finally {
        await manual.close();
        connection.disconnect();
      }
      await h.startWorker();
      await h.waitForEvent(pair.arbId, ['arb_executed'], 20_000);
      assertSafetyChecks(h);
    } finally {
      await h.close();
    }
  });
});
