// What the original audit missed, and its recommendations, each made to happen live.
import type { ChildProcess } from 'node:child_process';
import { alertKeyOf } from '../alerter/alert.js';
import { crashPoints } from '../executor/run.js';
import { OpsStore } from '../store/ops.js';
import { startSimServer, type SimServer } from '../sim/server.js';
import { alertDeliveriesStream, keys } from '../store/keys.js';
import { dashboardOutcome } from './dashboard.js';
import { Checks, skip, type ItemDef, type ItemOutcome, type Scenario } from './types.js';
import { describe, entryMs, eventFor, eventsOf, fault, makePair, quantile, simEntries, simLookups, sleep, terminalTypes, tookBet, until, type AuditPair } from './probe.js';
import { auditConfig, exitOf, startWorld, type StreamRow, type World, type WorkerGroup } from './world.js';

const item = (id: string, group: ItemDef['group'], title: string): ItemDef => ({ id, group, title });
const testHooks = { BET_EXECUTOR_TEST_HOOKS: '1' };
/**
 * Limits of the leg window as the simulators' ms clocks see it on a shared 2-core machine, round trips included
 * (the bench's target for the executor's own part is 3 ms p99): generous on purpose, to catch a hedge that waits
 * on something (a poll, a sleep, a retry) rather than to measure.
 */
export const legWindowP50MsMax = 50;
export const legWindowMsMax = 500;
const legWindowPairs = 30;


async function terminal(world: World, pair: AuditPair, timeoutMs = 12_000) {
  return eventFor(world, pair.arbId, terminalTypes, timeoutMs, true);
}

function requests(world: World, arbId: string): number {
  return simEntries(world.bookA, arbId).length + simEntries(world.bookB, arbId).length;
}

export const inDoubtScenario: Scenario = {
  name: 'in-doubt placements',
  lane: 'main',
  items: [item('missed.in-doubt-lookup', 'missed', 'In-doubt placement resolved by lookup, never blindly re-sent')],
  async run({ world, main, tag }, report) {
    const committed = makePair(tag);
    const lost = makePair(tag);
    fault(world.bookA, { fault: 'timeout_after_commit', match: { accountId: committed.positiveBet.accountId } });
    fault(world.bookA, { fault: 'timeout_before_commit', match: { accountId: lost.positiveBet.accountId } });
    await main.enqueue(committed);
    await main.enqueue(lost);
    const [c, l] = await Promise.all([terminal(world, committed), terminal(world, lost)]);
    const checks = new Checks();
    const cPlaces = simEntries(world.bookA, committed.arbId);
    const cLookups = simLookups(world.bookA, committed.arbId);
    checks.expect(c?.type === 'arb_executed', `answer lost after commit: pair ended ${describe(c)}`);
    checks.expect(cPlaces.length === 1, `answer lost after commit: ${cPlaces.length} placement requests (${cPlaces.map((e) => e.clientRef).join(', ')}); the bet existed, only a lookup was needed`);
    checks.expect(cLookups.some((e) => e.answer === 'found' && e.atMs >= (cPlaces[0]?.atMs ?? 0)), 'answer lost after commit: no lookup by client reference found the bet');
    const lPlaces = simEntries(world.bookA, lost.arbId);
    const lLookups = simLookups(world.bookA, lost.arbId);
    const second = lPlaces[1];
    checks.expect(l?.type === 'arb_executed', `answer lost before commit: pair ended ${describe(l)}`);
    checks.expect(new Set(lPlaces.map((e) => e.clientRef)).size === 1, `answer lost before commit: re-sent under new references ${lPlaces.map((e) => e.clientRef).join(', ')}`);
    checks.expect(second !== undefined && lLookups.some((e) => e.answer === 'not_found' && e.atMs > (lPlaces[0]?.atMs ?? 0) && e.atMs <= second.atMs), 'answer lost before commit: re-sent without a lookup saying never received');
    const taken = [...cPlaces, ...lPlaces].filter(tookBet).length;
    checks.expect(taken === 2, `${taken} live positive bets for 2 pairs`);
    checks.note(`lost answer, bet committed: ${cPlaces.length} request, ${cLookups.length} lookup(s) (${cLookups.map((e) => e.answer).join(', ')}); lost before commit: ${lPlaces.length} requests under ${[...new Set(lPlaces.map((e) => e.clientRef))].join(', ')}, lookups ${lLookups.map((e) => e.answer).join(', ')} (from bookA's own logs)`);
    report('missed.in-doubt-lookup', checks.outcome('bookA timed out one positive after committing it and one before; its request and lookup logs read back'));
  },
};

