// The chaos invariants on small synthetic snapshots: a clean run passes, and each planted violation is counted by exactly its invariant.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkInvariants, compareStreamIds, formatTable, legOf, reReconciliationEvent, sumResults } from '../../src/rig/invariants.js';
import type { ChaosSnapshot, StreamRow } from '../../src/rig/snapshot.js';
import type { SimLogEntry } from '../../src/sim/bookmaker.js';

type Entry = Pick<SimLogEntry, 'clientRef' | 'accountId' | 'atMs' | 'decision'> & Partial<SimLogEntry>;

function entry(seq: number, e: Entry): SimLogEntry {
  return { seq, eventId: 'ev-1', market: 'match_winner', selection: 'home', stakeMinor: 10_000, oddsMilli: 2_100, ...e };
}

function row(type: string, data: Record<string, unknown>, id = '0-0'): StreamRow {
  return { id, type, data };
}

/** A bookmaker_request audit row; its stream id says when the send was journaled (Redis ms). */
function request(clientRef: string, id = '0-0'): StreamRow {
  return row('bookmaker_request', { clientRef }, id);
}

/**
 * a1: positive accepted (won); hedge h1 committed but its answer lost, found by lookup (lost); settled won_lost.
 * a2: positive rejected on the same account 1 s later. a3: positive in doubt, flagged for review.
 * One invalid pair, rejected. A kill switch was set from 3 s to 4.5 s, when nothing was sent.
 */
