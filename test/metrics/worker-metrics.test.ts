// A real worker's /metrics, scraped over HTTP after pairs of every outcome: counts match the streams and the bookmakers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SimLogEntry } from '../../src/sim/bookmaker.js';
import { keys } from '../../src/store/keys.js';
import { createHarness, makePair, type Harness, type StreamRow } from '../support/harness.js';
import { samplesOf, scrape, sumOf, type Scrape } from './scrape.js';

const terminal = ['arb_executed', 'arb_failed', 'arb_blocked', 'exposure_alert', 'arb_rejected'];

/** How the simulator's decision shows in placements_total's result. */
const resultOfDecision: Record<SimLogEntry['decision'], string> = {
  accepted: 'accepted', duplicate: 'accepted', rejected: 'rejected', pending: 'pending',
  error_500: 'in_doubt', timeout_before_commit: 'in_doubt', timeout_after_commit: 'in_doubt', commit_late: 'in_doubt',
};

function countBy<T>(items: readonly T[], keyOf: (item: T) => string | null): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const key = keyOf(item);
    if (key !== null) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Each pair's placement outcome from the events stream: an exposure alert counts when it came before the pair settled. */
function placementOutcomes(events: readonly StreamRow[]): Map<string, number> {
  const settled = new Set<string>();
  return countBy(events, (e) => {
    const arbId = String(e.data.arbId);
    switch (e.type) {
      case 'arb_executed': return 'executed/none';
      case 'arb_failed': return `failed/${String(e.data.reason)}`;
      case 'arb_blocked': return `blocked/${String(e.data.reason)}`;
      case 'arb_rejected': return 'rejected/invalid_input';
      case 'arb_settled': settled.add(arbId); return null;
      case 'exposure_alert': return settled.has(arbId) ? null : `exposure/${String(e.data.exposure_reason)}`;
      default: return null;
    }
  });
}

function metricOutcomes(s: Scrape): Map<string, number> {
  const counts = new Map<string, number>();
  for (const x of samplesOf(s, 'bet_executor_pairs_total')) if (x.value > 0) counts.set(`${x.labels.outcome}/${x.labels.reason}`, x.value);
  return counts;
}