export const malformedScenario: Scenario = {
  name: 'malformed input',
  lane: 'main',
  items: [item('missed.malformed-input', 'missed', 'Malformed input refused, nothing placed')],
  async run({ world, main, tag }, report) {
    const bad: Array<[string, AuditPair | Record<string, unknown>]> = [
      ['odds 1.0', makePair(tag, { positive: { odds: '1.000' } })],
      ['key-forging account id', makePair(tag, { positive: { accountId: 'acc:*{x}' } })],
      ['no hedge', { ...makePair(tag), hedgeBet: undefined }],
      ['same selection on both legs', makePair(tag, { hedge: { selection: 'home' } })],
      ['stake 0', makePair(tag, { hedge: { stakeMinor: 0 } })],
      ['float stake', makePair(tag, { positive: { stakeMinor: 100.5 } })],
      ['oversized job data', { ...makePair(tag), pad: 'x'.repeat(main.config.jobDataBytesMax + 1) }],
    ];
    const eventIds = new Set(bad.map(([, p]) => String((p as AuditPair).positiveBet?.eventId)));
    const before = (await world.events()).filter((e) => e.type === 'arb_rejected').length;
    for (const [, pair] of bad) await main.enqueue(pair);
    const refused = await until(world, 'every malformed pair refused', async () => (await world.events()).filter((e) => e.type === 'arb_rejected').length - before >= bad.length, 10_000);
    await sleep(200);
    const placed = [...world.bookA.bookmaker.log(), ...world.bookB.bookmaker.log()].filter((e) => eventIds.has(e.eventId)).length;
    const count = (await world.events()).filter((e) => e.type === 'arb_rejected').length - before;
    const checks = new Checks();
    checks.expect(refused, `${count} arb_rejected for ${bad.length} malformed pairs`);
    checks.expect(placed === 0, `${placed} request(s) reached the bookmakers for malformed pairs`);
    checks.note(`${bad.length} malformed pairs (${bad.map(([what]) => what).join(', ')}): ${count} arb_rejected, ${placed} bookmaker requests`);
    report('missed.malformed-input', checks.outcome('enqueued 7 malformed pairs'));
  },
};

export const killSwitchScenario: Scenario = {
  name: 'kill switch (account scope)',
  lane: 'main',
  items: [item('missed.kill-switch-account', 'missed', 'Kill switch honoured (account scope)')],
  async run({ world, main, tag }, report) {
    const pair = makePair(tag);
    const ops = new OpsStore(world.admin, main.config.eventsStreamLenMax);
    await ops.changeKillSwitch('set', { kind: 'account', whitelabel: pair.whitelabel, provider: 'bookA', accountId: pair.positiveBet.accountId }, 'audit: account kill switch', { by: 'audit', via: 'cli' }, Date.now());
    await main.enqueue(pair);
    const end = await terminal(world, pair);
    const checks = new Checks();
    checks.expect(end?.type === 'arb_blocked' && end.data.reason === 'kill_switch', `pair on a killed account ended ${describe(end)}`);
    checks.expect(requests(world, pair.arbId) === 0, `${requests(world, pair.arbId)} request(s) for a pair on a killed account`);
    checks.note(`${keys.killAccount(pair.whitelabel, 'bookA', pair.positiveBet.accountId)} set (as \`kill set --account\` does): ${describe(end)}, ${requests(world, pair.arbId)} requests`);
    report('missed.kill-switch-account', checks.outcome('set the account kill switch, then enqueued a pair on it'));
  },
};

