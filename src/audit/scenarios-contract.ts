// The original audit's 24 items, each made to happen against worker processes and judged from the simulators, Redis and the streams.
import type { ChildProcess } from 'node:child_process';
import { keys } from '../store/keys.js';
import { startSimServer } from '../sim/server.js';
import { pendingPollsMax } from '../sim/faults.js';
import { Checks, type ItemDef, type Scenario } from './types.js';
import { describe, entryMs, eventFor, eventsOf, fault, makePair, settle, simEntries, sleep, terminalTypes, tookBet, until, type AuditPair } from './probe.js';
import { exitOf, type World } from './world.js';

const item = (id: string, group: ItemDef['group'], title: string): ItemDef => ({ id, group, title });

/** Upper bound of a cooldown key's TTL after a claim: cooldown + lead + request timeout + late-commit grace, plus slack. */
function claimHoldBoundMs(cooldownMs: number, providerTimeoutMs: number, graceMs: number): number {
  return cooldownMs + 2 * providerTimeoutMs + graceMs + 1_000;
}

async function terminal(world: World, pair: AuditPair, timeoutMs = 12_000) {
  return eventFor(world, pair.arbId, terminalTypes, timeoutMs, true);
}

export const orderScenario: Scenario = {
  name: 'execution order, outcomes and the cooldown of executed pairs',
  lane: 'main',
  items: [
    item('order.positive-first', 'order', 'Positive bet placed first, hedge only after its acceptance'),
    item('order.hedge-blocked', 'order', 'Hedge cancelled when the positive is rejected'),
    item('order.outcomes', 'order', 'Placement outcomes accepted / rejected / error'),
    item('cooldown.key', 'cooldown', 'Cooldown key cooldown:{whitelabel}:{provider}:{accountId}'),
    item('cooldown.duration', 'cooldown', 'Cooldown duration is the configured one (by TTL)'),
    item('cooldown.persisted', 'cooldown', 'Cooldown kept in Redis with a TTL'),
    item('cooldown.blocks', 'cooldown', 'Cooldown blocks new bets (arb_blocked, remainingSeconds)'),
  ],
  async run({ world, main, tag }, report) {
    const config = main.config;
    const plain = [makePair(tag), makePair(tag), makePair(tag)];
    const rejected = makePair(tag);
    const errored = makePair(tag);
    const slow = makePair(tag);
    // A positive the bookmaker holds pending for a while: its hedge must wait for the acceptance, not the request.
    fault(world.bookA, { fault: 'pending_then_accept', match: { accountId: slow.positiveBet.accountId }, params: { pendingPolls: 8 } });
    fault(world.bookA, { fault: 'reject', match: { accountId: rejected.positiveBet.accountId }, params: { reason: 'audit: market closed' } });
    fault(world.bookA, { fault: 'error_500', match: { accountId: errored.positiveBet.accountId }, count: config.placementSendsMax + 5 });
    for (const pair of [...plain, rejected, errored, slow]) await main.enqueue(pair);
    const ends = await Promise.all([...plain, rejected, errored, slow].map((p) => terminal(world, p)));
    const events = await world.events();

    // 1. Positive first.
    const order = new Checks();
    let measured = 0;
    for (const [i, pair] of plain.entries()) {
      order.expect(ends[i]?.type === 'arb_executed', `${pair.arbId} ended ${ends[i]?.type ?? 'with no outcome'}, not arb_executed`);
      const positive = simEntries(world.bookA, pair.arbId).find(tookBet);
      const hedge = simEntries(world.bookB, pair.arbId)[0];
      if (!positive || !hedge) {
        order.expect(false, `${pair.arbId}: positive ${positive ? 'taken' : 'missing'}, hedge ${hedge ? 'sent' : 'missing'} at the bookmakers`);
        continue;
      }
      measured++;
      order.expect(hedge.atMs >= positive.atMs, `${pair.arbId}: hedge reached bookB ${positive.atMs - hedge.atMs} ms before the positive was taken`);
    }
    const slowAcceptedMs = world.bookA.bookmaker.peek(`be1.${slow.arbId}.p1`)?.acceptedAtMs;
    const slowHedge = simEntries(world.bookB, slow.arbId)[0];
    order.expect(ends[5]?.type === 'arb_executed', `the pending-then-accepted pair ended ${ends[5]?.type ?? 'with no outcome'}`);
    order.expect(slowAcceptedMs !== undefined && slowHedge !== undefined && slowHedge.atMs >= slowAcceptedMs, `pending positive: hedge reached bookB at ${slowHedge?.atMs ?? 'never'}, positive accepted at ${slowAcceptedMs ?? 'never'}`);
    order.note(`${measured}/${plain.length} plain pairs: hedge request at bookB at or after the positive's acceptance at bookA; a positive held pending 8 polls: hedge ${slowHedge && slowAcceptedMs ? slowHedge.atMs - slowAcceptedMs : '?'} ms after its acceptance (simulators' clocks)`);
    report('order.positive-first', order.outcome('3 plain pairs and one whose positive bookA held pending; request and acceptance times from both simulators'));

    // 2. Hedge blocked on rejection.
    const blocked = new Checks();
    const failedEvent = eventsOf(events, rejected.arbId, 'arb_failed')[0];
    blocked.expect(failedEvent?.data.reason === 'positive_bet_rejected', `arb_failed reason ${String(failedEvent?.data.reason)} (expected positive_bet_rejected)`);
    blocked.expect(failedEvent?.data.hedgeBetStatus === 'cancelled', `hedgeBetStatus ${String(failedEvent?.data.hedgeBetStatus)} (expected cancelled)`);
    const hedgeRequests = simEntries(world.bookB, rejected.arbId).length;
    blocked.expect(hedgeRequests === 0, `${hedgeRequests} hedge request(s) reached bookB after the positive was rejected`);
    blocked.note(`positive rejected by bookA; bookB received ${hedgeRequests} request(s); arb_failed ${String(failedEvent?.data.reason)} / hedge ${String(failedEvent?.data.hedgeBetStatus)}`);
    report('order.hedge-blocked', blocked.outcome('bookA told to reject one positive (fault reject)'));

    // 3. Outcomes.
    const outcomes = new Checks();
    const accepted = plain.flatMap((p) => eventsOf(events, p.arbId, 'bet_accepted'));
    outcomes.expect(accepted.length === 2 * plain.length && accepted.every((e) => typeof e.data.ticketId === 'string' && e.data.ticketId !== ''), `bet_accepted with a ticket: ${accepted.length} of ${2 * plain.length}`);
    const rejectedFail = eventsOf(events, rejected.arbId, 'bet_failed')[0];
    outcomes.expect(typeof rejectedFail?.data.error === 'string' && String(rejectedFail.data.error).includes('market closed'), `rejected: bet_failed error ${JSON.stringify(rejectedFail?.data.error)} does not carry the bookmaker's reason`);
    const errorFail = eventsOf(events, errored.arbId, 'bet_failed')[0];
    outcomes.expect(typeof errorFail?.data.error === 'string' && errorFail.data.error !== '', `error: no bet_failed with an error text (got ${ends[4]?.type ?? 'nothing'})`);
    const errorTaken = simEntries(world.bookA, errored.arbId).filter(tookBet).length + simEntries(world.bookB, errored.arbId).length;
    outcomes.expect(errorTaken === 0, `error: ${errorTaken} bet(s) live or hedge sent after bookmaker errors`);
    outcomes.note(`accepted: ${accepted.length} bet_accepted with tickets; rejected: "${String(rejectedFail?.data.error)}"; error (HTTP 500 × ${simEntries(world.bookA, errored.arbId).length}): "${String(errorFail?.data.error).slice(0, 80)}"`);
    report('order.outcomes', outcomes.outcome('accepted, rejected (fault reject) and error (HTTP 500 on every send) placements'));

    // Cooldown of the executed pairs.
    const first = plain[0] as AuditPair;
    const key = keys.cooldown(first.whitelabel, 'bookA', first.positiveBet.accountId);
    const hedgeKey = keys.cooldown(first.whitelabel, 'bookB', first.hedgeBet.accountId);
    // One MULTI: the key's value (the Redis second it was last set), its PTTL and Redis's clock at the same moment.
    const read = await world.admin.multi().get(key).pttl(key).pttl(hedgeKey).time().exec();
    const [value, pttl, hedgePttl, redisTime] = (read ?? []).map(([, v]) => v) as [string | null, number, number, [string, string]];
    const redisNowMs = Number(redisTime[0]) * 1000 + Math.floor(Number(redisTime[1]) / 1000);
    const keyCheck = new Checks();
    keyCheck.expect(value !== null, `${key} not in Redis after the pair executed`);
    keyCheck.expect(hedgePttl > 0, `${hedgeKey} (hedge account) not in Redis`);
    const nowS = Math.floor(Date.now() / 1000);
    keyCheck.expect(value === null || Math.abs(Number(value) - nowS) < 120, `value ${value} is not unix seconds of the bet`);
    keyCheck.note(`${key} = ${value} (unix s), ${hedgeKey} present`);
    report('cooldown.key', keyCheck.outcome('read both accounts\' keys after a pair executed'));

    const bound = claimHoldBoundMs(config.cooldownMs, config.providerTimeoutMs, config.lateCommitGraceMs);
    const duration = new Checks();
    // The hold the key was set with: its PTTL plus the time since it was set (by Redis's clock, so however long this
    // machine took to read it), give or take the second the value is rounded down to.
    const sinceSetMs = value === null ? Number.NaN : redisNowMs - Number(value) * 1000;
    const heldMs = pttl + sinceSetMs;
    const floor = Math.max(1, config.cooldownMs - 1_000);
    duration.expect(heldMs >= floor && heldMs <= bound + 1_000, `set with a hold of ${heldMs} ms (PTTL ${pttl} ms, set ${sinceSetMs} ms before) outside [${floor}, ${bound + 1_000}] (cooldownMs ${config.cooldownMs})`);
    duration.note(`PTTL ${pttl} ms ${sinceSetMs} ms after the key was set: a hold of ${heldMs} ms (±1 s), configured cooldownMs ${config.cooldownMs} (claim bound ${bound})`);

    const persisted = new Checks();
    persisted.expect(pttl > 0, `PTTL ${pttl}: the key has no TTL or is gone`);
    const info = await world.admin.config('GET', 'appendonly') as string[];
    persisted.note(`key in Redis with PTTL ${pttl} ms (Redis appendonly=${info[1] ?? '?'}), not in process memory: see cooldown.survives-restart`);
    report('cooldown.persisted', persisted.outcome('read the key and its TTL from Redis'));

    // Blocks: a new pair on the cooled positive account.
    const again = makePair(tag, { positive: { accountId: first.positiveBet.accountId } });
    await main.enqueue(again);
    const end = await terminal(world, again);
    const blocks = new Checks();
    blocks.expect(end?.type === 'arb_blocked' && end.data.reason === 'cooldown', `a pair on the cooled account ended ${describe(end)}`);
    const sent = simEntries(world.bookA, again.arbId).length + simEntries(world.bookB, again.arbId).length;
    blocks.expect(sent === 0, `${sent} request(s) reached the bookmakers for the blocked pair`);
    const remaining = Number(end?.data.remainingSeconds);
    blocks.expect(Number.isFinite(remaining) && remaining > 0 && remaining * 1000 <= bound + 1_000, `remainingSeconds ${String(end?.data.remainingSeconds)}`);
    blocks.note(`second pair on ${first.positiveBet.accountId}: ${describe(end)}, remainingSeconds ${String(end?.data.remainingSeconds)}, ${sent} requests`);
    duration.expect(Math.abs(remaining * 1000 - pttl) <= 5_000 || !Number.isFinite(remaining), `remainingSeconds ${remaining} disagrees with the key's PTTL ${pttl} ms`);
    report('cooldown.duration', duration.outcome('compared the key\'s PTTL and arb_blocked remainingSeconds with the configured cooldownMs'));
    report('cooldown.blocks', blocks.outcome('enqueued a second pair on the cooled positive account (after the first, see also cooldown.in-flight)'));
  },
};

