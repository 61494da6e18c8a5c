// Fail closed: when Redis refuses writes, no bet is placed; the journal resumes the pair once Redis is back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { systemClock } from '../../src/executor/clock.js';
import { pino } from 'pino';
import { parseConfig } from '../../src/config.js';
import { decodePairDoc } from '../../src/domain/pair-codec.js';
import { executeJob } from '../../src/executor/execute.js';
import type { ExecutorDeps } from '../../src/executor/run.js';
import { startPrivateRedis, type PrivateRedis } from '../../src/infra/redis-server.js';
import { HttpProvider } from '../../src/providers/http.js';
import type { PlaceRequest, Provider } from '../../src/providers/provider.js';
import { BullSettlementScheduler } from '../../src/settlement/scheduler.js';
import { startSimServer, type SimServer } from '../../src/sim/server.js';
import { Store, storeRedisOptions } from '../../src/store/store.js';
import { fastTimings, makePair } from '../support/harness.js';

/** Makes this (private) Redis refuse every write, as a primary that lost its replicas would. */
async function refuseWrites(admin: Redis, refuse: boolean): Promise<void> {
  await admin.config('SET', 'min-replicas-to-write', refuse ? '1' : '0');
}

describe('when Redis cannot be written', () => {
  let server: PrivateRedis;
  let admin: Redis;
  let bookA: SimServer;
  let bookB: SimServer;
  let deps: ExecutorDeps;
  let afterPositive: (() => Promise<void>) | null = null;
  const connections: Redis[] = [];

  before(async () => {
    // A server of its own: CONFIG SET is server-wide and must not touch other tests.
    server = await startPrivateRedis();
    admin = new Redis(server.url);
    bookA = await startSimServer({ seed: 1, name: 'bookA', settleAfterMs: null });
    bookB = await startSimServer({ seed: 1, name: 'bookB', settleAfterMs: null });
    // A cooldown long enough that the fast-path hedge's claim stays fresh on a loaded machine (each pair has its own accounts).
    // So is the lease: a run whose lease is not known fresh renews it (a write, refused here) before the hedge.
    const config = parseConfig({ providers: { bookA: { url: bookA.url }, bookB: { url: bookB.url } }, ...fastTimings, cooldownMs: 5_000, lockTtlMs: 10_000 });
    const positive = new HttpProvider({ name: 'bookA', url: bookA.url, requestTimeoutMs: 500 });
    // The real HTTP provider; the test only flips Redis to read-only right after the positive is answered.
    const positiveThenOutage: Provider = {
      name: 'bookA',
      place: async (request: PlaceRequest) => {
        const outcome = await positive.place(request);
        if (afterPositive) await afterPositive();
        return outcome;
      },
      lookupByClientRef: (ref) => positive.lookupByClientRef(ref),
      status: (ticketId) => positive.status(ticketId),
      close: () => positive.close(),
    };
    const storeRedis = new Redis(server.url, storeRedisOptions());
    const queueRedis = new Redis(server.url, { maxRetriesPerRequest: null });
    connections.push(storeRedis, queueRedis);
    deps = {
      config,
      store: new Store(storeRedis, config.eventsStreamLenMax),
      providers: new Map<string, Provider>([['bookA', positiveThenOutage], ['bookB', new HttpProvider({ name: 'bookB', url: bookB.url, requestTimeoutMs: 500 })]]),
      clock: systemClock(),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      settlement: BullSettlementScheduler.fromConfig(queueRedis, config),
      crashPoint: () => undefined,
      log: pino({ level: 'silent' }),
    };
  });

  after(async () => {
    await refuseWrites(admin, false);
    for (const p of deps.providers.values()) await p.close();
    await (deps.settlement as BullSettlementScheduler).close();
    for (const c of connections) c.disconnect();
    admin.disconnect();
    await bookA.close();
    await bookB.close();
    await server.stop();
  });

  it('places nothing when the pair cannot even be journaled', async () => {
    await refuseWrites(admin, true);
    const pair = makePair();
    await assert.rejects(executeJob(deps, { id: 'job-1', data: pair, timestampMs: Date.now() }), /NOREPLICAS/);
    assert.equal(bookA.bookmaker.log().length + bookB.bookmaker.log().length, 0);
    await refuseWrites(admin, false);
  });

  async function interruptAfterPositive(pair: ReturnType<typeof makePair>, jobId: string): Promise<void> {
    afterPositive = async () => {
      afterPositive = null;
      await refuseWrites(admin, true);
    };
    await assert.rejects(executeJob(deps, { id: jobId, data: pair, timestampMs: Date.now() }), /NOREPLICAS/);
  }

  async function resumeOnceRedisIsBack(pair: ReturnType<typeof makePair>, jobId: string) {
    await refuseWrites(admin, false);
    // The interrupted run has ended (its executeJob rejected): its lease is dropped as its lapse would, so the
    // resume can claim the pair (a 10 s lapse would only slow the test).
    await admin.del(`lock:arb:${pair.arbId}`);
    return executeJob(deps, { id: jobId, data: pair, timestampMs: Date.now() });
  }

  const mine = (arbId: string) => (e: { clientRef: string }) => e.clientRef.includes(arbId);
  const fastSettlementQueue = 'bet-settlement';

  it('a positive taken as planned: only the hedge journaled at preflight leaves, and the pair finishes from the journal', async () => {
    const pair = makePair();
    await interruptAfterPositive(pair, 'job-2');
    assert.equal(bookA.bookmaker.log().filter(mine(pair.arbId)).length, 1, 'the positive was taken');
    // The planned hedge was journaled before the positive left; sending it reduces the exposure.
    assert.deepEqual(bookB.bookmaker.log().filter(mine(pair.arbId)).map((e) => e.clientRef), [`be1.${pair.arbId}.h1`]);
    const resumed = await resumeOnceRedisIsBack(pair, 'job-2');
    assert.equal(resumed.outcome, 'hedged');
    assert.equal(bookA.bookmaker.log().filter(mine(pair.arbId)).length, 1, 'looked up, not re-sent');
    assert.equal(bookB.bookmaker.log().filter(mine(pair.arbId)).length, 1, 'the hedge found by lookup, not re-sent');
  });

  it('a positive taken otherwise (partial): no hedge until its new size is journaled, then exactly one', async () => {
    const pair = makePair();
    bookA.bookmaker.addFault({ fault: 'partial', match: { clientRef: `be1.${pair.arbId}.p1` }, params: { stakeMinor: 5_000 } });
    await interruptAfterPositive(pair, 'job-3');
    assert.equal(bookA.bookmaker.log().filter(mine(pair.arbId)).length, 1, 'the positive was taken');
    assert.equal(bookB.bookmaker.log().filter(mine(pair.arbId)).length, 0, 'no hedge while Redis refuses writes');
    const resumed = await resumeOnceRedisIsBack(pair, 'job-3');
    assert.equal(resumed.outcome, 'hedged');
    const hedges = bookB.bookmaker.log().filter(mine(pair.arbId));
    assert.equal(hedges.length, 1);
    assert.equal(hedges[0]?.stakeMinor, 5_122);
  });

  describe('F1: a resumed pair whose fast-path hedge is already live', () => {
    const journalOf = async (arbId: string) => {
      const json = await admin.hget(`be:pair:${arbId}`, 'doc');
      assert.ok(json !== null, `journal of ${arbId} exists`);
      return decodePairDoc(json);
    };
    const hedgeTicket = (arbId: string) => bookB.bookmaker.log().find((e) => e.clientRef === `be1.${arbId}.h1`)?.ticketId;

    it('journals the live hedge it finds by lookup even though another pair now holds the hedge account', async () => {
      const pair = makePair();
      await interruptAfterPositive(pair, 'job-f1a');
      const ticket = hedgeTicket(pair.arbId);
      assert.ok(ticket, 'h1 is live at the bookmaker, its acceptance not journaled');
      // The hedge account's claim lapsed and another pair bet on it meanwhile.
      const hedgeAccount = (pair.hedgeBet as { accountId: string }).accountId;
      await refuseWrites(admin, false);
      await admin.set(`cooldown:wl1:bookB:${hedgeAccount}`, '1', 'PX', 60_000);
      await admin.set(`be:cooldown-owner:wl1:bookB:${hedgeAccount}`, 'another-arb', 'PX', 60_000);
      const resumed = await resumeOnceRedisIsBack(pair, 'job-f1a');
      assert.equal(resumed.outcome, 'hedged', 'not hedge_failed with hedges: [] while h1 is live');
      const doc = await journalOf(pair.arbId);
      assert.deepEqual(doc.hedges.map((h) => [h.clientRef, h.status, h.ticketId]), [[`be1.${pair.arbId}.h1`, 'accepted', ticket]]);
      assert.equal(bookB.bookmaker.log().filter(mine(pair.arbId)).length, 1, 'no second hedge');
    });

    it('names the live hedge in the positive_in_doubt exposure, never "cancelled", and polls it', async () => {
      const pair = makePair();
      await interruptAfterPositive(pair, 'job-f1b');
      const ticket = hedgeTicket(pair.arbId);
      assert.ok(ticket);
      bookA.bookmaker.addFault({ fault: 'lookup_error', match: { clientRef: `be1.${pair.arbId}.p1` }, count: 1_000_000 });
      const resumed = await resumeOnceRedisIsBack(pair, 'job-f1b');
      assert.equal(resumed.outcome, 'positive_in_doubt');
      const record = JSON.parse((await admin.hget('be:review:open', pair.arbId)) ?? '{}') as Record<string, unknown>;
      assert.equal(record.exposure_reason, 'positive_in_doubt');
      assert.equal(record.hedge_status, 'accepted');
      assert.equal(record.hedge_ticket, ticket);
      const polls = await admin.exists(`bull:${fastSettlementQueue}:settle-${pair.arbId}-h1`);
      assert.equal(polls, 1, 'settlement polls the live hedge');
      assert.equal(bookA.bookmaker.log().filter(mine(pair.arbId)).length, 1, 'the positive was not sent again');
    });
  });
});