/** Fail-closed and the global kill switch need a Redis of their own: both stop every pair on it. */
export const failClosedScenario: Scenario = {
  name: 'fail closed and the global kill switch (a second private world)',
  lane: 'aux',
  items: [
    item('missed.fail-closed', 'missed', 'Fail closed when Redis refuses writes; resumed from the journal'),
    item('missed.kill-switch-global', 'missed', 'Kill switch honoured (global)'),
  ],
  async run({ world: mainWorld, tag }, report) {
    const world = await startWorld({ baseRaw: mainWorld.baseRaw, executor: mainWorld.executor, withAlerter: false });
    try {
      const group = await world.group('failclosed', {}, { queueName: 'bet-pairs' });
      const first = await group.spawn();
      await group.waitForWorkers(1);
      const pair = makePair(tag);
      fault(world.bookA, { fault: 'pending_then_accept', match: { accountId: pair.positiveBet.accountId }, params: { pendingPolls: 10 } });
      await group.enqueue(pair);
      const reached = await until(world, 'positive pending at bookA', () => simEntries(world.bookA, pair.arbId).length > 0);
      await world.admin.config('SET', 'min-replicas-to-write', '1');
      const refusedAtMs = Date.now();
      await sleep(1_200);
      const duringA = simEntries(world.bookA, pair.arbId).length;
      const duringB = simEntries(world.bookB, pair.arbId).length;
      await world.admin.config('SET', 'min-replicas-to-write', '0');
      const restoredAtMs = Date.now();
      const died = (await exitOf(first, 0)) !== 'still running';
      if (died) await group.spawn();
      const end = await eventFor(world, pair.arbId, ['arb_executed', 'exposure_alert', 'arb_failed'], 20_000);
      const checks = new Checks();
      checks.expect(reached, 'the positive never reached bookA');
      const hedgeDuring = simEntries(world.bookB, pair.arbId).filter((e) => e.atMs >= refusedAtMs && e.atMs < restoredAtMs).length;
      checks.expect(hedgeDuring === 0, `${hedgeDuring} hedge request(s) left while Redis refused writes (the acceptance could not be journaled)`);
      checks.expect(end?.type === 'arb_executed', `after Redis came back the pair ended ${describe(end)}`);
      const taken = simEntries(world.bookA, pair.arbId).filter(tookBet).length;
      const hedges = simEntries(world.bookB, pair.arbId).filter(tookBet).length;
      checks.expect(taken === 1 && hedges === 1, `live bets: positive ${taken}, hedge ${hedges}`);
      checks.note(`Redis refused writes for 1.2 s while the positive was pending: ${duringA} positive / ${duringB} hedge request(s) during it; worker ${died ? 'exited (restarted)' : 'stayed up'}; after: ${describe(end)}, ${taken} positive and ${hedges} hedge bet(s)`);
      report('missed.fail-closed', checks.outcome('CONFIG SET min-replicas-to-write 1 (every write refused) while a positive was pending, then restored'));

      const ops = new OpsStore(world.admin, group.config.eventsStreamLenMax);
      const actor = { by: 'audit', via: 'cli' as const };
      await ops.changeKillSwitch('set', { kind: 'global' }, 'audit: global kill switch', actor, Date.now());
      const killed = makePair(tag);
      await group.enqueue(killed);
      const killedEnd = await terminal(world, killed);
      await ops.changeKillSwitch('clear', { kind: 'global' }, 'audit: done', actor, Date.now());
      const freed = makePair(tag);
      await group.enqueue(freed);
      const freedEnd = await terminal(world, freed);
      const kill = new Checks();
      kill.expect(killedEnd?.type === 'arb_blocked' && killedEnd.data.reason === 'kill_switch', `pair under the global switch ended ${describe(killedEnd)}`);
      kill.expect(requests(world, killed.arbId) === 0, `${requests(world, killed.arbId)} request(s) under the global switch`);
      kill.expect(freedEnd?.type === 'arb_executed', `after clearing, a pair ended ${describe(freedEnd)}`);
      kill.note(`global switch set: ${describe(killedEnd)}, ${requests(world, killed.arbId)} requests; cleared: ${describe(freedEnd)}`);
      report('missed.kill-switch-global', kill.outcome('set the global kill switch, enqueued a pair, cleared it, enqueued another'));
    } finally {
      await world.close();
    }
  },
};

function crashItemId(point: string): string {
  return `missed.crash-${point.replaceAll('_', '-')}`;
}

export const crashScenario: Scenario = {
  name: 'a worker killed at each step of the saga',
  lane: 'crash',
  items: crashPoints.map((point) => item(crashItemId(point), 'missed', `Worker SIGKILLed at ${point}, pair resumed by another process`)),
  async run({ world, tag, selected }, report) {
    if (world.executor !== 'ours') {
      for (const point of crashPoints) report(crashItemId(point), skip('needs the executor\'s crash hook (BET_EXECUTOR_CRASH_AT)', 'this executor has no crash hook: not checked'));
      return;
    }
    const runPoint = async (point: (typeof crashPoints)[number]) => {
      const group = await world.group(`crash-${point.replaceAll('_', '-')}`);
      const doomed = await group.spawn({ ...testHooks, BET_EXECUTOR_CRASH_AT: point });
      // Up before its pair is enqueued: on a loaded machine a process can take many seconds to start.
      await group.waitForWorkers(1);
      const pair = makePair(tag);
      await group.enqueue(pair);
      const died = await exitOf(doomed, 20_000);
      const rescuer = await group.spawn();
      const end = await eventFor(world, pair.arbId, ['arb_executed', 'exposure_alert', 'arb_failed'], 20_000);
      const scheduled = await until(world, 'settlement scheduled', async () => (await world.admin.zscore(keys.openPairs, pair.arbId)) === null, 10_000);
      // Any worker on this Redis may resume the pair (the recovery sweep of another group's workers too): its poll
      // chains are on the settlement queue of whichever group resumed it (KEYS: the audit's own small Redis).
      const chainQueues = await Promise.all(['p1', 'h1'].map(async (leg) => {
        const found = await world.admin.keys(`bull:*:settle-${pair.arbId}-${leg}`);
        return found[0]?.split(':')[1] ?? 'none';
      }));
      const polls = chainQueues.filter((q) => q !== 'none').length;
      rescuer.kill('SIGTERM');
      const positives = simEntries(world.bookA, pair.arbId);
      const hedges = simEntries(world.bookB, pair.arbId);
      const checks = new Checks();
      checks.expect(died === 'SIGKILL', `the doomed worker ended ${died}, not SIGKILL at ${point}`);
      checks.expect(end?.type === 'arb_executed', `resumed pair ended ${describe(end)}`);
      checks.expect(positives.filter(tookBet).length === 1 && hedges.filter(tookBet).length === 1, `live bets: positive ${positives.filter(tookBet).length}, hedge ${hedges.filter(tookBet).length}`);
      checks.expect(new Set([...positives, ...hedges].map((e) => e.clientRef)).size === 2, `references used: ${[...new Set([...positives, ...hedges].map((e) => e.clientRef))].join(', ')}`);
      const accepted = world.bookA.bookmaker.peek(`be1.${pair.arbId}.p1`)?.acceptedAtMs ?? Infinity;
      checks.expect((hedges[0]?.atMs ?? 0) >= accepted, 'hedge before the positive\'s acceptance');
      checks.expect(scheduled && polls === 2, `settlement polling: ${polls}/2 poll chains`);
      const resumed = eventsOf(await world.events(), pair.arbId, 'arb_resumed').length;
      checks.note(`died ${died}; another process resumed (${resumed} arb_resumed): ${describe(end)}, ${positives.length}+${hedges.length} requests, one bet per leg, ${polls} poll chains on ${[...new Set(chainQueues)].join(', ')}`);
      report(crashItemId(point), checks.outcome(`BET_EXECUTOR_CRASH_AT=${point} (test hook) in one worker process, a fresh one started after its death`));
    };
    // Two at a time: each point is two node processes starting on a 2-core machine.
    const queue = crashPoints.filter((point) => selected(crashItemId(point)));
    await Promise.all([0, 1].map(async () => {
      for (let point = queue.shift(); point !== undefined; point = queue.shift()) await runPoint(point);
    }));
  },
};

