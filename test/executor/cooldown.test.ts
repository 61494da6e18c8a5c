// An account's cooldown runs from when the bookmaker could last have taken our bet, not from our claim: a lost
// answer, a late commit and a pending bet keep the account held (chaos invariant #4, issue 7).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { checkCooldown } from '../../src/rig/invariants.js';
import type { BookSnapshot, SimBetFinal } from '../../src/rig/snapshot.js';
import { cooldownHoldMs } from '../../src/domain/cooldown.js';
import { cooldownTimingsOf } from '../../src/executor/run.js';
import type { SimServer } from '../../src/sim/server.js';
import { createHarness, makePair, type Harness } from '../support/harness.js';

const terminal = ['arb_executed', 'arb_failed', 'arb_blocked', 'exposure_alert'];
const cooldownMs = 200;
/** Timings where one cooldown is shorter than a request's flight plus a late commit (the chaos run's shape). */
const timings = { cooldownMs, providerTimeoutMs: 150, lateCommitGraceMs: 600, inDoubtDeadlineMs: 3_000 };
/** A bet held pending this many status polls: until the test takes it. */
const pendingPolls = 5_000;

/** What the bookmaker holds: every request, and each bet with when it took it (the chaos run's view). */
function bookOf(server: SimServer): BookSnapshot {
  const log = server.bookmaker.log();
  const bets: SimBetFinal[] = [];
  for (const ticketId of new Set(log.flatMap((e) => (e.ticketId === undefined ? [] : [e.ticketId])))) {
    const found = server.bookmaker.status(ticketId);
    if (found.kind !== 'found') continue;
    const b = found.bet;
    bets.push({ clientRef: b.clientRef, ticketId, accountId: b.accountId, status: b.status, stakeMinor: b.stakeMinor, oddsMilli: b.oddsMilli, ...(b.acceptedAtMs === undefined ? {} : { acceptedAtMs: b.acceptedAtMs }) });
  }
  return { name: server.bookmaker.name, log, bets };
}

/** Chaos invariant #4 on the test's bookmakers: no two pairs' bets on an account less than a cooldown apart. */
function assertNoBetInsideACooldown(h: Harness): void {
  const result = checkCooldown({ cooldownMs, cooldownToleranceMs: 5, books: [bookOf(h.bookA), bookOf(h.bookB)] });
  assert.equal(result.violations, 0, result.examples.join('\n'));
}

/** The bookmaker takes a bet it holds pending (polled through from the test; the executor's own polls count too). */
function takePendingBet(h: Harness, clientRef: string): void {
  const ticketId = h.bookA.bookmaker.log().find((e) => e.clientRef === clientRef)?.ticketId ?? '';
  for (let polls = 0; polls <= pendingPolls; polls++) {
    const found = h.bookA.bookmaker.status(ticketId);
    if (found.kind !== 'found' || found.bet.status !== 'pending') return;
  }
}

/** When X's positive reached the bookmaker (simulator clock = this process's clock). */
async function positiveArrival(h: Harness, arbId: string): Promise<number> {
  return h.waitFor(`${arbId}'s positive at the bookmaker`, async () => h.bookA.bookmaker.log().find((e) => e.clientRef === `be1.${arbId}.p1`)?.atMs);
}

/** Y bets on X's positive account `afterMs` after X's request reached the bookmaker, while X's bet may still be taken. */
async function secondPairOnTheAccount(h: Harness, x: ReturnType<typeof makePair>, afterMs: number): Promise<string> {
  const arrivedAtMs = await positiveArrival(h, x.arbId);
  await h.waitFor(`${afterMs} ms since X's request`, async () => Date.now() >= arrivedAtMs + afterMs);
  const y = makePair({}, { positive: { accountId: (x.positiveBet as { accountId: string }).accountId } });
  await h.enqueue(y);
  return (await h.waitForEvent(y.arbId, terminal)).type === 'arb_blocked' ? 'blocked' : 'placed';
}

describe('an account\'s cooldown after a bet whose answer was lost', () => {
  it('holds the account until a cooldown after the bookmaker could take it during the request\'s flight: another pair is blocked', async () => {
    const h = await createHarness(timings);
    try {
      await h.startWorker();
      const x = makePair();
      // The bookmaker takes X's positive 100 ms after it arrives and never answers; lookups fail until released.
      h.bookA.bookmaker.addFault({ fault: 'commit_late', match: { clientRef: `be1.${x.arbId}.p1` }, params: { delayMs: 100, hangMs: 2_000 } });
      const hold = h.bookA.bookmaker.addFault({ fault: 'lookup_error', match: { clientRef: `be1.${x.arbId}.p1` }, count: 1_000_000 });
      await h.enqueue(x);
      // A cooldown counted from X's claim has run out; the bookmaker took X's bet after the claim.
      assert.equal(await secondPairOnTheAccount(h, x, cooldownMs + 10), 'blocked');
      assert.ok(h.bookA.bookmaker.removeFault(hold.id), 'release X');
      assert.equal((await h.waitForEvent(x.arbId, terminal)).type, 'arb_executed');
      assertNoBetInsideACooldown(h);
    } finally {
      await h.close();
    }
  });

  it('holds the account until a cooldown after lateCommitGraceMs, while the bookmaker may still commit it late: another pair is blocked', async () => {
    const h = await createHarness(timings);
    try {
      await h.startWorker();
      const x = makePair();
      // A 500 at once, the bet committed 350 ms later: past X's claim, inside the grace.
      h.bookA.bookmaker.addFault({ fault: 'commit_late', match: { clientRef: `be1.${x.arbId}.p1` }, params: { delayMs: 350 } });
      await h.enqueue(x);
      assert.equal(await secondPairOnTheAccount(h, x, cooldownMs + 10), 'blocked');
      assert.equal((await h.waitForEvent(x.arbId, terminal)).type, 'arb_executed');
      assertNoBetInsideACooldown(h);
    } finally {
      await h.close();
    }
  });
});