/** How long the in-flight cooldown scenario's own bookmaker takes to answer: the window a rival pair must meet. */
const inFlightAnswerMs = 4_000;

/**
 * cooldown.in-flight: a pair's positive is taken by the bookmaker and not answered yet (a simulator of the
 * scenario's own answers every request inFlightAnswerMs late); a second pair on the same account, enqueued the
 * moment the first positive reached the bookmaker, must be blocked `cooldown` with nothing sent. A cooldown
 * claimed only once a bet is answered (the `cooldown_after_bet` defect) lets it through: no answer has come.
 * (A pending answer would not do: it is an answer, journaled at once, and holds the account from then on.)
 */
export const inFlightCooldownScenario: Scenario = {
  name: 'a second pair while the first positive is unanswered',
  lane: 'aux',
  items: [item('cooldown.in-flight', 'cooldown', 'Cooldown claimed before the bet: blocks a pair while the first is in flight')],
  async run({ world, tag }, report) {
    const slow = await startSimServer({ seed: 5, name: 'bookA', settleAfterMs: null, latencyMs: inFlightAnswerMs });
    const checks = new Checks();
    let worker: ChildProcess | null = null;
    try {
      // Its own bookA (answering late), a provider timeout past that lateness (the request is in flight, not lost),
      // and the lease and in-doubt deadline the config requires of such a timeout.
      const group = await world.group('inflight', {
        providers: { bookA: { url: slow.url }, bookB: { url: world.bookB.url } },
        providerTimeoutMs: inFlightAnswerMs + 1_000, lockTtlMs: 3 * (inFlightAnswerMs + 1_000), inDoubtDeadlineMs: 4 * (inFlightAnswerMs + 1_000),
      });
      worker = await group.spawn();
      await group.waitForWorkers(1);
      const first = makePair(tag);
      await group.enqueue(first);
      const reached = await until(world, 'the first positive at the bookmaker', () => simEntries(slow, first.arbId).length > 0, 30_000);
      const reachedAtMs = Date.now();
      const rival = makePair(tag, { positive: { accountId: first.positiveBet.accountId } });
      await group.enqueue(rival);
      const rivalEnd = await terminal(world, rival, 30_000);
      const firstEnd = await terminal(world, first, 30_000);
      const answeredAtMs = firstEnd === null ? null : entryMs(firstEnd);
      const rivalSent = simEntries(slow, rival.arbId).length + simEntries(world.bookB, rival.arbId).length;
      // Neither sent nor blocked before the first positive was answered, the second pair showed nothing: never PASS.
      const shown = rivalSent > 0 || (rivalEnd !== null && entryMs(rivalEnd) < reachedAtMs + inFlightAnswerMs);
      checks.expect(reached, 'the first pair never reached the bookmaker');
      checks.expect(shown, `the second pair was neither sent nor decided while the first positive was unanswered (${describe(rivalEnd)}): nothing shown`);
      checks.expect(rivalSent === 0, `${rivalSent} request(s) of the second pair reached the bookmakers while the first positive was unanswered on the same account`);
      checks.expect(rivalEnd?.type === 'arb_blocked' && rivalEnd.data.reason === 'cooldown', `second pair ended ${describe(rivalEnd)}`);
      checks.expect(firstEnd?.type === 'arb_executed', `the first pair ended ${describe(firstEnd)}`);
      checks.note(`first positive taken and answered ${inFlightAnswerMs} ms late (its pair ${describe(firstEnd)}${answeredAtMs === null ? '' : `, ${answeredAtMs - reachedAtMs} ms after it reached the bookmaker`}); second pair on ${first.positiveBet.accountId}, enqueued meanwhile: ${describe(rivalEnd)}, ${rivalSent} requests`);
    } finally {
      worker?.kill('SIGTERM');
      if (worker) await exitOf(worker, 5_000).catch(() => undefined);
      await slow.close();
    }
    report('cooldown.in-flight', checks.outcome(`a worker group whose bookA (its own simulator) answers every request ${inFlightAnswerMs} ms late; a second pair on the first pair's positive account enqueued once the first positive reached it`));
  },
};