export const frozenScenario: Scenario = {
  name: 'a frozen worker fenced out',
  lane: 'crash',
  items: [item('missed.frozen-fenced', 'missed', 'A frozen worker (SIGSTOP past its lease) is fenced out when it wakes')],
  async run({ world, tag }, report) {
    const group = await world.group('frozen');
    const first = await group.spawn();
    await group.waitForWorkers(1);
    const pair = makePair(tag);
    fault(world.bookA, { fault: 'pending_then_accept', match: { accountId: pair.positiveBet.accountId }, params: { pendingPolls: 8 } });
    await group.enqueue(pair);
    const reached = await until(world, 'positive pending at bookA', () => simEntries(world.bookA, pair.arbId).length > 0);
    first.kill('SIGSTOP');
    const second = await group.spawn();
    const end = await eventFor(world, pair.arbId, ['arb_executed', 'exposure_alert', 'arb_failed'], 20_000);
    const beforeThaw = requests(world, pair.arbId);
    const thawMs = Date.now();
    first.kill('SIGCONT');
    await sleep(1_500);
    const afterThaw = [...simEntries(world.bookA, pair.arbId), ...simEntries(world.bookB, pair.arbId)].filter((e) => e.atMs >= thawMs).length;
    const executed = eventsOf(await world.events(), pair.arbId, 'arb_executed').length;
    for (const child of [first, second] as ChildProcess[]) child.kill('SIGTERM');
    const checks = new Checks();
    checks.expect(reached, 'the positive never reached bookA');
    checks.expect(end?.type === 'arb_executed', `the pair ended ${describe(end)} while the first worker was frozen`);
    checks.expect(afterThaw === 0, `${afterThaw} bookmaker request(s) from the thawed worker`);
    checks.expect(executed === 1, `arb_executed written ${executed} times`);
    const taken = [...simEntries(world.bookA, pair.arbId), ...simEntries(world.bookB, pair.arbId)].filter(tookBet).length;
    checks.expect(taken === 2, `${taken} live bets for one pair`);
    checks.note(`worker frozen while its positive was pending; the other worker finished the pair (${beforeThaw} requests); thawed: ${afterThaw} requests, arb_executed ×${executed}`);
    report('missed.frozen-fenced', checks.outcome('SIGSTOP on the worker holding a pending pair, a second worker resumed it, SIGCONT after'));
  },
};