describe('an account\'s cooldown after a worker died with a request in flight', () => {
  it('holds the account through a late commit of that request, with nobody left to hold it: another pair is blocked', async () => {
    const h = await createHarness({ ...timings, lockTtlMs: 1_000, jobLockMs: 1_000, stalledCheckMs: 300, hedgeDeadlineMs: 15_000 });
    try {
      const x = makePair();
      // X's positive: a 500 at once, committed 550 ms later (inside the grace, past the request's flight); its
      // worker dies the moment the 500 is in, before it could do anything about it.
      h.bookA.bookmaker.addFault({ fault: 'commit_late', match: { clientRef: `be1.${x.arbId}.p1` }, params: { delayMs: 550 } });
      const doomed = h.spawnWorker({ BET_EXECUTOR_TEST_HOOKS: '1', BET_EXECUTOR_CRASH_AT: 'positive_answered' });
      await h.enqueue(x);
      const [, signal] = (await once(doomed, 'exit')) as [number | null, string | null];
      assert.equal(signal, 'SIGKILL');
      await h.startWorker();
      // Past what a claim covering only the request's flight would hold, before X's late commit.
      const flightHoldMs = cooldownHoldMs('claim', { ...cooldownTimingsOf(h.config, 'bookA'), lateCommitGraceMs: 0 });
      assert.equal(await secondPairOnTheAccount(h, x, flightHoldMs + 20), 'blocked');
      assert.equal((await h.waitForEvent(x.arbId, terminal, 20_000)).type, 'arb_executed', 'X resumed, found and hedged');
      assertNoBetInsideACooldown(h);
    } finally {
      await h.close();
    }
  });
});

describe('an account\'s cooldown while its bet is pending at the bookmaker', () => {
  it('holds the account until a cooldown after the bookmaker takes it: another pair is blocked meanwhile', async () => {
    const h = await createHarness(timings);
    try {
      await h.startWorker();
      const x = makePair();
      const ref = `be1.${x.arbId}.p1`;
      // Pending until the test has polled it through (the executor's own polls count too).
      h.bookA.bookmaker.addFault({ fault: 'pending_then_accept', match: { clientRef: ref }, params: { pendingPolls } });
      await h.enqueue(x);
      // Past everything X's claim covers (its request's flight and a late commit): only X's pending bet holds the account.
      const claimHoldMs = cooldownHoldMs('claim', cooldownTimingsOf(h.config, 'bookA'));
      assert.equal(await secondPairOnTheAccount(h, x, claimHoldMs + 50), 'blocked');
      takePendingBet(h, ref);
      assert.equal((await h.waitForEvent(x.arbId, terminal)).type, 'arb_executed');
      assertNoBetInsideACooldown(h);
    } finally {
      await h.close();
    }
  });
});

describe('an account\'s cooldown after a worker died while its bet was pending', () => {
  it('is held again by the resumed pair before its first lookup: another pair is blocked until the bookmaker takes the bet', async () => {
    const h = await createHarness({ ...timings, inDoubtDeadlineMs: 10_000, lockTtlMs: 1_000, jobLockMs: 1_000, stalledCheckMs: 300, hedgeDeadlineMs: 15_000 });
    try {
      const x = makePair();
      const ref = `be1.${x.arbId}.p1`;
      h.bookA.bookmaker.addFault({ fault: 'pending_then_accept', match: { clientRef: ref }, params: { pendingPolls } });
      // X's worker dies the moment its positive is answered pending: nobody holds the account once the claim runs out.
      const doomed = h.spawnWorker({ BET_EXECUTOR_TEST_HOOKS: '1', BET_EXECUTOR_CRASH_AT: 'positive_answered' });
      await h.enqueue(x);
      await once(doomed, 'exit');
      await h.startWorker();
      // Resumed, X looks up its planned hedge first (a lookup whose not_found it trusts only after the grace).
      await h.waitFor('X resumed, probing its planned hedge', async () => (await h.audit()).some((e) => e.type === 'bookmaker_lookup' && e.data.arbId === x.arbId && e.data.role === 'hedge'), 20_000);
      const y = makePair({}, { positive: { accountId: (x.positiveBet as { accountId: string }).accountId } });
      await h.enqueue(y);
      assert.equal((await h.waitForEvent(y.arbId, terminal)).type, 'arb_blocked');
      takePendingBet(h, ref);
      assert.equal((await h.waitForEvent(x.arbId, terminal, 20_000)).type, 'arb_executed');
      assertNoBetInsideACooldown(h);
    } finally {
      await h.close();
    }
  });
});
