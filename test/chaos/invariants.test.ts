// The chaos invariants on small synthetic snapshots: a clean run passes, and each planted violation is counted by exactly its invariant.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkInvariants, formatTable, legOf } from '../../chaos/invariants.js';
import type { ChaosSnapshot, StreamRow } from '../../chaos/snapshot.js';
import type { SimLogEntry } from '../../src/sim/bookmaker.js';

type Entry = Pick<SimLogEntry, 'clientRef' | 'accountId' | 'atMs' | 'decision'> & Partial<SimLogEntry>;

function entry(seq: number, e: Entry): SimLogEntry {
  return { seq, eventId: 'ev-1', market: 'match_winner', selection: 'home', stakeMinor: 10_000, oddsMilli: 2_100, ...e };
}

function row(type: string, data: Record<string, unknown>, id = '0-0'): StreamRow {
  return { id, type, data };
}

function request(clientRef: string): StreamRow {
  return row('bookmaker_request', { clientRef });
}

/**
 * a1: positive accepted (won); hedge h1 committed but its answer lost, found by lookup (lost); settled won_lost.
 * a2: positive rejected on the same account 1 s later. a3: positive in doubt, flagged for review.
 * One invalid pair, rejected.
 */
function clean(): ChaosSnapshot {
  return {
    cooldownMs: 300,
    cooldownToleranceMs: 5,
    hedgeOrAlertDeadlineMs: 5_000,
    books: [
      {
        name: 'bookA',
        log: [
          entry(1, { clientRef: 'be1.a1.p1', accountId: 'pa0', atMs: 1_000, decision: 'accepted', ticketId: 'bookA-1', acceptedStakeMinor: 10_000, acceptedOddsMilli: 2_100 }),
          entry(2, { clientRef: 'be1.a2.p1', accountId: 'pa0', atMs: 2_000, decision: 'rejected', ticketId: 'bookA-2', reason: 'rejected_by_bookmaker' }),
        ],
        bets: [
          { clientRef: 'be1.a1.p1', ticketId: 'bookA-1', accountId: 'pa0', status: 'won', stakeMinor: 10_000, oddsMilli: 2_100 },
          { clientRef: 'be1.a2.p1', ticketId: 'bookA-2', accountId: 'pa0', status: 'rejected', stakeMinor: 10_000, oddsMilli: 2_100 },
        ],
      },
      {
        name: 'bookB',
        log: [
          entry(1, { clientRef: 'be1.a1.h1', accountId: 'ha0', atMs: 1_010, decision: 'timeout_after_commit', ticketId: 'bookB-1', stakeMinor: 10_244, oddsMilli: 2_050, acceptedStakeMinor: 10_244, acceptedOddsMilli: 2_050, selection: 'away' }),
        ],
        bets: [{ clientRef: 'be1.a1.h1', ticketId: 'bookB-1', accountId: 'ha0', status: 'lost', stakeMinor: 10_244, oddsMilli: 2_050 }],
      },
    ],
    plans: [
      { arbId: 'a1', betPairId: 'bp-1', whitelabel: 'wl1', positiveProvider: 'bookA', hedgeProvider: 'bookB', positiveAccount: 'pa0', hedgeAccount: 'ha0', positiveStakeMinor: 10_000, invalid: false, deliveries: 2 },
      { arbId: 'a2', betPairId: 'bp-2', whitelabel: 'wl1', positiveProvider: 'bookA', hedgeProvider: 'bookB', positiveAccount: 'pa0', hedgeAccount: 'ha1', positiveStakeMinor: 10_000, invalid: false, deliveries: 1 },
      { arbId: 'a3', betPairId: 'bp-3', whitelabel: 'wl1', positiveProvider: 'bookA', hedgeProvider: 'bookB', positiveAccount: 'pa1', hedgeAccount: 'ha2', positiveStakeMinor: 10_000, invalid: false, deliveries: 1 },
      { arbId: 'a4', betPairId: 'bp-4', whitelabel: 'wl1', positiveProvider: 'bookA', hedgeProvider: 'bookB', positiveAccount: 'pa2', hedgeAccount: 'ha3', positiveStakeMinor: 10_000, invalid: true, deliveries: 1 },
    ],
    journalStates: { a1: 'settled', a2: 'positive_failed', a3: 'positive_in_doubt' },
    exposureKeys: { 'exposure:wl1:bookA:bp-3': { bet_pair_id: 'bp-3', arb_id: 'a3', exposure_reason: 'positive_in_doubt' } },
    reviewOpen: { 'exposure:wl1:bookA:bp-3': { bet_pair_id: 'bp-3', arb_id: 'a3', exposure_reason: 'positive_in_doubt' } },
    events: [
      row('bet_accepted', { arbId: 'a1', role: 'positive', clientRef: 'be1.a1.p1', ticketId: 'bookA-1' }),
      row('bet_accepted', { arbId: 'a1', role: 'hedge', clientRef: 'be1.a1.h1', ticketId: 'bookB-1' }),
      row('arb_executed', { arbId: 'a1' }),
      row('arb_duplicate', { arbId: 'a1', reason: 'already_processed' }),
      row('arb_failed', { arbId: 'a2', reason: 'positive_bet_rejected', hedgeBetStatus: 'cancelled' }),
      row('exposure_alert', { arbId: 'a3', betPairId: 'bp-3', exposure_reason: 'positive_in_doubt', requiresManualReview: true }),
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

function only(id: number, count = 1): Record<number, number> {
  const out: Record<number, number> = {};
  for (let i = 1; i <= 8; i++) out[i] = i === id ? count : 0;
  return out;
}

const cases: Array<{ name: string; id: number; plant(s: ChaosSnapshot): void }> = [
  {
    name: 'a bookmaker that does not dedupe took one client ref twice',
    id: 1,
    plant(s) {
      receive(s, 'bookA', { clientRef: 'be1.a1.p1', accountId: 'pa0', atMs: 1_100, decision: 'accepted', ticketId: 'bookA-3', acceptedStakeMinor: 10_000 });
      book(s, 'bookA').bets.push({ clientRef: 'be1.a1.p1', ticketId: 'bookA-3', accountId: 'pa0', status: 'won', stakeMinor: 10_000, oddsMilli: 2_100 });
      s.audit.push(request('be1.a1.p1'));
    },
  },
  {
    name: 'a fully accepted positive was placed again under a new ref (blind retry)',
    id: 1,
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
    name: 'a positive_in_doubt pair has no review entry',
    id: 7,
    plant(s) {
      s.reviewOpen = {};
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
      settled.data = { ...settled.data, actualOutcome: 'won_won', exposureReason: 'both_won_unexpected' };
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
];

describe('chaos invariants', () => {
  it('count no violation on a clean run, and check something for every invariant', () => {
    const results = checkInvariants(clean());
    assert.deepEqual(violations(clean()), only(0));
    assert.equal(results.length, 8);
    for (const r of results) assert.ok(r.checked > 0, `invariant ${r.id} checked nothing`);
  });

  for (const c of cases) {
    it(`count exactly one violation of #${c.id} when ${c.name}`, () => {
      const s = clean();
      c.plant(s);
      assert.deepEqual(violations(s), only(c.id));
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
    assert.deepEqual(violations(s), only(0));
  });

  it('accept the placement exposure a hedge-failed pair keeps at settlement', () => {
    const s = clean();
    s.events = s.events.filter((e) => e.type !== 'arb_settled');
    s.events.push(
      row('exposure_alert', { arbId: 'a1', betPairId: 'bp-1', exposure_reason: 'hedge_failed_positive_active' }),
      row('arb_settled', { arbId: 'a1', placement: 'hedge_failed', actualOutcome: 'won_failed', exposureReason: 'hedge_failed_positive_active' }),
    );
    assert.deepEqual(violations(s), only(0));
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
    const v = violations(s);
    assert.equal(v[6], 3 + 1, 'three valid pairs without a journal, one invalid delivery not rejected');
    assert.equal(v[7], 1, 'the hedge whose answer was lost');
    assert.equal(v[8], 1, 'a1 never reconciled');
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