export const rateLimitScenario: Scenario = {
  name: 'rate limit per account',
  lane: 'crash',
  items: [
    item('missed.rate-limit', 'missed', 'Rate limit per account honoured'),
    item('recommendation.rate-limit', 'recommendations', 'Recommendation: rate limiting exists and is configured'),
  ],
  async run({ world, main, tag }, report) {
    const configured = main.config.rateLimit;
    const group = await world.group('ratelimit', { cooldownMs: 50, rateLimit: { placementsMax: 2, windowMs: 60_000 } });
    const worker = await group.spawn();
    await group.waitForWorkers(1);
    const account = `rl-${tag}`;
    const ends = [];
    const holdMs = 50 + 2 * group.config.providerTimeoutMs + group.config.lateCommitGraceMs + 100;
    for (let i = 0; i < 3; i++) {
      const pair = makePair(tag, { positive: { accountId: account } });
      await group.enqueue(pair);
      ends.push([pair, await terminal(world, pair)] as const);
      await sleep(holdMs);
    }
    worker.kill('SIGTERM');
    const checks = new Checks();
    const [a, b, c] = ends;
    checks.expect(a?.[1]?.type === 'arb_executed' && b?.[1]?.type === 'arb_executed', `first two pairs: ${a?.[1]?.type ?? 'none'}, ${b?.[1]?.type ?? 'none'}`);
    checks.expect(c?.[1]?.type === 'arb_blocked' && c[1].data.reason === 'rate_limit', `third pair in the window ended ${describe(c?.[1])}`);
    checks.expect(c === undefined || requests(world, c[0].arbId) === 0, 'requests for the rate-limited pair');
    checks.note(`limit 2 per 60 s on ${account} (cooldown 50 ms): ${ends.map(([, e]) => `${describe(e)}${e?.data.reason ? ` ${String(e.data.reason)}` : ''}`).join(', ')}`);
    report('missed.rate-limit', checks.outcome('a worker with rateLimit 2 per minute and a 50 ms cooldown, 3 pairs on one account a claim apart'));
    const rec = new Checks();
    rec.expect(checks.failures.length === 0, 'the live rate-limit check failed (missed.rate-limit)');
    rec.expect(configured.placementsMax <= 1_000, `your rateLimit.placementsMax ${configured.placementsMax} per ${configured.windowMs} ms is no limit`);
    rec.note(`your config: ${configured.placementsMax} placements per ${configured.windowMs} ms per account; enforced live (missed.rate-limit)`);
    report('recommendation.rate-limit', rec.outcome('read your configured limit and the live check'));
  },
};

/** The circuit scenario's breaker: short, so the audit sees open → half-open → closed in seconds. */
const auditCircuit = { windowMs: 5_000, failureRatio: 0.5, minVolume: 3, accountFailuresMin: 3, coolOffMs: 200, coolOffMsMax: 400, reportIntervalMs: 20, probeIntervalMs: 50 };
/** The sick bookmaker's provider name: its own circuit, so the other lanes' pairs (bookA/bookB) are not blocked. */
const sickProvider = 'bookSick';
/**
 * The scenario's positive bookmaker, a simulator of its own too: circuit outcomes are counted per provider in Redis,
 * shared by every worker, and each report is judged by its worker's thresholds. Positives at bookA would have this
 * group's short breaker (3 outcomes) judge bookA's window, where the other lanes' deliberate bookA failures (500s,
 * timeouts) are: it opened bookA's circuit and blocked those lanes' pairs (and this scenario's) on a loaded machine.
 */
const calmProvider = 'bookCalm';