function clean(): ChaosSnapshot {
  return {
    cooldownMs: 300,
    cooldownToleranceMs: 5,
    hedgeOrAlertDeadlineMs: 5_000,
    arbAgeMsMax: 8_000,
    arbAgeToleranceMs: 200,
    killWindows: [{ setAtMs: 3_000, clearedAtMs: 4_500 }],
    books: [
      {
        name: 'bookA',
        log: [
          entry(1, { clientRef: 'be1.a1.p1', accountId: 'pa0', atMs: 1_000, decision: 'accepted', ticketId: 'bookA-1', acceptedStakeMinor: 10_000, acceptedOddsMilli: 2_100 }),
          entry(2, { clientRef: 'be1.a2.p1', accountId: 'pa0', atMs: 2_000, decision: 'rejected', ticketId: 'bookA-2', reason: 'rejected_by_bookmaker' }),
        ],
        bets: [
          { clientRef: 'be1.a1.p1', ticketId: 'bookA-1', accountId: 'pa0', status: 'won', stakeMinor: 10_000, oddsMilli: 2_100, settledAtMs: 11_000 },
          { clientRef: 'be1.a2.p1', ticketId: 'bookA-2', accountId: 'pa0', status: 'rejected', stakeMinor: 10_000, oddsMilli: 2_100 },
        ],
      },
      {
        name: 'bookB',
        log: [
          entry(1, { clientRef: 'be1.a1.h1', accountId: 'ha0', atMs: 1_010, decision: 'timeout_after_commit', ticketId: 'bookB-1', stakeMinor: 10_244, oddsMilli: 2_050, acceptedStakeMinor: 10_244, acceptedOddsMilli: 2_050, selection: 'away' }),
        ],
        bets: [{ clientRef: 'be1.a1.h1', ticketId: 'bookB-1', accountId: 'ha0', status: 'lost', stakeMinor: 10_244, oddsMilli: 2_050, settledAtMs: 11_010 }],
      },
    ],
    plans: [
      { arbId: 'a1', betPairId: 'bp-1', whitelabel: 'wl1', positiveProvider: 'bookA', hedgeProvider: 'bookB', positiveAccount: 'pa0', hedgeAccount: 'ha0', positiveStakeMinor: 10_000, invalid: false, deliveries: 2, enqueuedAtMs: 990 },
      { arbId: 'a2', betPairId: 'bp-2', whitelabel: 'wl1', positiveProvider: 'bookA', hedgeProvider: 'bookB', positiveAccount: 'pa0', hedgeAccount: 'ha1', positiveStakeMinor: 10_000, invalid: false, deliveries: 1, enqueuedAtMs: 1_995 },
      { arbId: 'a3', betPairId: 'bp-3', whitelabel: 'wl1', positiveProvider: 'bookA', hedgeProvider: 'bookB', positiveAccount: 'pa1', hedgeAccount: 'ha2', positiveStakeMinor: 10_000, invalid: false, deliveries: 1, enqueuedAtMs: 2_500 },
      { arbId: 'a4', betPairId: 'bp-4', whitelabel: 'wl1', positiveProvider: 'bookA', hedgeProvider: 'bookB', positiveAccount: 'pa2', hedgeAccount: 'ha3', positiveStakeMinor: 10_000, invalid: true, invalidReason: 'bad_id', deliveries: 1, enqueuedAtMs: 2_600 },
    ],
    journalStates: { a1: 'settled', a2: 'positive_failed', a3: 'positive_in_doubt' },
    journalDocs: {
      a1: {
        state: 'settled',
        positive: { role: 'positive', attempt: 1, clientRef: 'be1.a1.p1', provider: 'bookA', status: 'accepted', ticketId: 'bookA-1' },
        hedges: [{ role: 'hedge', attempt: 1, clientRef: 'be1.a1.h1', provider: 'bookB', status: 'accepted', ticketId: 'bookB-1' }],
      },
      a2: { state: 'positive_failed', positive: { role: 'positive', attempt: 1, clientRef: 'be1.a2.p1', provider: 'bookA', status: 'rejected' }, hedges: [] },
      a3: { state: 'positive_in_doubt', positive: { role: 'positive', attempt: 1, clientRef: 'be1.a3.p1', provider: 'bookA', status: 'in_doubt' }, hedges: [] },
    },
    exposureKeys: { 'exposure:wl1:bookA:bp-3': { bet_pair_id: 'bp-3', arb_id: 'a3', exposure_reason: 'positive_in_doubt' } },
    reviewOpen: { a3: { bet_pair_id: 'bp-3', arb_id: 'a3', exposure_reason: 'positive_in_doubt' } },
    reviewResolved: {},
    events: [
      row('bet_accepted', { arbId: 'a1', role: 'positive', clientRef: 'be1.a1.p1', ticketId: 'bookA-1' }),
      row('bet_accepted', { arbId: 'a1', role: 'hedge', clientRef: 'be1.a1.h1', ticketId: 'bookB-1' }),
      row('arb_executed', { arbId: 'a1' }),
      row('arb_duplicate', { arbId: 'a1', reason: 'already_processed' }),
      row('arb_failed', { arbId: 'a2', reason: 'positive_bet_rejected', hedgeBetStatus: 'cancelled' }),
      row('exposure_alert', { arbId: 'a3', betPairId: 'bp-3', exposure_reason: 'positive_in_doubt', requiresManualReview: true }),
      row('exposure_updated', { arbId: 'a1', exposure_reason: 'settlement_lost', record: { arb_id: 'a1', exposure_reason: 'settlement_lost' } }, '8-5'),
      row('arb_settled', { arbId: 'a1', placement: 'hedged', positiveStatus: 'won', hedgeStatus: 'lost', actualOutcome: 'won_lost', exposureReason: null }, '9-0'),
      row('arb_rejected', { arbId: null, jobId: '7', errors: ['arbId ("bad:a4") must match …'] }),
    ],
    audit: [request('be1.a1.p1'), request('be1.a1.h1'), request('be1.a2.p1')],
    queueCounts: {
      'bet-pairs': { waiting: 0, active: 0, delayed: 0, prioritized: 0, failed: 0, completed: 5 },
      'bet-executor-settlement': { waiting: 0, active: 0, delayed: 0, prioritized: 0, failed: 0, completed: 40 },
    },
    executor: 'ours',
    settlementExpected: true,
    // a1's positive poll chain died and was announced (new information on its entry).
    lostChains: ['a1'],
  };
}

function book(s: ChaosSnapshot, name: string) {
  const found = s.books.find((b) => b.name === name);
  assert.ok(found, `book ${name}`);
  return found;
}

/** Adds a request to a book's log where its time puts it (the log is in arrival order). */
function receive(s: ChaosSnapshot, name: string, e: Entry): void {
  const b = book(s, name);
  b.log = [...b.log, entry(0, e)].sort((x, y) => x.atMs - y.atMs).map((x, i) => ({ ...x, seq: i + 1 }));
}

