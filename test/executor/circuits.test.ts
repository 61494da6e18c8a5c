// Circuit breakers end to end: real workers, real Redis, the simulated bookmakers over HTTP. A bookmaker turning
// sick opens its circuit from the outcomes in the configured window, new pairs needing it are blocked with nothing
// placed (the simulators' own logs), a probe that places nothing closes it on recovery, a hedge owed to an
// open-circuit bookmaker is still attempted, and two worker processes see one state.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { providerCircuit } from '../../src/domain/circuit.js';
import { probeRefPrefix } from '../../src/providers/protocol.js';
import type { SimServer } from '../../src/sim/server.js';
import { CircuitStore } from '../../src/store/circuit.js';
import { assertSafetyChecks, createHarness, makePair, type Harness, type StreamRow } from '../support/harness.js';

/**
 * Short, so a test sees every transition. A sick hedge bookmaker costs each pair one failed placement (the hedge
 * is then in doubt and looked up, one read per window), so minVolume 3 trips on the third such pair.
 */
const circuitBreaker = { windowMs: 5_000, failureRatio: 0.5, minVolume: 3, accountFailuresMin: 3, coolOffMs: 200, coolOffMsMax: 400, reportIntervalMs: 20, probeIntervalMs: 50 };
const terminal = ['arb_executed', 'arb_blocked', 'arb_failed', 'exposure_alert'];

