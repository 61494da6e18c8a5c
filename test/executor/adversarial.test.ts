// Issue 7's adversarial review, one regression per defect: each test failed on the main before its fix.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock, type Clock } from '../../src/executor/clock.js';
import { createHarness, eventsFor, makePair, type Harness } from '../support/harness.js';

const terminal = ['arb_executed', 'arb_failed', 'arb_blocked', 'exposure_alert', 'arb_rejected'];

function accepted(h: Harness, book: 'bookA' | 'bookB', arbId: string): string[] {
  const sim = book === 'bookA' ? h.bookA : h.bookB;
  return sim.bookmaker.log().filter((e) => e.clientRef.startsWith(`be1.${arbId}.`) && e.ticketId !== undefined && e.decision !== 'duplicate').map((e) => e.clientRef);
}

describe('F3: a positive found settled before its hedge', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ providerTimeoutMs: 150, inDoubtDeadlineMs: 2_000 });
    await h.startWorker();
  });
  after(async () => h.close());

  it('does not hedge a positive the bookmaker voided before our lookup, and ends the pair without exposure', async () => {
    const pair = makePair();
    h.bookA.bookmaker.addFault({ fault: 'timeout_after_commit', match: { clientRef: `be1.${pair.arbId}.p1` }, params: { hangMs: 1_000, settleAs: 'void' } });
    await h.enqueue(pair);
    const end = await h.waitForEvent(pair.arbId, terminal);
    assert.equal(end.type, 'arb_failed');
    assert.equal(end.data.reason, 'positive_void');
    assert.deepEqual(h.bookB.bookmaker.log().filter((e) => e.clientRef.includes(pair.arbId)), [], 'no hedge request');
  });

  it('raises an exposure instead of hedging blind when the positive is found already won', async () => {
    const pair = makePair();
    h.bookA.bookmaker.addFault({ fault: 'timeout_after_commit', match: { clientRef: `be1.${pair.arbId}.p1` }, params: { hangMs: 1_000, settleAs: 'won' } });
    await h.enqueue(pair);
    const end = await h.waitForEvent(pair.arbId, terminal);
    assert.equal(end.type, 'exposure_alert');
    assert.equal(end.data.exposure_reason, 'positive_settled_before_hedge');
    assert.deepEqual(h.bookB.bookmaker.log().filter((e) => e.clientRef.includes(pair.arbId)), [], 'no hedge request');
  });
});

describe('F4: a bookmaker that commits a request late, after our lookup said not_found', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ providerTimeoutMs: 150, inDoubtDeadlineMs: 3_000, lateCommitGraceMs: 600, hedgeDeadlineMs: 5_000 });
    await h.startWorker();
  });
  after(async () => h.close());

  it('never sends h2 beside a late-committed h1: one hedge at the bookmaker', async () => {
    const pair = makePair();
    h.bookB.bookmaker.addFault({ fault: 'commit_late', match: { clientRef: `be1.${pair.arbId}.h1` }, count: 3, params: { delayMs: 300 } });
    await h.enqueue(pair);
    const end = await h.waitForEvent(pair.arbId, terminal);
    assert.equal(end.type, 'arb_executed');
    await h.waitFor('h1 committed', async () => accepted(h, 'bookB', pair.arbId).length > 0);
    assert.deepEqual(accepted(h, 'bookB', pair.arbId), [`be1.${pair.arbId}.h1`]);
  });

  it('never ends arb_failed while the positive is committed late: it is found and hedged', async () => {
    const pair = makePair();
    h.bookA.bookmaker.addFault({ fault: 'commit_late', match: { clientRef: `be1.${pair.arbId}.p1` }, count: 3, params: { delayMs: 300 } });
    await h.enqueue(pair);
    const end = await h.waitForEvent(pair.arbId, terminal);
    assert.equal(end.type, 'arb_executed', JSON.stringify(end.data));
    assert.deepEqual(accepted(h, 'bookA', pair.arbId), [`be1.${pair.arbId}.p1`]);
  });
});