/** Violations per invariant id, e.g. { 1: 0, 2: 1, ... }. */
function violations(s: ChaosSnapshot): Record<number, number> {
  return Object.fromEntries(checkInvariants(s).map((r) => [r.id, r.violations]));
}

const invariantCount = 15;

function only(id: number, count = 1): Record<number, number> {
  const out: Record<number, number> = {};
  for (let i = 1; i <= invariantCount; i++) out[i] = i === id ? count : 0;
  return out;
}

/** A second arb on bp-3 (a scanner re-detecting it): its hedge failed and it was alerted. */
function sharedPairArb(s: ChaosSnapshot): void {
  s.plans.push({ arbId: 'a5', betPairId: 'bp-3', whitelabel: 'wl1', positiveProvider: 'bookA', hedgeProvider: 'bookB', positiveAccount: 'pa3', hedgeAccount: 'ha4', positiveStakeMinor: 10_000, invalid: false, deliveries: 1, enqueuedAtMs: 2_510 });
  s.journalStates.a5 = 'hedge_failed';
  s.journalDocs.a5 = { state: 'hedge_failed', positive: { role: 'positive', attempt: 1, clientRef: 'be1.a5.p1', provider: 'bookA', status: 'rejected' }, hedges: [] };
  s.events.push(row('exposure_alert', { arbId: 'a5', betPairId: 'bp-3', exposure_reason: 'hedge_failed_positive_active', requiresManualReview: true }));
}

/** a1's hedge re-settled void at its bookmaker after the pair was reconciled won_lost. */
function hedgeResettledVoid(s: ChaosSnapshot): void {
  const hedge = book(s, 'bookB').bets[0];
  assert.ok(hedge);
  hedge.status = 'void';
  hedge.settledAtMs = 20_000;
}

/** a4 (valid ids, but both legs on `home`): the scenario marks it invalid. */
function nonArb(s: ChaosSnapshot): void {
  const plan = s.plans.find((p) => p.arbId === 'a4');
  assert.ok(plan);
  plan.invalidReason = 'same_side';
  s.events = s.events.filter((e) => e.type !== 'arb_rejected');
}