async function simControl(book: SimServer, path: string, body: unknown): Promise<void> {
  const response = await fetch(`${book.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (response.status !== 200) throw new Error(`${path}: HTTP ${response.status}`);
}

/**
 * A bookmaker turns sick (every request answered 500, through the simulator's control endpoint): its circuit must
 * open from the outcomes of the configured window, a new pair needing it must be blocked with nothing sent to either
 * bookmaker, and once it is well a probe that places nothing must close it so that pairs execute again.
 */
export const circuitScenario: Scenario = {
  name: 'circuit breaker on a sick bookmaker',
  lane: 'aux',
  items: [
    item('missed.circuit-breaker', 'missed', 'Circuit breakers'),
    item('recommendation.circuit-breaker', 'recommendations', 'Recommendation: circuit breaker'),
  ],
  async run({ world, tag }, report) {
    const sick = await startSimServer({ seed: 3, name: sickProvider, settleAfterMs: null });
    const calm = await startSimServer({ seed: 4, name: calmProvider, settleAfterMs: null });
    const pairOf = () => makePair(tag, { positive: { provider: calmProvider }, hedge: { provider: sickProvider } }, { provider: calmProvider });
    const checks = new Checks();
    const did = `a worker group whose hedge bookmaker ${sickProvider} answers every request 500, then recovers (positives at ${calmProvider}; both simulators its own); circuitBreaker ${JSON.stringify(auditCircuit)}`;
    let worker: ChildProcess | null = null;
    try {
      const group = await world.group('circuit', { providers: { [calmProvider]: { url: calm.url }, [sickProvider]: { url: sick.url } }, circuitBreaker: auditCircuit });
      worker = await group.spawn();
      await group.waitForWorkers(1);
      const scope = `provider:${sickProvider}`;
      const circuitEvent = async (type: string) => (await world.events()).find((e) => e.type === type && e.data.scope === scope);
      await simControl(sick, '/_sim/sick', { mode: 'error_500' });
      const sickAtMs = Date.now();
      const doomed = Array.from({ length: 4 }, pairOf);
      for (const pair of doomed) await group.enqueue(pair);
      let opened: StreamRow | undefined;
      try {
        opened = await world.waitFor('the sick bookmaker\'s circuit opened', () => circuitEvent('circuit_opened'), 15_000);
      } catch {
        opened = undefined;
      }
      const window = (opened?.data.window ?? {}) as Record<string, unknown>;
      checks.expect(opened !== undefined, `no circuit_opened for ${scope} within 15 s of ${doomed.length} pairs whose hedges got 500s`);
      checks.expect(opened === undefined || window.windowMs === auditCircuit.windowMs, `opened over a window of ${String(window.windowMs)} ms, configured ${auditCircuit.windowMs}`);
      await Promise.all(doomed.map((pair) => terminal(world, pair, 20_000)));

      const blocked = pairOf();
      const sickPlacesBefore = sick.bookmaker.log().length;
      await group.enqueue(blocked);
      // Generous waits here: the group's one worker may still be looking up the doomed pairs' hedges (in doubt at
      // a bookmaker that answers 500) on a loaded machine; a pass never waits for them.
      const end = await terminal(world, blocked, 30_000);
      const sent = simEntries(calm, blocked.arbId).length + simEntries(sick, blocked.arbId).length;
      checks.expect(end?.type === 'arb_blocked' && end.data.reason === 'circuit_open' && end.data.provider === sickProvider, `a new pair needing ${sickProvider} ended ${describe(end)}${end?.data.reason ? ` ${String(end.data.reason)}` : ''}, not arb_blocked circuit_open naming it`);
      checks.expect(sent === 0, `${sent} bookmaker request(s) for the blocked pair (the simulators' logs)`);

      await simControl(sick, '/_sim/sick', { mode: 'off' });
      let closed: StreamRow | undefined;
      try {
        closed = await world.waitFor('the circuit closed by a probe', () => circuitEvent('circuit_closed'), 30_000);
      } catch {
        closed = undefined;
      }
      const placedByProbe = sick.bookmaker.log().length - sickPlacesBefore;
      const probeLookups = sick.bookmaker.lookupLog().filter((l) => l.clientRef.startsWith('be1-probe.')).length;
      checks.expect(closed?.data.reason === 'probe_succeeded', `after recovery: ${closed ? `closed by ${String(closed.data.reason)}` : 'no circuit_closed within 30 s'}`);
      checks.expect(placedByProbe === 0, `${placedByProbe} placement(s) at ${sickProvider} between the block and the close: a probe placed a bet`);
      checks.expect(probeLookups > 0, 'no probe lookup in the simulator\'s lookup log');
      const after = pairOf();
      await group.enqueue(after);
      const afterEnd = await terminal(world, after, 30_000);
      checks.expect(afterEnd?.type === 'arb_executed', `a pair after the close ended ${describe(afterEnd)}`);
      checks.note(`sick at ${sickProvider}: opened ${opened ? `${entryMs(opened) - sickAtMs} ms after, ${String(window.failures)} of ${String(window.volume)} ${String(window.class)} failed` : 'never'}; new pair ${describe(end)} with ${sent} requests; recovered: ${closed ? `closed by ${String(closed.data.reason)} (${String(closed.data.probe)})` : 'never closed'}, ${probeLookups} probe lookup(s), ${placedByProbe} placement(s); next pair ${describe(afterEnd)}`);
    } finally {
      worker?.kill('SIGTERM');
      if (worker) await exitOf(worker, 5_000).catch(() => undefined);
      await sick.close();
      await calm.close();
    }
    report('missed.circuit-breaker', checks.outcome(did));
    const rec = new Checks();
    rec.expect(checks.failures.length === 0, 'the live circuit-breaker check failed (missed.circuit-breaker)');
    // The operator's own breaker settings (the audit's groups run with theirs switched off, see quietCircuits).
    const yours = auditConfig(world.baseRaw, { bookA: world.bookA.url, bookB: world.bookB.url }, {}).circuitBreaker;
    rec.expect(yours.enabled, 'your config turns circuit breakers off (circuitBreaker.enabled false): a sick bookmaker is found out by every pair alone');
    rec.note(`your config: circuitBreaker enabled ${String(yours.enabled)}, opens at ${yours.failureRatio} failures of at least ${yours.minVolume} in ${yours.windowMs} ms, cool-off ${yours.coolOffMs} ms; checked live (missed.circuit-breaker)`);
    report('recommendation.circuit-breaker', rec.outcome('read your circuitBreaker settings and the live check'));
  },
};