describe('a worker serving /metrics, after pairs of every outcome', () => {
  let h: Harness;
  let url: string;
  let s: Scrape;
  let killKey: string;
  const accepted: Array<{ arbId: string; refs: string[] }> = [];

  before(async () => {
    h = await createHarness({ hedgeAttemptsMax: 2, inDoubtDeadlineMs: 800, providerTimeoutMs: 150, settlementPollIntervalMs: 20, settlementPollCountMax: 10_000 });
    const running = await h.startWorker({ metricsPort: 0 });
    assert.ok(running.metrics.url, 'metricsPort 0 serves on a free port');
    url = running.metrics.url;

    const plain = [makePair(), makePair(), makePair()];
    const positiveRejected = makePair();
    h.bookA.bookmaker.addFault({ fault: 'reject', match: { clientRef: `be1.${positiveRejected.arbId}.p1` } });
    const hedgeFails = makePair();
    h.bookB.bookmaker.addFault({ fault: 'reject', match: { accountId: (hedgeFails.hedgeBet as { accountId: string }).accountId }, count: 5 });
    const positiveLost = makePair();
    h.bookA.bookmaker.addFault({ fault: 'timeout_after_commit', match: { clientRef: `be1.${positiveLost.arbId}.p1` }, params: { hangMs: 1_000 } });
    const hedgeInDoubt = makePair();
    const h1 = `be1.${hedgeInDoubt.arbId}.h1`;
    h.bookB.bookmaker.addFault({ fault: 'timeout_before_commit', match: { clientRef: h1 }, params: { hangMs: 1_000 } });
    h.bookB.bookmaker.addFault({ fault: 'lookup_error', match: { clientRef: h1 }, count: 1_000 });
    const killed = makePair();
    killKey = keys.killAccount('wl1', 'bookA', (killed.positiveBet as { accountId: string }).accountId);
    await h.redis.set(killKey, 'operator');
    const invalid = { ...makePair(), positiveBet: undefined };

    const all = [...plain, positiveRejected, hedgeFails, positiveLost, hedgeInDoubt, killed, invalid];
    for (const pair of all) await h.enqueue(pair);
    for (const pair of all) await h.waitForEvent(pair.arbId, terminal);

    // Settle every accepted bet so each poll chain ends, then wait for the reconciliations: the counts stand still.
    for (const pair of [...plain, positiveLost, hedgeFails, hedgeInDoubt]) {
      const refs = [`be1.${pair.arbId}.p1`, `be1.${pair.arbId}.h1`, `be1.${pair.arbId}.h2`]
        .filter((ref) => [...h.bookA.bookmaker.log(), ...h.bookB.bookmaker.log()].some((e) => e.clientRef === ref && resultOfDecision[e.decision] !== 'rejected' && e.decision !== 'timeout_before_commit'));
      accepted.push({ arbId: pair.arbId, refs });
      for (const ref of refs) {
        const book = ref.includes('.p1') ? h.bookA : h.bookB;
        assert.equal(book.bookmaker.settle(ref, ref.includes('.p1') ? 'won' : 'lost').kind, 'settled');
      }
    }
    for (const pair of accepted) await h.waitForEvent(pair.arbId, ['arb_settled']);
    s = await scrape(url);
  });
  after(async () => h.close());

  it('answers 200 in the Prometheus text format', () => {
    assert.equal(s.status, 200);
    assert.match(s.contentType, /^text\/plain; version=0\.0\.4/);
  });

  it('counts each pair once by its placement outcome, as the events stream tells it', async () => {
    const events = await h.events();
    assert.deepEqual(metricOutcomes(s), placementOutcomes(events));
    const outcomes = metricOutcomes(s);
    assert.equal(outcomes.get('executed/none'), 4);
    assert.equal(outcomes.get('failed/positive_bet_rejected'), 1);
    assert.equal(outcomes.get('blocked/kill_switch'), 1);
    assert.equal(outcomes.get('rejected/invalid_input'), 1);
    assert.equal(outcomes.get('exposure/hedge_failed_positive_active'), 1);
    assert.equal(outcomes.get('exposure/hedge_in_doubt'), 1);
  });

  it('counts placements by provider, leg and result as the bookmakers received them', () => {
    const fromSims = countBy([
      ...h.bookA.bookmaker.log().map((e) => ({ provider: 'bookA', e })),
      ...h.bookB.bookmaker.log().map((e) => ({ provider: 'bookB', e })),
    ], ({ provider, e }) => `${provider}/${/\.p\d+$/.test(e.clientRef) ? 'positive' : 'hedge'}/${resultOfDecision[e.decision]}`);
    const fromMetrics = new Map<string, number>();
    for (const x of samplesOf(s, 'bet_executor_placements_total')) if (x.value > 0) fromMetrics.set(`${x.labels.provider}/${x.labels.leg}/${x.labels.result}`, x.value);
    assert.deepEqual(fromMetrics, fromSims);
    assert.equal(fromMetrics.get('bookA/positive/in_doubt'), 1, 'the positive whose answer was lost');
    assert.equal(sumOf(s, 'bet_executor_bookmaker_requests_total', { operation: 'place' }), sumOf(s, 'bet_executor_placements_total'));
  });

  it('times every bookmaker request, and counts lookups and status checks as the audit stream records them', async () => {
    const audit = await h.audit();
    for (const provider of ['bookA', 'bookB']) {
      assert.equal(sumOf(s, 'bet_executor_bookmaker_requests_total', { provider, operation: 'lookup' }), audit.filter((e) => e.type === 'bookmaker_lookup' && e.data.provider === provider).length);
    }
    assert.ok(sumOf(s, 'bet_executor_bookmaker_requests_total', { operation: 'lookup', result: 'unavailable' }) >= 2, 'the in-doubt hedge was looked up until the deadline');
    assert.equal(sumOf(s, 'bet_executor_bookmaker_requests_total', { operation: 'status' }), audit.filter((e) => e.type === 'bookmaker_status').length);
    for (const provider of ['bookA', 'bookB']) {
      for (const operation of ['place', 'lookup', 'status']) {
        assert.equal(sumOf(s, 'bet_executor_bookmaker_request_duration_seconds_count', { provider, operation }), sumOf(s, 'bet_executor_bookmaker_requests_total', { provider, operation }), `${provider} ${operation}`);
      }
    }
    assert.ok(sumOf(s, 'bet_executor_bookmaker_request_duration_seconds_sum', { operation: 'place' }) > 0);
  });

  it('measures one leg window per hedge sent after its positive was answered here', () => {
    const firstHedges = h.bookB.bookmaker.log().filter((e) => e.clientRef.endsWith('.h1')).length;
    assert.equal(firstHedges, 6);
    assert.equal(sumOf(s, 'bet_executor_leg_window_seconds_count'), firstHedges);
    assert.ok(sumOf(s, 'bet_executor_leg_window_seconds_sum') > 0);
  });

  it('counts in-doubt placements and exposure alerts by phase and reason', async () => {
    assert.equal(sumOf(s, 'bet_executor_placements_in_doubt_total', { provider: 'bookB', leg: 'hedge' }), 1);
    assert.equal(sumOf(s, 'bet_executor_placements_in_doubt_total', { leg: 'positive' }), 0);
    const alerts = (await h.events()).filter((e) => e.type === 'exposure_alert');
    const byReason = countBy(alerts, (e) => String(e.data.exposure_reason));
    for (const [reason, count] of byReason) assert.equal(sumOf(s, 'bet_executor_exposure_alerts_total', { reason }), count, reason);
    assert.equal(sumOf(s, 'bet_executor_exposure_alerts_total'), alerts.length);
    assert.equal(sumOf(s, 'bet_executor_exposure_alerts_total', { phase: 'placement' }), 2);
  });

  it('counts settled pairs and times each settlement poll', async () => {
    const events = await h.events();
    const settled = events.filter((e) => e.type === 'arb_settled');
    assert.equal(settled.length, accepted.length);
    assert.equal(sumOf(s, 'bet_executor_pairs_settled_total', { result: 'as_expected' }), settled.filter((e) => e.data.exposureReason === null).length);
    assert.equal(sumOf(s, 'bet_executor_pairs_settled_total', { result: 'exposure' }), settled.filter((e) => e.data.exposureReason !== null).length);
    const polls = (await h.audit()).filter((e) => e.type === 'bookmaker_status' && e.data.poll !== undefined).length;
    assert.ok(polls > 0);
    assert.equal(sumOf(s, 'bet_executor_settlement_poll_lateness_seconds_count'), polls);
  });

  it('reads open exposures, the oldest one\'s age, kill switches and queue depths at scrape time', async () => {
    const open = await h.redis.hlen(keys.reviewOpen);
    assert.ok(open >= 2);
    assert.equal(sumOf(s, 'bet_executor_exposures_open'), open);
    assert.equal(sumOf(s, 'bet_executor_exposures_open_by_reason'), open);
    assert.ok(sumOf(s, 'bet_executor_exposures_open_by_reason', { reason: 'hedge_in_doubt' }) >= 1);
    const age = sumOf(s, 'bet_executor_exposure_oldest_open_age_seconds');
    assert.ok(age > 0 && age < 120, `oldest open exposure age ${age} s`);
    assert.deepEqual(Object.fromEntries(samplesOf(s, 'bet_executor_kill_switches_engaged').map((x) => [x.labels.scope, x.value])), { global: 0, provider: 0, account: 1 });
    const counts = await h.queue.getJobCounts('completed', 'waiting', 'active');
    assert.equal(sumOf(s, 'bet_executor_queue_jobs', { queue: 'bet-pairs', state: 'completed' }), counts.completed);
    assert.equal(sumOf(s, 'bet_executor_queue_jobs', { queue: 'bet-pairs', state: 'waiting' }), 0);
    assert.ok(samplesOf(s, 'bet_executor_queue_jobs').some((x) => x.labels.queue === 'bet-settlement'));
    assert.equal(sumOf(s, 'bet_executor_queue_oldest_waiting_age_seconds', { queue: 'bet-pairs' }), 0);
    assert.equal(sumOf(s, 'bet_executor_scrape_errors_total'), 0);
  });

  it('serves the Node process metrics', () => {
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      assert.ok(s.types.has(name), `${name} is served`);
    }
  });

  it('follows Prometheus naming: _total counters, base units, no identifier in any label', () => {
    const ids = [...h.bookA.bookmaker.log(), ...h.bookB.bookmaker.log()].flatMap((e) => [e.clientRef, e.accountId, e.eventId, e.ticketId ?? '']).filter(Boolean);
    const ourLabels = new Set(['outcome', 'reason', 'provider', 'leg', 'result', 'phase', 'operation', 'queue', 'state', 'scope', 'source', 'kind', 'to', 'le']);
    for (const [name, type] of s.types) {
      assert.match(name, /^[a-z][a-z0-9_]*$/, name);
      assert.ok(/^(bet_executor|process|nodejs)_/.test(name), `${name}: our prefix, or Node's process metrics`);
      // prom-client's own nodejs_active_{handles,requests,resources}_total are gauges: ours are held to the rule.
      if (type === 'counter' || name.startsWith('bet_executor_')) assert.equal(type === 'counter', name.endsWith('_total'), `${name} (${type}): counters and only counters end in _total`);
      assert.doesNotMatch(name, /(_ms|millis|_minutes|_hours|_kb|_mb)(_|$)/, `${name}: base units only`);
      if (type === 'histogram' && name.startsWith('bet_executor_')) assert.ok(name.endsWith('_seconds'), `${name}: our histograms are durations in seconds`);
      if (/(^|_)(age|duration|lateness|window|lag)(_|$)/.test(name)) assert.match(name, /_seconds(_total)?$/, `${name}: times are in seconds`);
    }
    const valuesByLabel = new Map<string, Set<string>>();
    for (const x of s.samples.filter((y) => y.name.startsWith('bet_executor_'))) {
      for (const [label, value] of Object.entries(x.labels)) {
        assert.ok(ourLabels.has(label), `${x.name}: label ${label} is one of the bounded ones`);
        assert.ok(!ids.some((id) => value.includes(id)) && !/arb-|bp-|acc[ph]-/.test(value), `${x.name}{${label}="${value}"} carries an identifier`);
        valuesByLabel.set(label, (valuesByLabel.get(label) ?? new Set()).add(value));
      }
    }
    assert.deepEqual([...(valuesByLabel.get('provider') ?? [])].sort(), ['bookA', 'bookB']);
    assert.deepEqual([...(valuesByLabel.get('leg') ?? [])].sort(), ['hedge', 'positive']);
    for (const [label, values] of valuesByLabel) if (label !== 'le') assert.ok(values.size <= 32, `${label} has ${values.size} values`);
  });

  describe('when Redis answers a scrape-time read with an error', () => {
    it('leaves that source out of the scrape, counts the error, and serves everything else', async () => {
      await h.redis.rename(keys.reviewOpen, 'test:review-open-saved');
      await h.redis.set(keys.reviewOpen, 'not a hash');
      try {
        const broken = await scrape(url);
        assert.equal(broken.status, 200);
        assert.equal(samplesOf(broken, 'bet_executor_exposures_open').length, 0, 'no sample rather than a wrong one');
        assert.equal(samplesOf(broken, 'bet_executor_exposure_oldest_open_age_seconds').length, 0);
        assert.ok(broken.types.has('bet_executor_exposures_open'), 'the family is still described');
        assert.equal(sumOf(broken, 'bet_executor_scrape_errors_total', { source: 'exposures' }), 1);
        assert.equal(sumOf(broken, 'bet_executor_kill_switches_engaged', { scope: 'account' }), 1);
        assert.equal(sumOf(broken, 'bet_executor_pairs_total', { outcome: 'executed' }), 4);
      } finally {
        await h.redis.del(keys.reviewOpen);
        await h.redis.rename('test:review-open-saved', keys.reviewOpen);
      }
      const healed = await scrape(url);
      assert.equal(sumOf(healed, 'bet_executor_exposures_open'), await h.redis.hlen(keys.reviewOpen));
      assert.equal(sumOf(healed, 'bet_executor_scrape_errors_total', { source: 'exposures' }), 1);
    });
  });

  it('clears the kill switch gauge once the switch is cleared', async () => {
    await h.redis.del(killKey);
    const cleared = await scrape(url);
    assert.equal(sumOf(cleared, 'bet_executor_kill_switches_engaged'), 0);
  });
});