export const inFlightScenario: Scenario = {
  name: 'a pair in flight: cooldown, duplicates, lease',
  lane: 'main',
  items: [
    item('concurrency.duplicates-in-flight', 'concurrency', 'No double execution: duplicates delivered while in flight'),
    item('concurrency.duplicates-after', 'concurrency', 'No double execution: duplicate delivered after the end'),
    item('recommendation.lock', 'recommendations', 'Recommendation: a lock per pair (lock:arb:{arbId})'),
  ],
  async run({ world, main, tag }, report) {
    const pair = makePair(tag);
    const positiveRef = `be1.${pair.arbId}.p1`;
    // The bookmaker holds the positive pending until the audit releases it, once the duplicates have been decided:
    // they arrive while the pair is in flight, visibly, at the bookmaker, however slow the machine.
    fault(world.bookA, { fault: 'pending_then_accept', match: { clientRef: positiveRef }, params: { pendingPolls: pendingPollsMax } });
    await main.enqueue(pair, `${pair.arbId}-1`);
    await until(world, 'positive pending at bookA', () => simEntries(world.bookA, pair.arbId).length > 0);
    // Released before the executor's in-doubt deadline runs out (then it would flag the pair, not the subject here).
    const releaseByMs = Date.now() + Math.max(1_000, main.config.inDoubtDeadlineMs - 2_000);
    const lockKey = keys.lease(pair.arbId);
    const [lockValue, lockPttl] = await Promise.all([world.admin.get(lockKey), world.admin.pttl(lockKey)]);
    const duplicateJobIds = [`${pair.arbId}-2`, `${pair.arbId}-3`];
    await Promise.all(duplicateJobIds.map((jobId) => main.enqueue(pair, jobId)));
    await until(world, 'duplicate deliveries handled', async () => {
      const states = await Promise.all(duplicateJobIds.map((jobId) => main.queue.getJobState(jobId)));
      return states.every((state) => state === 'completed' || state === 'failed');
    }, Math.max(1, releaseByMs - Date.now()));
    world.bookA.bookmaker.releasePending(positiveRef);
    const end = await eventFor(world, pair.arbId, ['arb_executed', 'arb_failed', 'exposure_alert'], 15_000, true);
    await sleep(300);
    const lockAfter = await world.admin.exists(lockKey);

    const dup = new Checks();
    const positives = simEntries(world.bookA, pair.arbId);
    const hedges = simEntries(world.bookB, pair.arbId);
    const refs = new Set([...positives, ...hedges].map((e) => e.clientRef));
    const takenPerLeg = { positive: positives.filter(tookBet).length, hedge: hedges.filter(tookBet).length };
    dup.expect(end?.type === 'arb_executed', `the pair ended ${describe(end)}`);
    dup.expect(takenPerLeg.positive === 1 && takenPerLeg.hedge <= 1, `live bets at the bookmakers: positive ${takenPerLeg.positive}, hedge ${takenPerLeg.hedge}`);
    dup.expect(positives.length === 1 && hedges.length === 1, `placement requests: positive ${positives.length}, hedge ${hedges.length} (3 deliveries of one arb)`);
    const dupEvents = eventsOf(await world.events(), pair.arbId, 'arb_duplicate');
    dup.expect(dupEvents.length >= 2, `${dupEvents.length} arb_duplicate event(s) for 2 duplicate deliveries`);
    dup.note(`3 jobs of one arb: ${positives.length} positive and ${hedges.length} hedge request(s), refs ${[...refs].join(', ')}; arb_duplicate ${dupEvents.map((e) => String(e.data.reason)).join(', ')}`);
    report('concurrency.duplicates-in-flight', dup.outcome('delivered the same arb 3 times (3 job ids) while its positive was pending, to a group of 2 worker processes'));

    await main.enqueue(pair, `${pair.arbId}-4`);
    const late = await until(world, 'duplicate after the end reported', async () => eventsOf(await world.events(), pair.arbId, 'arb_duplicate').some((e) => e.data.reason === 'already_processed'), 8_000);
    await sleep(200);
    const after = new Checks();
    const requestsAfter = simEntries(world.bookA, pair.arbId).length + simEntries(world.bookB, pair.arbId).length;
    after.expect(late, 'no arb_duplicate already_processed for a delivery after the pair ended');
    after.expect(requestsAfter === positives.length + hedges.length, `${requestsAfter - positives.length - hedges.length} new request(s) after the late duplicate`);
    after.note(`4th delivery after the end: ${late ? 'arb_duplicate already_processed' : 'no duplicate event'}, ${requestsAfter - positives.length - hedges.length} new requests`);
    report('concurrency.duplicates-after', after.outcome('delivered the finished arb once more'));

    const lock = new Checks();
    lock.expect(lockValue !== null, `${lockKey} absent while the pair was in flight`);
    lock.expect(lockPttl > 0 && lockPttl <= main.config.lockTtlMs, `lease PTTL ${lockPttl} ms (lockTtlMs ${main.config.lockTtlMs})`);
    lock.expect(lockAfter === 0, `${lockKey} still held after the pair ended`);
    lock.note(`${lockKey} held (PTTL ${lockPttl} ms of ${main.config.lockTtlMs}) while pending, released after; duplicates did not place (see concurrency.duplicates-in-flight)`);
    report('recommendation.lock', lock.outcome('read the lease key while the pair was in flight and after'));
  },
};