describe('F5: a wall clock stepped back 5 s', () => {
  it('does not make a lapsed hedge-account claim look fresh: no hedge inside another pair\'s cooldown', async () => {
    const cooldownMs = 400;
    const h = await createHarness({ cooldownMs, providerTimeoutMs: 150, inDoubtDeadlineMs: 10_000 });
    let offsetMs = 0;
    const system = systemClock();
    const clock: Clock = { nowMs: () => system.nowMs() + offsetMs, monoMs: system.monoMs };
    try {
      await h.startWorker({}, { clock });
      const x = makePair();
      const hedgeAccount = (x.hedgeBet as { accountId: string }).accountId;
      h.bookA.bookmaker.addFault({ fault: 'timeout_after_commit', match: { clientRef: `be1.${x.arbId}.p1` }, params: { hangMs: 1_000 } });
      const hold = h.bookA.bookmaker.addFault({ fault: 'lookup_error', match: { clientRef: `be1.${x.arbId}.p1` }, count: 1_000_000 });
      await h.enqueue(x);
      await h.waitFor('X in doubt', async () => (await h.audit()).some((e) => e.type === 'bookmaker_lookup' && e.data.arbId === x.arbId));
      await h.waitFor('X\'s claim on the hedge account lapsed', async () => (await h.redis.exists(`cooldown:wl1:bookB:${hedgeAccount}`)) === 0);
      const y = makePair({}, { hedge: { accountId: hedgeAccount } });
      await h.enqueue(y);
      assert.equal((await h.waitForEvent(y.arbId, terminal)).type, 'arb_executed');
      offsetMs = -5_000; // an NTP step back
      assert.ok(h.bookA.bookmaker.removeFault(hold.id), 'release X');
      await h.waitForEvent(x.arbId, ['arb_executed', 'exposure_alert']);
      const onAccount = h.bookB.bookmaker.log().filter((e) => e.accountId === hedgeAccount);
      assert.deepEqual(onAccount.map((e) => e.clientRef), [`be1.${y.arbId}.h1`], 'only Y bet on the hedge account');
    } finally {
      await h.close();
    }
  });
});

describe('F6: a pair crashed right after preflight and resumed later', () => {
  it('does not send its positive while the global kill switch is set: the pair ends blocked', async () => {
    const h = await createHarness({ jobLockMs: 500, stalledCheckMs: 250 });
    try {
      const pair = makePair();
      const child = h.spawnWorker({ BET_EXECUTOR_TEST_HOOKS: '1', BET_EXECUTOR_CRASH_AT: 'positive_intent_journaled' });
      await h.enqueue(pair);
      await new Promise((resolve) => child.once('exit', resolve));
      assert.equal(await h.redis.hget(`be:pair:${pair.arbId}`, 'state'), 'positive_placing');
      await h.redis.set('be:kill:global', 'incident');
      await h.startWorker();
      const end = await h.waitForEvent(pair.arbId, ['arb_blocked', 'arb_executed', 'exposure_alert', 'arb_failed']);
      assert.equal(end.type, 'arb_blocked');
      assert.equal(end.data.reason, 'kill_switch');
      assert.deepEqual(h.bookA.bookmaker.log().filter((e) => e.clientRef.includes(pair.arbId)), [], 'nothing sent');
      assert.equal(await h.redis.hget(`be:pair:${pair.arbId}`, 'state'), 'blocked');
    } finally {
      await h.redis.del('be:kill:global');
      await h.close();
    }
  });
});