/** `also`: other invariants the same plant breaks by its nature (a bet nobody recorded is also #9's). */
const cases: Array<{ name: string; id: number; also?: number[]; plant(s: ChaosSnapshot): void }> = [
  {
    name: 'a pair whose settlement poll chain was killed raised no settlement_lost',
    id: 15,
    plant(s) {
      s.events = s.events.filter((e) => e.type !== 'exposure_updated');
    },
  },
  {
    name: 'a bookmaker that does not dedupe took one client ref twice',
    id: 1,
    also: [9],
    plant(s) {
      receive(s, 'bookA', { clientRef: 'be1.a1.p1', accountId: 'pa0', atMs: 1_100, decision: 'accepted', ticketId: 'bookA-3', acceptedStakeMinor: 10_000 });
      book(s, 'bookA').bets.push({ clientRef: 'be1.a1.p1', ticketId: 'bookA-3', accountId: 'pa0', status: 'won', stakeMinor: 10_000, oddsMilli: 2_100 });
      s.audit.push(request('be1.a1.p1'));
    },
  },
  {
    name: 'a fully accepted positive was placed again under a new ref (blind retry)',
    id: 1,
    also: [9],
    plant(s) {
      receive(s, 'bookA', { clientRef: 'be1.a1.p2', accountId: 'pa0', atMs: 1_100, decision: 'accepted', ticketId: 'bookA-3', acceptedStakeMinor: 10_000 });
      book(s, 'bookA').bets.push({ clientRef: 'be1.a1.p2', ticketId: 'bookA-3', accountId: 'pa0', status: 'won', stakeMinor: 10_000, oddsMilli: 2_100 });
      s.audit.push(request('be1.a1.p2'));
    },
  },
  {
    name: 'a hedge request reached its bookmaker before the positive was accepted',
    id: 2,
    plant(s) {
      const hedge = book(s, 'bookB').log[0];
      assert.ok(hedge);
      hedge.atMs = 990;
    },
  },
  {
    name: 'an accepted positive has no hedge and no exposure',
    id: 3,
    plant(s) {
      book(s, 'bookB').log = [];
      book(s, 'bookB').bets = [];
      s.audit = s.audit.filter((r) => r.data.clientRef !== 'be1.a1.h1');
      s.events = s.events.filter((e) => e.data.clientRef !== 'be1.a1.h1' && e.type !== 'arb_settled');
      if (s.journalDocs.a1) s.journalDocs.a1.hedges = [];
    },
  },
  {
    name: 'two arbs placed on one account 10 ms apart',
    id: 4,
    plant(s) {
      const second = book(s, 'bookA').log[1];
      assert.ok(second);
      second.atMs = 1_010;
    },
  },
  {
    name: 'a bet the bookmaker held pending was taken 100 ms before another arb\'s request on the account (requests 1 s apart)',
    id: 4,
    plant(s) {
      const positive = book(s, 'bookA').bets[0];
      assert.ok(positive);
      positive.acceptedAtMs = 1_900;
    },
  },
  {
    name: 'a late commit landed 50 ms after another arb\'s request on the account',
    id: 4,
    plant(s) {
      receive(s, 'bookA', { clientRef: 'be1.a3.p1', accountId: 'pa0', atMs: 1_400, decision: 'commit_late', ticketId: 'bookA-3' });
      book(s, 'bookA').bets.push({ clientRef: 'be1.a3.p1', ticketId: 'bookA-3', accountId: 'pa0', status: 'accepted', stakeMinor: 10_000, oddsMilli: 2_100, acceptedAtMs: 2_050 });
      s.audit.push(request('be1.a3.p1'));
    },
  },
  {
    name: 'a placement is missing from the audit stream',
    id: 5,
    plant(s) {
      s.audit = s.audit.filter((r) => r.data.clientRef !== 'be1.a2.p1');
    },
  },
  {
    name: 'a pair journal is stuck in hedge_placing',
    id: 6,
    plant(s) {
      s.journalStates.a1 = 'hedge_placing';
    },
  },
  {
    name: 'a positive_in_doubt pair has no review entry (nor alert)',
    id: 7,
    plant(s) {
      s.reviewOpen = {};
      s.events = s.events.filter((e) => e.type !== 'exposure_alert');
    },
  },
  {
    name: 'a bet whose answer was lost was never learned of nor flagged',
    id: 7,
    plant(s) {
      s.events = s.events.filter((e) => e.data.clientRef !== 'be1.a1.h1');
    },
  },
  {
    name: 'a pair is reconciled with the wrong classification',
    id: 8,
    plant(s) {
      const settled = s.events.find((e) => e.type === 'arb_settled');
      assert.ok(settled);
      settled.data = { ...settled.data, actualOutcome: 'won_won' };
    },
  },
  {
    name: 'a pair is reconciled twice',
    id: 8,
    plant(s) {
      s.events.push(row('arb_settled', { arbId: 'a1', placement: 'hedged', actualOutcome: 'won_lost', exposureReason: null }, '10-0'));
    },
  },
  {
    name: 'a pair settled at both bookmakers is never reconciled',
    id: 8,
    plant(s) {
      s.events = s.events.filter((e) => e.type !== 'arb_settled');
    },
  },
  {
    name: 'a fast-path hedge is live but the journal forgot it (hedges: [])',
    id: 9,
    plant(s) {
      const doc = s.journalDocs.a1;
      assert.ok(doc);
      doc.hedges = [];
    },
  },
  {
    name: 'the journal records a hedge accepted under a ticket the bookmaker does not hold',
    id: 9,
    plant(s) {
      s.journalDocs.a1?.hedges.push({ role: 'hedge', attempt: 2, clientRef: 'be1.a1.h2', provider: 'bookB', status: 'accepted', ticketId: 'bookB-7' });
    },
  },
  {
    name: 'a hedge request reached its bookmaker after its positive was settled (void) there',
    id: 10,
    plant(s) {
      const positive = book(s, 'bookA').bets[0];
      assert.ok(positive);
      positive.settledAtMs = 1_005;
    },
  },
  {
    name: 'two arbs of one betPairId were alerted but share one review entry',
    id: 11,
    plant: sharedPairArb,
  },
  {
    name: 'a positive resend journaled while the kill switch was set reached a bookmaker',
    id: 12,
    plant(s) {
      receive(s, 'bookA', { clientRef: 'be1.a2.p1', accountId: 'pa0', atMs: 3_500, decision: 'duplicate', ticketId: 'bookA-2' });
      s.audit.push(request('be1.a2.p1', '3490-0'));
    },
  },
  {
    name: 'a pair stamped in the future was sent long after it was enqueued',
    id: 13,
    plant(s) {
      const plan = s.plans.find((p) => p.arbId === 'a1');
      assert.ok(plan);
      plan.enqueuedAtMs = -9_000;
      plan.createdAtMs = 120_000;
    },
  },
  {
    name: 'a pair that is no arb was rejected, yet a request of it reached a bookmaker',
    id: 14,
    plant(s) {
      nonArb(s);
      s.events.push(row('arb_rejected', { arbId: 'a4', jobId: '7', errors: ['hedgeBet.selection ("home") is the positive leg\'s'] }));
      receive(s, 'bookA', { clientRef: 'be1.a4.p1', accountId: 'pa2', atMs: 6_000, decision: 'rejected', ticketId: 'bookA-3' });
      book(s, 'bookA').bets.push({ clientRef: 'be1.a4.p1', ticketId: 'bookA-3', accountId: 'pa2', status: 'rejected', stakeMinor: 10_000, oddsMilli: 2_100 });
      s.audit.push(request('be1.a4.p1'));
    },
  },
  {
    name: 'a leg was re-settled at its bookmaker and the pair never re-reconciled',
    id: 8,
    plant: hedgeResettledVoid,
  },
];