/** The seed's reconciliation table: positive/hedge results → exposure reason (null: none). */
export const reconciliationRows: Array<[string, string, string | null]> = [
  ['won', 'lost', null], ['lost', 'won', null], ['void', 'void', null],
  ['void', 'won', 'positive_void_hedge_active'], ['lost', 'void', 'hedge_void_positive_active'],
  ['half_won', 'lost', 'partial_settlement_half_won_lost'], ['won', 'half_lost', 'partial_settlement_won_half_lost'],
  ['lost', 'lost', 'both_lost_unexpected'], ['won', 'won', 'both_won_unexpected'],
];

export const settlementScenario: Scenario = {
  name: 'settlement: every reconciliation row, polling until final, the poll limit',
  lane: 'main',
  items: [
    item('order.settlement-outcomes', 'order', 'Settlement outcomes won / lost / void / half_won / half_lost'),
    item('settlement.polled', 'settlement', 'Settlement polled until final'),
    item('settlement.bounded', 'settlement', 'Polling bounded: the poll limit ends in a timeout exposure'),
    item('settlement.reconciliation', 'settlement', 'Reconciliation: every row of the table'),
    item('exposure.key', 'exposure', 'Exposure key exposure:{whitelabel}:{positiveProvider}:{betPairId}'),
    item('exposure.record', 'exposure', 'Exposure record structure (the seed\'s fields)'),
    item('exposure.ttl', 'exposure', 'Exposure key TTL is the configured one (24 h by default)'),
  ],
  async run({ world, main, tag }, report) {
    const config = main.config;
    const rows = reconciliationRows.map((row) => ({ row, pair: makePair(tag) }));
    const timeout = makePair(tag);
    for (const { pair } of rows) await main.enqueue(pair);
    await main.enqueue(timeout);
    const executed = await Promise.all(rows.map(({ pair }) => eventFor(world, pair.arbId, ['arb_executed'], 12_000, true)));
    // Settled once polling has run a few rounds: the answer must come from polling, not from the acceptance.
    await sleep(config.settlementPollIntervalMs * 4);
    const settledAtMs = Date.now();
    for (const { row, pair } of rows) {
      settle(world.bookA, `be1.${pair.arbId}.p1`, row[0] as never);
      settle(world.bookB, `be1.${pair.arbId}.h1`, row[1] as never);
    }
    const pollBudgetMs = config.settlementPollIntervalMs * config.settlementPollCountMax;
    const settledEvents = await Promise.all(rows.map(({ pair }, i) => (executed[i] ? eventFor(world, pair.arbId, ['arb_settled'], pollBudgetMs + 8_000) : null)));
    const timeoutExecuted = await eventFor(world, timeout.arbId, ['arb_executed'], 12_000, true);
    const timeoutEnd = timeoutExecuted ? await eventFor(world, timeout.arbId, ['arb_settled'], pollBudgetMs * 2 + 10_000) : null;
    const events = await world.events();

    const table = new Checks();
    let rowsOk = 0;
    for (const [i, { row }] of rows.entries()) {
      const ev = settledEvents[i];
      const got = ev ? (ev.data.exposureReason ?? null) : 'no arb_settled';
      if (table.expect(executed[i] !== null && got === row[2], `${row[0]}/${row[1]}: ${String(got)} (expected ${String(row[2])})`)) rowsOk++;
    }
    table.note(`${rowsOk}/${rows.length} rows classified as the table says (results set at the simulators, classification read from arb_settled)`);
    report('settlement.reconciliation', table.outcome('9 executed pairs settled at the simulators, one per row of the table'));

    const outcomes = new Checks();
    const statuses = new Set(events.filter((e) => e.type === 'bet_settled' && rows.some(({ pair }) => pair.arbId === e.data.arbId)).map((e) => String(e.data.status)));
    for (const status of ['won', 'lost', 'void', 'half_won', 'half_lost']) outcomes.expect(statuses.has(status), `no bet_settled ${status}`);
    outcomes.note(`bet_settled statuses seen: ${[...statuses].sort().join(', ')}`);
    report('order.settlement-outcomes', outcomes.outcome('read bet_settled events of the 18 bets settled at the simulators'));

    const polled = new Checks();
    const bets = events.filter((e) => e.type === 'bet_settled' && rows.some(({ pair }) => pair.arbId === e.data.arbId));
    const early = bets.filter((e) => entryMs(e) < settledAtMs - 50);
    polled.expect(bets.length === 18, `${bets.length}/18 bets reported settled`);
    polled.expect(early.length === 0, `${early.length} bet(s) reported settled before the bookmaker settled them`);
    const lag = bets.map((e) => entryMs(e) - settledAtMs).sort((a, b) => a - b);
    polled.note(`18 bets unsettled for ${config.settlementPollIntervalMs * 4} ms, then settled: ${bets.length} bet_settled, ${lag.length ? `${lag[0]}–${lag[lag.length - 1]}` : '?'} ms after (poll interval ${config.settlementPollIntervalMs} ms)`);
    report('settlement.polled', polled.outcome('left bets open at the simulators for several poll intervals, then settled them'));

    const bounded = new Checks();
    bounded.expect(timeoutEnd?.data.exposureReason === 'settlement_timeout', `a pair never settled ended ${timeoutEnd ? String(timeoutEnd.data.exposureReason) : 'with no arb_settled'} (expected settlement_timeout)`);
    const timeouts = eventsOf(events, timeout.arbId, 'bet_settled').filter((e) => e.data.status === 'timeout').length;
    bounded.note(`pair never settled at the bookmakers: ${timeouts} bet_settled timeout, arb_settled ${String(timeoutEnd?.data.exposureReason)} after at most ${config.settlementPollCountMax} polls of ${config.settlementPollIntervalMs} ms`);
    report('settlement.bounded', bounded.outcome('left one executed pair unsettled at both simulators'));

    const exposed = rows.filter(({ row }) => row[2] !== null).map(({ pair }) => pair);
    const keyCheck = new Checks();
    const recordCheck = new Checks();
    const ttlCheck = new Checks();
    const fields = ['bet_pair_id', 'arb_id', 'whitelabel', 'positive_provider', 'hedge_provider', 'positive_ticket', 'hedge_ticket', 'positive_status', 'hedge_status', 'exposure_reason', 'detected_at', 'expected_outcome', 'actual_outcome'];
    const ttls: number[] = [];
    for (const pair of exposed) {
      const key = keys.exposure(pair.whitelabel, 'bookA', pair.betPairId);
      const [raw, pttl] = await Promise.all([world.admin.get(key), world.admin.pttl(key)]);
      keyCheck.expect(raw !== null, `${key} missing`);
      recordCheck.expect(raw !== null, `no record at ${key}`);
      ttls.push(pttl);
      ttlCheck.expect(Math.abs(pttl - config.exposureTtlMs) <= 60_000, `${key} PTTL ${pttl} ms (exposureTtlMs ${config.exposureTtlMs})`);
      if (raw === null) continue;
      let record: Record<string, unknown> = {};
      try { record = JSON.parse(raw) as Record<string, unknown>; } catch { recordCheck.expect(false, `${key} is not JSON`); }
      const missing = fields.filter((f) => !(f in record));
      recordCheck.expect(missing.length === 0, `${key} lacks ${missing.join(', ')}`);
      recordCheck.expect(record.expected_outcome === 'arb_profit', `expected_outcome ${String(record.expected_outcome)}`);
      recordCheck.expect(record.actual_outcome === `${String(record.positive_status)}_${String(record.hedge_status)}`, `actual_outcome ${String(record.actual_outcome)}`);
    }
    keyCheck.note(`${exposed.length} settlement exposures, e.g. ${keys.exposure('wl1', 'bookA', exposed[0]?.betPairId ?? '?')}`);
    recordCheck.note(`${fields.length} fields present in each of ${exposed.length} records; expected_outcome arb_profit, actual_outcome {p}_{h}`);
    ttlCheck.note(`PTTL ${Math.min(...ttls)}–${Math.max(...ttls)} ms, configured exposureTtlMs ${config.exposureTtlMs}`);
    report('exposure.key', keyCheck.outcome('read the exposure keys of the 6 exposure rows'));
    report('exposure.record', recordCheck.outcome('parsed each exposure key\'s JSON'));
    report('exposure.ttl', ttlCheck.outcome('compared each exposure key\'s PTTL with the configured exposureTtlMs'));
  },
};