describe('F8: a createdAt in the future', () => {
  let h: Harness;
  before(async () => {
    h = await createHarness({ arbAgeMsMax: 500 });
    await h.startWorker();
  });
  after(async () => h.close());

  it('refuses a pair stamped ahead of Redis time by more than createdAtSkewMsMax', async () => {
    const pair = makePair({ createdAt: new Date(Date.now() + 120_000).toISOString() });
    await h.enqueue(pair);
    const end = await h.waitForEvent(pair.arbId, terminal);
    assert.equal(end.type, 'arb_blocked');
    assert.equal(end.data.reason, 'created_at_in_future');
    assert.deepEqual(h.bookA.bookmaker.log().filter((e) => e.clientRef.includes(pair.arbId)), []);
  });

  it('ages a pair from its enqueue time when that is earlier: a future stamp does not hide a long wait in the queue', async () => {
    const pair = makePair({ createdAt: new Date(Date.now() + 3_000).toISOString() });
    await h.queue.add('bet-pair', pair, { delay: 1_000 });
    const end = await h.waitForEvent(pair.arbId, terminal);
    assert.equal(end.type, 'arb_blocked');
    assert.equal(end.data.reason, 'stale');
  });

  it('accepts the RFC 3339 forms with a lower-case t and z or a space', async () => {
    const stamp = new Date().toISOString();
    const pair = makePair({ createdAt: stamp.replace('T', ' ').replace('Z', 'z') });
    await h.enqueue(pair);
    assert.equal((await h.waitForEvent(pair.arbId, terminal)).type, 'arb_executed');
  });
});

describe('F9: the hedge bookmaker refuses connections', () => {
  it('treats a refused connection as certainly not placed and alerts once the hedge budget is spent, not after the in-doubt deadline', async () => {
    const h = await createHarness({ inDoubtDeadlineMs: 60_000 });
    try {
      const closedPort = { ...h.config.providers.bookB, url: 'http://127.0.0.1:1' } as NonNullable<typeof h.config.providers.bookB>;
      await h.startWorker({ providers: { ...h.config.providers, bookB: closedPort } });
      const pair = makePair();
      await h.enqueue(pair);
      const end = await h.waitForEvent(pair.arbId, terminal, 20_000);
      assert.equal(end.type, 'exposure_alert');
      assert.equal(end.data.exposure_reason, 'hedge_failed_positive_active');
      const answers = (await h.audit()).filter((e) => e.type === 'bookmaker_answer' && e.data.arbId === pair.arbId && e.data.role === 'hedge' && 'request' in e.data);
      assert.deepEqual(answers.map((e) => (e.data.answer as { kind: string }).kind), ['not_sent', 'not_sent', 'not_sent'], 'each attempt certainly not sent, none in doubt');
      assert.equal(eventsFor(await h.events(), pair.arbId).filter((e) => e.type === 'hedge_retry').length, h.config.hedgeAttemptsMax - 1, 'retried within the hedge budget');
    } finally {
      await h.close();
    }
  });
});

describe('chaos (issue 7 classes, seed 101): a pair resumed after its hedge deadline', () => {
  it('does not send its hedge late and silently: it alerts hedge_failed_positive_active instead', async () => {
    // The hedge deadline (200 ms) is long past when the stalled job is resumed (job lock 500 ms).
    const h = await createHarness({ jobLockMs: 500, stalledCheckMs: 250, hedgeDeadlineMs: 200, hedgeRetryBackoffMs: 10 });
    try {
      const pair = makePair();
      const child = h.spawnWorker({ BET_EXECUTOR_TEST_HOOKS: '1', BET_EXECUTOR_CRASH_AT: 'positive_answered' });
      await h.enqueue(pair);
      await new Promise((resolve) => child.once('exit', resolve));
      assert.equal(accepted(h, 'bookA', pair.arbId).length, 1, 'the positive is live, its acceptance not journaled');
      await h.startWorker();
      const end = await h.waitForEvent(pair.arbId, terminal);
      assert.equal(end.type, 'exposure_alert');
      assert.equal(end.data.exposure_reason, 'hedge_failed_positive_active');
      assert.match(String((end.data.record as { detail: string }).detail), /hedge deadline/);
      assert.deepEqual(h.bookB.bookmaker.log().filter((e) => e.clientRef.includes(pair.arbId)), [], 'no hedge past its deadline');
    } finally {
      await h.close();
    }
  });
});