export const lateScenario: Scenario = {
  name: 'whole-run checks: leg window, audit trail, alerts, metrics, workers, restart',
  lane: 'late',
  items: [
    item('missed.leg-window', 'missed', 'Leg risk: leg window measured (positive taken → hedge at the bookmaker)'),
    item('concurrency.several-workers', 'concurrency', 'No double execution across several worker processes (whole run)'),
    item('missed.alert-delivery', 'missed', 'Every exposure alert delivered by the alerter to a receiver'),
    item('recommendation.metrics', 'recommendations', 'Recommendation: metrics endpoint'),
    item('recommendation.alerting', 'recommendations', 'Recommendation: alerting'),
    item('recommendation.audit-trail', 'recommendations', 'Recommendation: audit trail of every bookmaker request'),
    item('recommendation.dashboard', 'recommendations', 'Recommendation: dashboard'),
    item('cooldown.survives-restart', 'cooldown', 'Cooldown survives a restart of every worker'),
  ],
  async run({ world, main, tag }, report) {
    const logA = world.bookA.bookmaker.log();
    const logB = world.bookB.bookmaker.log();
    // Leg window, measured in a quiet moment (the other scenarios are done): pairs enqueued one every 30 ms, each
    // positive answered accepted at once; its request at bookA (accepted on arrival) → its first hedge request at bookB.
    const probes = Array.from({ length: legWindowPairs }, () => makePair(tag));
    for (const pair of probes) {
      await main.enqueue(pair);
      await sleep(30);
    }
    await Promise.all(probes.map((pair) => terminal(world, pair)));
    const windows: number[] = [];
    for (const pair of probes) {
      const positive = simEntries(world.bookA, pair.arbId)[0];
      const hedge = simEntries(world.bookB, pair.arbId)[0];
      if (positive?.decision === 'accepted' && hedge) windows.push(hedge.atMs - positive.atMs);
    }
    windows.sort((a, b) => a - b);
    const leg = new Checks();
    const p50 = quantile(windows, 0.5);
    const p99 = quantile(windows, 0.99);
    leg.expect(windows.length === probes.length, `${windows.length}/${probes.length} pairs hedged`);
    leg.expect((windows[0] ?? 0) >= 0, `a hedge reached the bookmaker ${-(windows[0] ?? 0)} ms before its positive was accepted`);
    leg.expect(p50 <= legWindowP50MsMax && p99 <= legWindowMsMax, `leg window p50 ${p50} ms (limit ${legWindowP50MsMax}), p99 ${p99} ms (limit ${legWindowMsMax})`);
    leg.note(`${windows.length} pairs: p50 ${p50} ms, p99 ${p99} ms, max ${windows[windows.length - 1]} ms (simulators' clocks in ms, including the positive's answer on its way back and this machine's load; \`npm run bench\` measures the executor's part in µs)`);
    report('missed.leg-window', leg.outcome(`${legWindowPairs} pairs enqueued 30 ms apart once the other scenarios were done; positive's acceptance at bookA → hedge request at bookB, from both simulators' logs`));

    const several = new Checks();
    const workersSeen = (await main.queue.getWorkers()).length;
    const perRef = new Map<string, number>();
    for (const e of [...logA, ...logB].filter(tookBet)) perRef.set(e.clientRef, (perRef.get(e.clientRef) ?? 0) + 1);
    const twice = [...perRef].filter(([, n]) => n > 1);
    // A positive is sent under `.p1` only (resends reuse it): another positive reference is a blind re-send.
    const positivesNotP1 = [...logA, ...logB].filter((e) => tookBet(e) && /\.p\d+$/.test(e.clientRef) && !e.clientRef.endsWith('.p1')).length;
    several.expect(workersSeen >= 2, `${workersSeen} worker(s) on the queue`);
    several.expect(twice.length === 0, `${twice.length} client reference(s) taken twice, e.g. ${twice[0]?.[0] ?? ''}`);
    several.expect(positivesNotP1 === 0, `${positivesNotP1} positive bet(s) taken under a second reference (a blind re-send)`);
    several.note(`${workersSeen} worker processes on ${main.config.queueName}; ${perRef.size} live bets at the bookmakers, each under its own reference, one positive per arb`);
    report('concurrency.several-workers', several.outcome('both simulators\' logs over the whole run, 2 worker processes on the contract queue'));

    // Alerts: every exposure_alert of the run at the local receiver.
    const events = await world.events();
    const alerts = events.filter((e) => e.type === 'exposure_alert');
    const wanted = alerts.map((e) => alertKeyOf('exposure_alert', e.id));
    const missing = world.alerter ? await world.alerter.waitForDelivered(wanted, 10_000) : wanted;
    const delivery = new Checks();
    delivery.expect(alerts.length > 0, 'no exposure_alert in the whole run');
    delivery.expect(missing.length === 0, `${missing.length}/${wanted.length} exposure alerts not delivered`);
    const lags = alerts.map((e) => (world.alerter?.receiver.requests.find((r) => r.alertKey === alertKeyOf('exposure_alert', e.id))?.atMs ?? Number.NaN) - entryMs(e)).filter(Number.isFinite).sort((a, b) => a - b);
    delivery.note(`${wanted.length - missing.length}/${wanted.length} exposure alerts at the receiver (signed, verified), event → delivery p50 ${quantile(lags, 0.5)} ms, max ${lags[lags.length - 1] ?? '?'} ms`);
    report('missed.alert-delivery', delivery.outcome('the alerter on the run\'s Redis with a webhook sink to a local receiver'));
    const deliveries = await world.admin.xrange(alertDeliveriesStream, '-', '+');
    const alerting = new Checks();
    alerting.expect(delivery.failures.length === 0, 'alert delivery failed (missed.alert-delivery)');
    alerting.expect(deliveries.length > 0, `${alertDeliveriesStream} empty`);
    alerting.note(`${deliveries.length} delivery attempts recorded in ${alertDeliveriesStream}`);
    report('recommendation.alerting', alerting.outcome('read the alerter\'s delivery record'));

    report('recommendation.metrics', await metricsOutcome(main, events));

    // Audit trail: every request the bookmakers received was journaled first.
    const audit = await world.audit();
    const journaled = new Set(audit.filter((e) => e.type === 'bookmaker_request').map((e) => String(e.data.clientRef)));
    const unjournaled = [...new Set([...logA, ...logB].map((e) => e.clientRef))].filter((ref) => !journaled.has(ref));
    const trail = new Checks();
    trail.expect(unjournaled.length === 0, `${unjournaled.length} client reference(s) at the bookmakers with no bookmaker_request in the audit stream, e.g. ${unjournaled[0] ?? ''}`);
    trail.note(`${logA.length + logB.length} placement requests at the simulators, each under a reference journaled as a bookmaker_request before it (${journaled.size} references, ${audit.length} entries in bet-executor:audit)`);
    report('recommendation.audit-trail', trail.outcome('matched the simulators\' request logs against the audit stream'));

    report('recommendation.dashboard', await dashboardOutcome(world, main));
    report('cooldown.survives-restart', await restartOutcome(world, main, tag));
  },
};