export const hedgeFailureScenario: Scenario = {
  name: 'a hedge that cannot be placed: alert, review flags, no re-bet',
  lane: 'main',
  items: [
    item('exposure.manual-review', 'exposure', 'exposure_alert carries requiresManualReview: true'),
    item('exposure.auto-rebet-disabled', 'exposure', 'exposure_alert carries autoRebetDisabled: true'),
    item('exposure.no-auto-rebet', 'exposure', 'No automatic re-bet after an exposure'),
    item('exposure.cooldown-kept', 'exposure', 'Cooldown not removed on exposure'),
    item('missed.hedge-failure-alerted', 'missed', 'Leg risk: a failed hedge alerted at once'),
  ],
  async run({ world, main, tag }, report) {
    const pair = makePair(tag);
    fault(world.bookB, { fault: 'reject', match: { accountId: pair.hedgeBet.accountId }, count: 1_000, params: { reason: 'audit: hedge refused' } });
    await main.enqueue(pair);
    const alert = await eventFor(world, pair.arbId, ['exposure_alert'], 12_000, true);
    const hedges = simEntries(world.bookB, pair.arbId);
    const lastHedgeMs = Math.max(...hedges.map((e) => e.atMs));
    const requestsAtAlert = simEntries(world.bookA, pair.arbId).length + hedges.length;
    const review = new Checks();
    review.expect(alert?.data.requiresManualReview === true, `exposure_alert requiresManualReview ${String(alert?.data.requiresManualReview)}`);
    review.note(`exposure_alert ${String(alert?.data.exposure_reason)}: requiresManualReview ${String(alert?.data.requiresManualReview)}`);
    report('exposure.manual-review', review.outcome('hedge refused on every attempt at bookB'));
    const rebet = new Checks();
    rebet.expect(alert?.data.autoRebetDisabled === true, `exposure_alert autoRebetDisabled ${String(alert?.data.autoRebetDisabled)}`);
    rebet.note(`autoRebetDisabled ${String(alert?.data.autoRebetDisabled)}`);
    report('exposure.auto-rebet-disabled', rebet.outcome('read the exposure_alert event'));

    const alerted = new Checks();
    alerted.expect(alert?.data.exposure_reason === 'hedge_failed_positive_active', `exposure reason ${String(alert?.data.exposure_reason ?? 'none: no alert')}`);
    const alertLagMs = alert ? entryMs(alert) - lastHedgeMs : Number.NaN;
    alerted.expect(Number.isFinite(alertLagMs) && alertLagMs <= 1_000, `alert ${alertLagMs} ms after the last hedge refusal (limit 1000 ms)`);
    alerted.note(`${hedges.length} hedge attempt(s) refused (hedgeAttemptsMax ${main.config.hedgeAttemptsMax}); exposure_alert ${alertLagMs} ms after the last refusal`);
    report('missed.hedge-failure-alerted', alerted.outcome('refused every hedge attempt at bookB; timed the alert from the last refusal'));

    // No re-bet: nothing more for this arb, and a new arb of the betPairId is blocked while the exposure is open.
    const retry = makePair(tag, {}, { betPairId: pair.betPairId });
    await main.enqueue(retry);
    const retryEnd = await terminal(world, retry);
    await sleep(300);
    const no = new Checks();
    const after = simEntries(world.bookA, pair.arbId).length + simEntries(world.bookB, pair.arbId).length - requestsAtAlert;
    no.expect(after === 0, `${after} request(s) for the exposed arb after its alert`);
    const retrySent = simEntries(world.bookA, retry.arbId).length + simEntries(world.bookB, retry.arbId).length;
    no.expect(retryEnd?.type === 'arb_blocked' && retryEnd.data.reason === 'exposure_open', `a new arb of the betPairId ended ${describe(retryEnd)}`);
    no.expect(retrySent === 0, `${retrySent} request(s) for the new arb of the exposed betPairId`);
    no.note(`after the alert: ${after} further request(s) for the arb; new arb of ${pair.betPairId}: ${describe(retryEnd)}, ${retrySent} requests`);
    report('exposure.no-auto-rebet', no.outcome('watched the bookmakers after the alert and enqueued a new arb of the same betPairId'));

    const kept = new Checks();
    const cooldowns = await Promise.all([keys.cooldown(pair.whitelabel, 'bookA', pair.positiveBet.accountId), keys.cooldown(pair.whitelabel, 'bookB', pair.hedgeBet.accountId)].map(async (k) => [k, await world.admin.pttl(k)] as const));
    for (const [k, pttl] of cooldowns) kept.expect(pttl > 0, `${k} gone after the exposure (PTTL ${pttl})`);
    kept.note(cooldowns.map(([k, pttl]) => `${k} PTTL ${pttl} ms`).join(', '));
    report('exposure.cooldown-kept', kept.outcome('read both accounts\' cooldown keys after the exposure'));
  },
};