async function control(book: SimServer, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const response = await fetch(`${book.url}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(response.status, 200, `${path}: ${response.status}`);
  return (await response.json()) as Record<string, unknown>;
}

async function requestCounts(book: SimServer): Promise<{ place: number; lookup: number; status: number; account: number }> {
  return (await control(book, '/_sim/requests')).requests as { place: number; lookup: number; status: number; account: number };
}

function circuitEvents(events: StreamRow[], type: string, scope: string): StreamRow[] {
  return events.filter((e) => e.type === type && e.data.scope === scope);
}

async function allTerminal(h: Harness, arbIds: string[], timeoutMs = 30_000): Promise<void> {
  await h.waitFor(`${arbIds.length} pair(s) terminal`, async () => {
    const done = new Set((await h.events()).filter((e) => terminal.includes(e.type)).map((e) => e.data.arbId));
    return arbIds.every((id) => done.has(id));
  }, timeoutMs);
}

function placedFor(book: SimServer, arbIds: string[]): number {
  return book.bookmaker.log().filter((e) => arbIds.some((id) => e.clientRef.includes(id))).length;
}

/**
 * The whole cycle on `h` (workers already running): sick → open (with its figures) → new pairs blocked, nothing
 * placed → cured → a probe that places nothing closes it → pairs execute again. Returns the blocked pairs' events.
 */
async function sickOpenBlockRecover(h: Harness, blockedCount: number): Promise<StreamRow[]> {
  const scope = 'provider:bookB';
  await control(h.bookB, '/_sim/sick', { mode: 'error_500' });
  const doomed = Array.from({ length: 4 }, () => makePair());
  for (const p of doomed) await h.enqueue(p);
  const opened = await h.waitFor('bookB\'s circuit opened', async () => circuitEvents(await h.events(), 'circuit_opened', scope)[0]);
  assert.equal(opened.data.reason, 'failure_ratio');
  const window = opened.data.window as { windowMs: number; volume: number; failures: number; ratio: number };
  assert.equal(window.windowMs, circuitBreaker.windowMs, 'counted over the configured window');
  assert.ok(window.volume >= circuitBreaker.minVolume, `volume ${window.volume} >= minVolume`);
  assert.ok(window.failures >= circuitBreaker.failureRatio * window.volume, `ratio ${window.ratio}`);
  assert.equal(opened.data.detail, 'http_500', 'the last failure is named');
  // The positives were live: each hedge owed to bookB was attempted (and failed), raising an exposure as before.
  await allTerminal(h, doomed.map((p) => p.arbId));

  // New pairs needing bookB: blocked at preflight, naming the circuit; neither bookmaker saw a request for them.
  const placeBefore = [(await requestCounts(h.bookA)).place, (await requestCounts(h.bookB)).place];
  const fresh = Array.from({ length: blockedCount }, () => makePair());
  for (const p of fresh) await h.enqueue(p);
  await allTerminal(h, fresh.map((p) => p.arbId));
  const events = await h.events();
  const blocked = events.filter((e) => e.type === 'arb_blocked' && fresh.some((p) => p.arbId === e.data.arbId));
  assert.equal(blocked.length, blockedCount, 'every new pair blocked');
  for (const e of blocked) {
    assert.equal(e.data.reason, 'circuit_open');
    assert.equal(e.data.circuit, scope);
    assert.equal(e.data.provider, 'bookB');
  }
  assert.equal(placedFor(h.bookA, fresh.map((p) => p.arbId)) + placedFor(h.bookB, fresh.map((p) => p.arbId)), 0, 'nothing placed for a blocked pair');

  // Recovery: the bookmaker answers again; a probe (a lookup of a reference no bet carries) closes the circuit.
  const lookupsBefore = (await requestCounts(h.bookB)).lookup;
  await control(h.bookB, '/_sim/sick', { mode: 'off' });
  const closed = await h.waitFor('bookB\'s circuit closed by a probe', async () => circuitEvents(await h.events(), 'circuit_closed', scope)[0]);
  assert.equal(closed.data.reason, 'probe_succeeded');
  assert.match(String(closed.data.probe), /^lookup: not_found$/);
  const after = await requestCounts(h.bookB);
  assert.ok(after.lookup > lookupsBefore, 'the probe was a lookup');
  assert.deepEqual([(await requestCounts(h.bookA)).place, after.place], placeBefore, 'no placement at either bookmaker from the block to the close');
  assert.equal(h.bookB.bookmaker.log().filter((e) => e.clientRef.startsWith(probeRefPrefix)).length, 0, 'no bet carries a probe reference');
  assert.ok(h.bookB.bookmaker.lookupLog().some((l) => l.clientRef.startsWith(probeRefPrefix)), 'the simulator logged the probe\'s lookup');

  const healthy = makePair();
  await h.enqueue(healthy);
  const outcome = await h.waitForEvent(healthy.arbId, terminal, 20_000);
  assert.equal(outcome.type, 'arb_executed', 'pairs execute again once it is closed');
  return blocked;
}

describe('circuit breakers end to end', () => {
  it('a sick bookmaker opens its circuit within the window, new pairs are blocked with nothing placed, a non-placing probe closes it', async () => {
    const h = await createHarness({ circuitBreaker });
    try {
      await h.startWorker();
      await sickOpenBlockRecover(h, 3);
      assertSafetyChecks(h);
    } finally {
      await h.close();
    }
  });

  it('a hedge owed to a bookmaker whose circuit opened meanwhile is still attempted (and placed) within its deadline', async () => {
    // bookA answers slowly: the circuit of bookB is forced open while the positive is on its way.
    const slow = { providerTimeoutMs: 1_000, lockTtlMs: 3_000, jobLockMs: 3_000, inDoubtDeadlineMs: 2_500, hedgeDeadlineMs: 6_000 };
    const h = await createHarness({ circuitBreaker, ...slow }, { bookA: { latencyMs: 400 } });
    const circuits = new CircuitStore(h.redis, 10_000);
    try {
      await h.startWorker();
      const pair = makePair();
      await h.enqueue(pair);
      await h.waitFor('the positive reached bookA', async () => placedFor(h.bookA, [pair.arbId]) > 0);
      const forced = await circuits.force('open', providerCircuit('bookB'), 'test: opened mid-pair', { by: 'test', via: 'cli' });
      assert.equal(forced.state, 'open');
      const outcome = await h.waitForEvent(pair.arbId, terminal, 20_000);
      assert.equal(outcome.type, 'arb_executed', 'the owed hedge was placed although the circuit is open');
      assert.equal(h.bookB.bookmaker.log().filter((e) => e.clientRef === `be1.${pair.arbId}.h1` && e.decision === 'accepted').length, 1);
      const next = makePair();
      await h.enqueue(next);
      const blocked = await h.waitForEvent(next.arbId, terminal, 20_000);
      assert.equal(blocked.type, 'arb_blocked', 'while a new pair needing it is not started');
      assert.equal(blocked.data.reason, 'circuit_open');
    } finally {
      await h.close();
    }
  });

  it('an account answering 401/403 or limits opens that account\'s circuit only', async () => {
    const h = await createHarness({ circuitBreaker });
    try {
      await h.startWorker();
      await control(h.bookA, '/_sim/accounts', { accountId: 'limitedacc', status: 'limited' });
      const limited = Array.from({ length: 3 }, () => makePair({}, { positive: { accountId: 'limitedacc' } }));
      for (const p of limited) {
        // One at a time, each after the account's cooldown (a pair inside it is blocked before it is sent).
        await h.waitFor('the account\'s cooldown over', async () => (await h.redis.exists('cooldown:wl1:bookA:limitedacc')) === 0);
        await h.enqueue(p);
        await h.waitForEvent(p.arbId, terminal, 20_000);
      }
      const opened = await h.waitFor('the account\'s circuit opened', async () => circuitEvents(await h.events(), 'circuit_opened', 'account:bookA:limitedacc')[0]);
      assert.equal(opened.data.reason, 'account_failures');
      const other = makePair();
      await h.enqueue(other);
      assert.equal((await h.waitForEvent(other.arbId, terminal, 20_000)).type, 'arb_executed', 'other accounts at bookA are unaffected');
      const again = makePair({}, { positive: { accountId: 'limitedacc' } });
      await h.enqueue(again);
      const blocked = await h.waitForEvent(again.arbId, terminal, 20_000);
      assert.equal(blocked.data.reason, 'circuit_open');
      assert.equal(blocked.data.circuit, 'account:bookA:limitedacc');
      // Lifted at the bookmaker: the account probe (GET /accounts/…, places nothing) closes it.
      await control(h.bookA, '/_sim/accounts', { accountId: 'limitedacc', status: 'active' });
      const closed = await h.waitFor('the account\'s circuit closed', async () => circuitEvents(await h.events(), 'circuit_closed', 'account:bookA:limitedacc')[0]);
      assert.equal(closed.data.probe, 'account: active');
    } finally {
      await h.close();
    }
  });

  it('two worker processes agree: the circuit one opens blocks pairs at both, and closes once for both', async () => {
    const h = await createHarness({ circuitBreaker, concurrency: 4 });
    try {
      h.spawnWorker();
      h.spawnWorker();
      await h.waitFor('two workers on the queue', async () => (await h.queue.getWorkers()).length === 2, 20_000);
      const blocked = await sickOpenBlockRecover(h, 16);
      // A connection handed to BullMQ is not closed by queue.close(): it is ours to close (else the file never exits).
      const connection = h.redis.duplicate();
      const queue = new Queue(h.config.queueName, { connection });
      try {
        const jobs = await queue.getJobs(['completed', 'failed'], 0, 1_000);
        const byArb = new Map(jobs.map((j) => [(j.data as { arbId?: string }).arbId, j.processedBy]));
        const workers = new Set(blocked.map((e) => byArb.get(String(e.data.arbId))).filter((w) => w !== undefined));
        assert.equal(workers.size, 2, `blocked pairs were taken by both workers (${[...workers].join(', ')})`);
      } finally {
        await queue.close();
        connection.disconnect();
      }
      const events = await h.events();
      assert.equal(circuitEvents(events, 'circuit_closed', 'provider:bookB').length, 1, 'one close for both');
      assertSafetyChecks(h);
    } finally {
      await h.close();
    }
  });
});