describe('chaos invariants', () => {
  it('count no violation on a clean run, and check something for every invariant', () => {
    const results = checkInvariants(clean());
    assert.deepEqual(violations(clean()), only(0));
    assert.equal(results.length, invariantCount);
    for (const r of results) assert.ok(r.checked > 0, `invariant ${r.id} checked nothing`);
  });

  for (const c of cases) {
    it(`count exactly one violation of #${c.id}${c.also ? ` (and of #${c.also.join(', #')})` : ''} when ${c.name}`, () => {
      const s = clean();
      c.plant(s);
      const want = only(c.id);
      for (const id of c.also ?? []) want[id] = 1;
      assert.deepEqual(violations(s), want);
      const result = checkInvariants(s).find((r) => r.id === c.id);
      assert.equal(result?.examples.length, 1);
    });
  }

  it('accept a partial hedge topped up by a second attempt', () => {
    const s = clean();
    const b = book(s, 'bookB');
    b.log = [
      entry(1, { clientRef: 'be1.a1.h1', accountId: 'ha0', atMs: 1_010, decision: 'accepted', ticketId: 'bookB-1', stakeMinor: 10_244, acceptedStakeMinor: 5_122 }),
      entry(2, { clientRef: 'be1.a1.h2', accountId: 'ha0', atMs: 1_050, decision: 'accepted', ticketId: 'bookB-2', stakeMinor: 5_122, acceptedStakeMinor: 5_122 }),
    ];
    b.bets = [
      { clientRef: 'be1.a1.h1', ticketId: 'bookB-1', accountId: 'ha0', status: 'lost', stakeMinor: 5_122, oddsMilli: 2_050 },
      { clientRef: 'be1.a1.h2', ticketId: 'bookB-2', accountId: 'ha0', status: 'lost', stakeMinor: 5_122, oddsMilli: 2_050 },
    ];
    s.audit.push(request('be1.a1.h2'));
    s.journalDocs.a1?.hedges.push({ role: 'hedge', attempt: 2, clientRef: 'be1.a1.h2', provider: 'bookB', status: 'accepted', ticketId: 'bookB-2' });
    assert.deepEqual(violations(s), only(0));
  });

  it('accept the placement exposure a hedge-failed pair keeps at settlement', () => {
    const s = clean();
    s.events = s.events.filter((e) => e.type !== 'arb_settled');
    s.events.push(
      row('exposure_alert', { arbId: 'a1', betPairId: 'bp-1', exposure_reason: 'hedge_failed_positive_active' }),
      row('arb_settled', { arbId: 'a1', placement: 'hedge_failed', actualOutcome: 'won_failed', exposureReason: 'hedge_failed_positive_active' }),
    );
    s.reviewOpen.a1 = { bet_pair_id: 'bp-1', arb_id: 'a1', exposure_reason: 'hedge_failed_positive_active' };
    assert.deepEqual(violations(s), only(0));
  });

  it('accept a re-reconciliation that follows the bookmakers\' final results, with its own review entry', () => {
    const s = clean();
    hedgeResettledVoid(s);
    s.events.push(
      row('bet_resettled', { arbId: 'a1', clientRef: 'be1.a1.h1', from: 'lost', to: 'void' }, '20-0'),
      row(reReconciliationEvent, { arbId: 'a1', positiveStatus: 'won', hedgeStatus: 'void', actualOutcome: 'won_void', exposureReason: 'hedge_void_positive_active' }, '20-1'),
    );
    assert.deepEqual(violations(s), only(11), 'the re-reconciliation names an exposure, so a1 needs a review entry');
    s.reviewOpen.a1 = { bet_pair_id: 'bp-1', arb_id: 'a1', exposure_reason: 'hedge_void_positive_active' };
    assert.deepEqual(violations(s), only(0));
  });

  it('accept a stale classification when the bookmaker changed the result after the executor\'s one re-check of it', () => {
    const s = clean();
    hedgeResettledVoid(s);
    s.audit.push(row('bookmaker_status', { arbId: 'a1', clientRef: 'be1.a1.h1', recheck: true }, '19000-0'));
    assert.deepEqual(violations(s), only(0), 'changed at 20,000 ms, re-checked at 19,000 ms: not seen, by design');
    s.audit.push(row('bookmaker_status', { arbId: 'a1', clientRef: 'be1.a1.h1', recheck: true }, '21000-0'));
    assert.deepEqual(violations(s), only(8), 're-checked after the change: it must have been seen');
  });

  it('count a re-reconciliation that still disagrees with the bookmakers, and one with no first reconciliation', () => {
    const s = clean();
    hedgeResettledVoid(s);
    s.events.push(row(reReconciliationEvent, { arbId: 'a1', actualOutcome: 'won_lost', exposureReason: null }, '20-1'));
    assert.deepEqual(violations(s), only(8));
    s.events = s.events.filter((e) => e.type !== 'arb_settled');
    assert.match(checkInvariants(s).find((r) => r.id === 8)?.examples.join('\n') ?? '', /never reconciled/);
  });

  it('count a pair that is no arb and was executed under #6 (never rejected) and #14 (placed)', () => {
    const s = clean();
    nonArb(s);
    receive(s, 'bookA', { clientRef: 'be1.a4.p1', accountId: 'pa2', atMs: 6_000, decision: 'rejected', ticketId: 'bookA-3' });
    s.audit.push(request('be1.a4.p1'));
    const v = violations(s);
    assert.equal(v[6], 1, 'its delivery got no arb_rejected');
    assert.equal(v[14], 1, 'a request of it reached a bookmaker');
  });

  it('accept a bet in doubt in the journal when the arb has a review entry, and a live bet the review entry names', () => {
    const s = clean();
    receive(s, 'bookA', { clientRef: 'be1.a3.p1', accountId: 'pa1', atMs: 2_500, decision: 'timeout_after_commit', ticketId: 'bookA-3', acceptedStakeMinor: 10_000 });
    book(s, 'bookA').bets.push({ clientRef: 'be1.a3.p1', ticketId: 'bookA-3', accountId: 'pa1', status: 'accepted', stakeMinor: 10_000, oddsMilli: 2_100 });
    s.audit.push(request('be1.a3.p1'));
    assert.deepEqual(violations(s), only(0));
    // The fast-path hedge was sent too; the journal still says planned, the review record names it.
    receive(s, 'bookB', { clientRef: 'be1.a3.h1', accountId: 'ha2', atMs: 2_502, decision: 'accepted', ticketId: 'bookB-2', stakeMinor: 10_244, acceptedStakeMinor: 10_244 });
    book(s, 'bookB').bets.push({ clientRef: 'be1.a3.h1', ticketId: 'bookB-2', accountId: 'ha2', status: 'accepted', stakeMinor: 10_244, oddsMilli: 2_050 });
    s.audit.push(request('be1.a3.h1'));
    s.journalDocs.a3?.hedges.push({ role: 'hedge', attempt: 1, clientRef: 'be1.a3.h1', provider: 'bookB', status: 'planned' });
    assert.deepEqual(violations(s), only(9), 'a planned hedge that is live, not named by the review');
    s.reviewOpen.a3 = { ...s.reviewOpen.a3, possibly_sent: [{ clientRef: 'be1.a3.h1', ticketId: 'bookB-2' }] };
    assert.deepEqual(violations(s), only(0));
  });

  it('count a late-committed positive after arb_failed as unhedged (#3), never learned of (#7) and not what the journal says (#9)', () => {
    const s = clean();
    // a2's positive: three sends answered 500, the last lookup said not_found, and the first send was committed 800 ms later.
    const a2 = book(s, 'bookA').log.find((e) => e.clientRef === 'be1.a2.p1');
    assert.ok(a2);
    Object.assign(a2, { decision: 'commit_late', ticketId: 'bookA-2', acceptedStakeMinor: 10_000, acceptedOddsMilli: 2_100, reason: undefined });
    const bet = book(s, 'bookA').bets.find((b) => b.clientRef === 'be1.a2.p1');
    assert.ok(bet);
    Object.assign(bet, { status: 'accepted', committedAtMs: a2.atMs + 800 });
    s.journalDocs.a2 = { state: 'positive_failed', positive: { role: 'positive', attempt: 1, clientRef: 'be1.a2.p1', provider: 'bookA', status: 'not_placed' }, hedges: [] };
    const v = violations(s);
    assert.deepEqual([v[3], v[7], v[9]], [1, 1, 1]);
  });

  it('accept a future-stamped pair refused at intake instead of journaled', () => {
    const s = clean();
    s.plans.push({ arbId: 'a6', betPairId: 'bp-6', whitelabel: 'wl1', positiveProvider: 'bookA', hedgeProvider: 'bookB', positiveAccount: 'pa4', hedgeAccount: 'ha5', positiveStakeMinor: 10_000, invalid: false, refusable: true, deliveries: 1, enqueuedAtMs: 2_700, createdAtMs: 122_700 });
    assert.deepEqual(violations(s), only(6), 'no journal and no refusal: lost');
    s.events.push(row('arb_rejected', { arbId: 'a6', jobId: '8', errors: ['createdAt is 120000 ms ahead of Redis time'] }));
    assert.deepEqual(violations(s), only(0));
  });

  it('let hedges reach a bookmaker during the kill switch, and a positive whose send was journaled before it was set', () => {
    const s = clean();
    receive(s, 'bookB', { clientRef: 'be1.a1.h1', accountId: 'ha0', atMs: 3_500, decision: 'duplicate', ticketId: 'bookB-1' });
    receive(s, 'bookA', { clientRef: 'be1.a2.p1', accountId: 'pa0', atMs: 3_150, decision: 'duplicate', ticketId: 'bookA-2' });
    s.audit.push(request('be1.a1.h1', '3490-0'), request('be1.a2.p1', '2999-0'));
    assert.deepEqual(violations(s), only(0));
    s.audit = s.audit.map((r) => (r.data.clientRef === 'be1.a2.p1' && r.id === '2999-0' ? { ...r, id: '3000-0' } : r));
    assert.deepEqual(violations(s), only(0), 'journaled in the millisecond of the set: its check ran first');
    s.audit = s.audit.map((r) => (r.data.clientRef === 'be1.a2.p1' && r.id === '3000-0' ? { ...r, id: '3001-0' } : r));
    assert.deepEqual(violations(s), only(12), 'journaled 1 ms after the switch was set');
  });

  it('count a positive resent past the arb max age, though its first send was young', () => {
    const s = clean();
    receive(s, 'bookA', { clientRef: 'be1.a2.p1', accountId: 'pa0', atMs: 11_000, decision: 'duplicate', ticketId: 'bookA-2' });
    s.audit.push(request('be1.a2.p1', '10999-0'));
    assert.deepEqual(violations(s), only(13));
    assert.match(checkInvariants(s).find((r) => r.id === 13)?.examples[0] ?? '', /a later send\) journaled at age 9004 ms/);
  });

  it('sum the results of several seeds, keeping examples labelled by seed', () => {
    const s = clean();
    s.journalStates.a1 = 'hedge_placing';
    const summed = sumResults([{ label: 'seed 1', results: checkInvariants(s) }, { label: 'seed 2', results: checkInvariants(s) }]);
    const six = summed.find((r) => r.id === 6);
    assert.equal(six?.violations, 2);
    assert.match(six?.examples[0] ?? '', /^\[seed 1\] a1: stuck in hedge_placing/);
    assert.equal(summed.length, invariantCount);
  });

  it('order stream ids numerically', () => {
    assert.ok(compareStreamIds('9-0', '10-0') < 0);
    assert.ok(compareStreamIds('10-2', '10-10') < 0);
    assert.equal(compareStreamIds('5-1', '5-1'), 0);
  });

  it('accept a positive voided at the bookmaker before its hedge was due, left unhedged and unalerted', () => {
    const s = clean();
    book(s, 'bookB').log = [];
    book(s, 'bookB').bets = [];
    s.audit = s.audit.filter((r) => r.data.clientRef !== 'be1.a1.h1');
    s.events = s.events.filter((e) => e.data.clientRef !== 'be1.a1.h1' && e.type !== 'arb_settled');
    if (s.journalDocs.a1) s.journalDocs.a1.hedges = [];
    const positive = book(s, 'bookA').bets[0];
    assert.ok(positive);
    Object.assign(positive, { status: 'void', settledAtMs: 1_000 });
    assert.deepEqual(violations(s), only(0));
    positive.settledAtMs = 1_000 + s.hedgeOrAlertDeadlineMs + 1;
    assert.deepEqual(violations(s), only(3), 'voided only after the hedge was due: it was live and unhedged');
  });

  it('count a hedge taken after the deadline with no alert', () => {
    const s = clean();
    s.hedgeOrAlertDeadlineMs = 5;
    assert.deepEqual(violations(s), only(3));
  });

  it('count, for an executor without a journal or events, every pair as lost and every lost answer as unflagged', () => {
    const s = clean();
    s.executor = 'naive';
    s.settlementExpected = false;
    s.journalStates = {};
    s.events = [];
    s.exposureKeys = {};
    s.reviewOpen = {};
    s.journalDocs = {};
    const v = violations(s);
    assert.equal(v[6], 3 + 1, 'three valid pairs without a journal, one invalid delivery not rejected');
    assert.equal(v[7], 1, 'the hedge whose answer was lost');
    assert.equal(v[8], 1, 'a1 never reconciled');
    assert.equal(v[9], 2, 'both live bets of a1, named by no record');
  });

  it('count every job left waiting, active or failed', () => {
    const s = clean();
    s.queueCounts['bet-pairs'] = { waiting: 2, active: 1, delayed: 0, failed: 1 };
    assert.deepEqual(violations(s), only(6, 4));
  });

  it('print both columns and the examples of a violation', () => {
    const s = clean();
    s.journalStates.a1 = 'hedge_placing';
    const table = formatTable(checkInvariants(clean()), checkInvariants(s));
    assert.match(table, /#\s+invariant\s+checked\s+ours\s+naive/);
    assert.match(table, /naive #6 .*1 violation/);
    assert.match(table, /a1: stuck in hedge_placing/);
  });
});

describe('legOf', () => {
  it('reads the arb, leg and attempt of a client ref', () => {
    assert.deepEqual(legOf('be1.c7-12.p1'), { arbId: 'c7-12', leg: 'p', attempt: 1 });
    assert.deepEqual(legOf('be1.arb_x.h3'), { arbId: 'arb_x', leg: 'h', attempt: 3 });
    assert.equal(legOf('be1.a.x1'), null);
    assert.equal(legOf('other-ref'), null);
  });
});