export const isolationScenario: Scenario = {
  name: 'isolation per account, whitelabel and provider',
  lane: 'main',
  items: [
    item('concurrency.account-isolation', 'concurrency', 'Account isolation'),
    item('concurrency.whitelabel-provider-isolation', 'concurrency', 'Whitelabel + provider isolation'),
  ],
  async run({ world, main, tag }, report) {
    const base = makePair(tag);
    await main.enqueue(base);
    await eventFor(world, base.arbId, ['arb_executed'], 12_000, true);
    const otherAccount = makePair(tag);
    const otherWhitelabel = makePair(tag, { positive: { accountId: base.positiveBet.accountId } }, { whitelabel: 'wl2' });
    // Same account id at the other bookmaker (legs swapped): another provider's account.
    const otherProvider = makePair(tag, { positive: { provider: 'bookB', accountId: base.positiveBet.accountId }, hedge: { provider: 'bookA' } }, { provider: 'bookB' });
    const sameAccount = makePair(tag, { positive: { accountId: base.positiveBet.accountId } });
    for (const p of [otherAccount, otherWhitelabel, otherProvider, sameAccount]) await main.enqueue(p);
    const [a, w, p, s] = await Promise.all([otherAccount, otherWhitelabel, otherProvider, sameAccount].map((x) => terminal(world, x)));
    const account = new Checks();
    account.expect(a?.type === 'arb_executed', `a pair on another account of wl1/bookA ended ${describe(a)}`);
    account.expect(s?.type === 'arb_blocked', `the control pair on the cooled account ended ${describe(s)}`);
    account.note(`cooled ${base.positiveBet.accountId}: other account ${describe(a)}, same account ${describe(s)}`);
    report('concurrency.account-isolation', account.outcome('cooled one account, then bet on another account of the same whitelabel and bookmaker'));
    const wp = new Checks();
    wp.expect(w?.type === 'arb_executed', `same account id under whitelabel wl2 ended ${describe(w)}`);
    wp.expect(p?.type === 'arb_executed', `same account id at bookB ended ${describe(p)}`);
    const wl2Key = await world.admin.exists(keys.cooldown('wl2', 'bookA', base.positiveBet.accountId));
    const bookBKey = await world.admin.exists(keys.cooldown('wl1', 'bookB', base.positiveBet.accountId));
    wp.expect(wl2Key === 1 && bookBKey === 1, 'separate cooldown keys per whitelabel and provider not found');
    wp.note(`${base.positiveBet.accountId} under wl2: ${describe(w)}; at bookB: ${describe(p)}; keys cooldown:wl2:bookA:… and cooldown:wl1:bookB:… exist`);
    report('concurrency.whitelabel-provider-isolation', wp.outcome('bet the cooled account id under another whitelabel and at another bookmaker'));
  },
};