async function metricsOutcome(main: WorkerGroup, events: Array<{ type: string }>): Promise<ItemOutcome> {
  const checks = new Checks();
  const live = [...main.metricsUrls].filter(([child]) => child.exitCode === null && child.signalCode === null);
  if (live.length === 0) return { status: 'FAIL', did: 'looked for a worker metrics endpoint', evidence: 'this executor serves no /metrics' };
  let executed = 0;
  for (const [, url] of live) {
    let text = '';
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
      checks.expect(res.status === 200, `${url} answered ${res.status}`);
      text = await res.text();
    } catch (error) {
      checks.expect(false, `${url}: ${(error as Error).message}`);
    }
    for (const name of ['bet_executor_pairs_total', 'bet_executor_leg_window_seconds_count', 'bet_executor_exposure_alerts_total']) checks.expect(text.includes(name), `${url} lacks ${name}`);
    for (const m of text.matchAll(/^bet_executor_pairs_total\{[^}]*outcome="executed"[^}]*\} (\d+)/gm)) executed += Number(m[1]);
  }
  const total = events.filter((e) => e.type === 'arb_executed').length;
  checks.expect(executed > 0 && executed <= total, `executed pairs counted ${executed}, arb_executed events ${total}`);
  checks.note(`${live.length} worker /metrics scraped: pairs executed ${executed} (events: ${total} in the whole run, other groups included)`);
  return checks.outcome('scraped every live worker of the contract queue over HTTP');
}

async function restartOutcome(world: World, main: WorkerGroup, tag: string): Promise<ItemOutcome> {
  const cooled = makePair(tag);
  await main.enqueue(cooled);
  const first = await terminal(world, cooled);
  const old = main.procs.filter((c) => c.exitCode === null && c.signalCode === null);
  await Promise.all([main.spawn(), main.spawn()]);
  await main.waitForWorkers(old.length + 2).catch(() => undefined);
  for (const child of old) child.kill('SIGTERM');
  const stopped = await Promise.all(old.map((child) => exitOf(child, 10_000)));
  const again = makePair(tag, { positive: { accountId: cooled.positiveBet.accountId } });
  await main.enqueue(again);
  const end = await terminal(world, again);
  const checks = new Checks();
  checks.expect(first?.type === 'arb_executed', `the first pair ended ${describe(first)}`);
  checks.expect(end?.type === 'arb_blocked' && end.data.reason === 'cooldown', `after every worker restarted, a pair on the cooled account ended ${describe(end)}`);
  checks.expect(requests(world, again.arbId) === 0, `${requests(world, again.arbId)} request(s) for it`);
  checks.note(`${old.length} old worker(s) stopped (${stopped.join(', ')}), 2 new ones: pair on ${cooled.positiveBet.accountId} ${describe(end)}, remainingSeconds ${String(end?.data.remainingSeconds ?? '-')}`);
  return checks.outcome('bet on an account, replaced every worker process (SIGTERM), bet on it again');
}
