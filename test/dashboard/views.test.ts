// The dashboard's pure pieces: escaping, money and duration text, filters, money at risk, chart series and outcome counts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { duration, html, jsonScript, money, odds } from '../../src/dashboard/html.js';
import { atRiskMinor } from '../../src/dashboard/pages/exposures.js';
import { parseNowFilters, type PairView } from '../../src/dashboard/pages/now.js';
import { outcomesByReason, pairSeries } from '../../src/dashboard/pages/results.js';

function leg(status: string, stakeMinor: number) {
  return { provider: 'bookA', accountId: 'a1', selection: 'home', status, clientRef: null, ticketId: null, stakeMinor, oddsMilli: 2_000, acceptedStakeMinor: status === 'accepted' ? stakeMinor : null, acceptedOddsMilli: null };
}

function pair(over: Partial<PairView> = {}): PairView {
  return {
    arbId: 'arb-1', betPairId: 'bp-1', whitelabel: 'wl1', currency: 'EUR', state: 'hedged', rev: 3, eventId: 'e', market: 'm',
    journaledAtMs: 1_000_000, updatedAtMs: 1_000_010, createdAtMs: null, positive: leg('accepted', 10_000), hedge: leg('accepted', 10_244),
    hedgeAttempts: 1, legWindowMs: 4, outcomeReason: 'executed', settlement: null, ...over,
  };
}

describe('dashboard markup', () => {
  it('escapes every interpolated string, keeps nested html, and cannot be closed from inside a JSON script', () => {
    const name = '<img src=x onerror=alert(1)>"\'&';
    assert.equal(html`<p title="${name}">${name}</p>`.text, '<p title="&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;">&lt;img src=x onerror=alert(1)&gt;&quot;&#39;&amp;</p>');
    assert.equal(html`<ul>${['a', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.text, '<ul><li>a</li><li>b</li></ul>');
    assert.doesNotMatch(jsonScript('s', { x: '</script><script>alert(1)</script>' }).text, /<\/script><script>/);
  });

  it('writes money from integer minor units, odds from thousandths, durations for people', () => {
    assert.deepEqual([money(123_456, 'EUR'), money(-5), money(0), money(null)], ['1,234.56 EUR', '−0.05', '0.00', '—']);
    assert.deepEqual([odds(2_100), odds(1_005)], ['2.100', '1.005']);
    assert.deepEqual([duration(850), duration(12_300), duration(240_000), duration(3 * 3_600_000 + 300_000), duration(null)], ['850 ms', '12 s', '4 min', '3 h 5 min', '—']);
  });

  it('drops unknown states and malformed identifiers from the Now filters', () => {
    assert.deepEqual(parseNowFilters({ state: 'hedged', provider: 'bookA', accountId: 'a b', whitelabel: ['x'] }), { state: 'hedged', provider: 'bookA', accountId: '', whitelabel: '' });
    assert.equal(parseNowFilters({ state: 'dancing' }).state, '');
    assert.equal(parseNowFilters({ state: 'in_flight' }).state, 'in_flight');
  });
});

describe('money at risk of an exposure', () => {
  const cases: Array<[string, PairView, number | null]> = [
    ['a positive alone: its whole stake', pair({ hedge: leg('rejected', 10_244) }), 10_000],
    ['a hedge alone: its stake', pair({ positive: leg('not_placed', 10_000) }), 10_244],
    ['both taken and settled at a loss: the loss', pair({ settlement: { pnlMinor: -2_500, exposureReason: 'both_lost_unexpected', actualOutcome: 'x', settledAtMs: 1 } }), 2_500],
    ['both taken, result unknown: both stakes', pair(), 20_244],
  ];
  for (const [name, p, want] of cases) it(name, () => assert.equal(atRiskMinor(p), want));
  it('is unknown without a journal', () => assert.equal(atRiskMinor(null), null));
});

describe('results series', () => {
  it('counts pairs per bucket with the leg window median and maximum, leaving pairs outside the window out', () => {
    const nowMs = 1_000_000 + 29_999;
    const pairs = [
      pair({ journaledAtMs: 1_000_000, legWindowMs: 2 }),
      pair({ journaledAtMs: 1_000_500, legWindowMs: 8 }),
      pair({ journaledAtMs: 1_000_900, legWindowMs: 4 }),
      pair({ journaledAtMs: 1_020_000, outcomeReason: 'kill_switch', legWindowMs: null }),
      pair({ journaledAtMs: 1_025_000, outcomeReason: null, state: 'positive_placing', legWindowMs: null }),
      pair({ journaledAtMs: 900_000 }),
    ];
    const s = pairSeries(pairs, nowMs, 10_000, 3);
    assert.deepEqual(s.t, [1_000, 1_010, 1_020]);
    assert.deepEqual(s.taken, [3, 0, 2]);
    assert.deepEqual(s.executed, [3, 0, 0]);
    assert.deepEqual(s.notExecuted, [0, 0, 1]);
    assert.deepEqual(s.legWindowP50Ms, [4, null, null]);
    assert.deepEqual(s.legWindowMaxMs, [8, null, null]);
    assert.deepEqual(outcomesByReason(pairs), [{ reason: 'executed', pairs: 4 }, { reason: '(positive_placing)', pairs: 1 }, { reason: 'kill_switch', pairs: 1 }]);
  });
});
