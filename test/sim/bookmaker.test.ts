// The bookmaker model on its own: fault queue order and counts, duplicates under faults, limits, seeded settlement.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { placeRequest as request } from '../support/requests.js';
import { SimBookmaker, type SimPlaceResult } from '../../src/sim/bookmaker.js';
import { eventResult, hash32, seededSettlement, selectionSide } from '../../src/sim/settlement.js';


function bookmaker(overrides: Partial<ConstructorParameters<typeof SimBookmaker>[0]> = {}): SimBookmaker {
  return new SimBookmaker({ name: 'bk', seed: 1, now: () => 0, ...overrides });
}

function statusOf(result: SimPlaceResult): string {
  return result.kind === 'answer' ? result.bet.status : result.kind;
}

describe('SimBookmaker faults', () => {
  it('hands out faults in FIFO order, each `count` times', () => {
    const bk = bookmaker();
    bk.addFault({ fault: 'reject', count: 2 });
    bk.addFault({ fault: 'error_500' });
    const results = [1, 2, 3, 4].map(() => statusOf(bk.place(request())));
    assert.deepEqual(results, ['rejected', 'rejected', 'error_500', 'accepted']);
    assert.deepEqual(bk.faults(), []);
  });

  it('skips a fault that does not match and keeps it queued', () => {
    const bk = bookmaker();
    bk.addFault({ fault: 'reject', match: { clientRef: 'later' } });
    bk.addFault({ fault: 'partial' });
    const first = bk.place(request());
    assert.equal(first.kind === 'answer' && first.bet.stakeMinor, 500);
    assert.deepEqual(bk.faults().map((f) => f.fault), ['reject']);
    assert.equal(statusOf(bk.place(request({ clientRef: 'later' }))), 'rejected');
  });

  it('applies a transport fault to a repeated ref, leaving the original bet as it was', () => {
    const bk = bookmaker();
    const req = request();
    bk.place(req);
    bk.addFault({ fault: 'error_500' });
    bk.addFault({ fault: 'timeout_after_commit', params: { hangMs: 5 } });
    assert.deepEqual(bk.place(req), { kind: 'error_500' });
    assert.deepEqual(bk.place(req), { kind: 'no_answer', committed: false, hangMs: 5 });
    assert.deepEqual(
      bk.log().map((entry) => [entry.decision, entry.ticketId]),
      [
        ['accepted', 'bk-1'],
        ['error_500', 'bk-1'],
        ['timeout_after_commit', 'bk-1'],
      ],
    );
    assert.equal(bk.lookupByClientRef(req.clientRef).kind, 'found');
  });

  it('does not spend a decision fault on a repeated ref', () => {
    const bk = bookmaker();
    const req = request();
    bk.place(req);
    bk.addFault({ fault: 'reject' });
    const repeat = bk.place(req);
    assert.equal(repeat.kind === 'answer' && repeat.duplicate, true);
    assert.equal(statusOf(repeat), 'accepted');
    assert.deepEqual(bk.faults().map((f) => f.fault), ['reject']);
  });

  it('fires lookup_error only on lookups, matched by the bet’s account', () => {
    const bk = bookmaker();
    bk.addFault({ fault: 'lookup_error', match: { accountId: 'acc-2' } });
    const mine = request({ accountId: 'acc-1' });
    const theirs = request({ accountId: 'acc-2' });
    assert.equal(statusOf(bk.place(theirs)), 'accepted');
    assert.equal(bk.lookupByClientRef(mine.clientRef).kind, 'not_found');
    assert.equal(bk.lookupByClientRef(theirs.clientRef).kind, 'error_500');
    assert.equal(bk.lookupByClientRef(theirs.clientRef).kind, 'found');
  });

  it('counts only status() calls as polls of a pending bet', () => {
    const bk = bookmaker();
    bk.addFault({ fault: 'pending_then_accept', params: { pendingPolls: 1 } });
    const req = request();
    bk.place(req);
    const lookup = bk.lookupByClientRef(req.clientRef);
    assert.equal(lookup.kind === 'found' && lookup.bet.status, 'pending');
    const statuses = [1, 2].map(() => {
      const result = bk.status('bk-1');
      return result.kind === 'found' ? result.bet.status : result.kind;
    });
    assert.deepEqual(statuses, ['pending', 'accepted']);
  });

  it('holds a released pending bet no longer: decided on the next status poll, whatever polls it had left', () => {
    const bk = bookmaker();
    bk.addFault({ fault: 'pending_then_reject', params: { pendingPolls: 1_000_000, reason: 'late_reject' } });
    const req = request();
    bk.place(req);
    const polled = bk.status('bk-1');
    assert.equal(polled.kind === 'found' && polled.bet.status, 'pending');
    assert.equal(bk.releasePending('nope'), false, 'an unknown reference');
    assert.equal(bk.releasePending(req.clientRef), true);
    const decided = bk.status('bk-1');
    assert.equal(decided.kind === 'found' && decided.bet.status, 'rejected');
    assert.equal(bk.releasePending(req.clientRef), false, 'no longer pending');
  });

  it('commit_late answers 500, says not_found until the delay has passed, then holds the bet under its ref', () => {
    let nowMs = 0;
    const bk = bookmaker({ now: () => nowMs });
    const req = request();
    bk.addFault({ fault: 'commit_late', params: { delayMs: 100 } });
    assert.deepEqual(bk.place(req), { kind: 'error_500' });
    nowMs = 99;
    assert.equal(bk.lookupByClientRef(req.clientRef).kind, 'not_found');
    nowMs = 100;
    const found = bk.lookupByClientRef(req.clientRef);
    assert.equal(found.kind === 'found' && found.bet.status, 'accepted');
    assert.deepEqual(bk.log().map((e) => [e.decision, e.ticketId, e.atMs]), [['commit_late', 'bk-1', 0]]);
  });

  it('says when it took each bet (acceptedAtMs): at the request, at the poll that accepted a pending bet, when a late commit came due', () => {
    let nowMs = 10;
    const bk = bookmaker({ now: () => nowMs, settleAfterMs: null });
    const plain = request({ clientRef: 'plain' });
    const slow = request({ clientRef: 'slow' });
    const late = request({ clientRef: 'late' });
    const placed = bk.place(plain);
    assert.equal(placed.kind === 'answer' && placed.bet.acceptedAtMs, 10);
    bk.addFault({ fault: 'pending_then_accept', match: { clientRef: 'slow' }, params: { pendingPolls: 0 } });
    const pending = bk.place(slow);
    assert.equal(pending.kind === 'answer' && pending.bet.acceptedAtMs, undefined, 'not taken while pending');
    bk.addFault({ fault: 'commit_late', match: { clientRef: 'late' }, params: { delayMs: 100 } });
    bk.place(late);
    nowMs = 40;
    const accepted = bk.status('bk-2');
    assert.equal(accepted.kind === 'found' && accepted.bet.acceptedAtMs, 40);
    nowMs = 500; // the late commit came due at 110; the model notices it only now
    const committed = bk.lookupByClientRef('late');
    assert.equal(committed.kind === 'found' && committed.bet.acceptedAtMs, 110);
  });

  it('commit_late with hangMs loses the answer instead of a 500', () => {
    const bk = bookmaker();
    bk.addFault({ fault: 'commit_late', params: { hangMs: 7, delayMs: 0 } });
    assert.deepEqual(bk.place(request()), { kind: 'no_answer', committed: false, hangMs: 7 });
  });

  it('does not commit a late request twice when its ref was resent and committed meanwhile', () => {
    let nowMs = 0;
    const bk = bookmaker({ now: () => nowMs });
    const req = request();
    bk.addFault({ fault: 'commit_late', params: { delayMs: 50 } });
    bk.place(req);
    assert.equal(statusOf(bk.place(req)), 'accepted', 'the resend is a new placement: nothing was committed yet');
    nowMs = 60;
    assert.equal(bk.log().filter((e) => e.ticketId !== undefined).length, 1);
    assert.equal(bk.status('bk-2').kind, 'not_found', 'no second bet');
  });

  it('settleAs settles a committed bet at once (a void before anyone looks it up)', () => {
    let nowMs = 5;
    const bk = bookmaker({ now: () => nowMs, settleAfterMs: null });
    const req = request();
    bk.addFault({ fault: 'timeout_after_commit', params: { hangMs: 1, settleAs: 'void' } });
    assert.equal(bk.place(req).kind, 'no_answer');
    nowMs = 9;
    const found = bk.lookupByClientRef(req.clientRef);
    assert.equal(found.kind === 'found' && found.bet.status, 'void');
    assert.equal(found.kind === 'found' && found.bet.settledAtMs, 5);
  });

  it('refuses a fault with a bad count', () => {
    assert.throws(() => bookmaker().addFault({ fault: 'reject', count: 0 }));
  });
});

describe('SimBookmaker limits', () => {
  it('throws a clear error when the log is full', () => {
    const bk = bookmaker({ entriesMax: 2 });
    bk.place(request());
    bk.place(request());
    assert.throws(() => bk.place(request()), /sim log entries \(2\) >= entriesMax \(2\)/);
  });
});

describe('SimBookmaker settlement', () => {
  it('starts the settlement clock when a pending bet is accepted', () => {
    let nowMs = 0;
    const bk = bookmaker({ now: () => nowMs, settleAfterMs: 100 });
    bk.addFault({ fault: 'pending_then_accept', params: { pendingPolls: 0 } });
    bk.place(request());
    nowMs = 1000;
    const accepted = bk.status('bk-1');
    assert.equal(accepted.kind === 'found' && accepted.bet.status, 'accepted');
    nowMs = 1099;
    const still = bk.status('bk-1');
    assert.equal(still.kind === 'found' && still.bet.status, 'accepted');
    nowMs = 1100;
    const settled = bk.status('bk-1');
    assert.notEqual(settled.kind === 'found' && settled.bet.status, 'accepted');
  });

  it('re-settles a settled bet when told (won → void), with the new settledAtMs', () => {
    let nowMs = 0;
    const bk = bookmaker({ now: () => nowMs, settleAfterMs: null });
    bk.place(request());
    bk.settle('bk-1', 'won');
    nowMs = 40;
    const again = bk.settle('bk-1', 'void');
    assert.equal(again.kind === 'settled' && again.bet.status, 'void');
    assert.equal(again.kind === 'settled' && again.bet.settledAtMs, 40);
  });

  it('refuses to settle a bet that was not accepted', () => {
    const bk = bookmaker();
    bk.addFault({ fault: 'reject' });
    bk.place(request({ clientRef: 'r' }));
    assert.deepEqual(bk.settle('r', 'won'), { kind: 'not_accepted', status: 'rejected' });
    assert.deepEqual(bk.settle('nope', 'won'), { kind: 'not_found' });
  });

  it('puts selections on sides', () => {
    for (const selection of ['home', 'HOME', 'over', 'Yes', 'back', '1']) assert.equal(selectionSide(selection), 0, selection);
    for (const selection of ['away', 'under', 'no', 'lay', '2', 'draw']) assert.equal(selectionSide(selection), 1, selection);
  });

  it('settles the two sides of any event consistently (property)', () => {
    fc.assert(
      fc.property(fc.integer(), fc.string(), fc.string(), (seed, eventId, market) => {
        const pair = `${seededSettlement(seed, eventId, market, 'home')}/${seededSettlement(seed, eventId, market, 'away')}`;
        return ['won/lost', 'lost/won', 'void/void', 'half_won/half_lost'].includes(pair);
      }),
    );
  });

  it('voids about 2%, splits about 2% and lets each side win about half of the rest', () => {
    const counts = { void: 0, half: 0, side0: 0, side1: 0 };
    const events = 20_000;
    for (let n = 0; n < events; n++) {
      const result = eventResult(9, `ev-${n}`, 'match_winner');
      if (result.kind === 'win') counts[result.side === 0 ? 'side0' : 'side1'] += 1;
      else counts[result.kind] += 1;
    }
    assert.ok(counts.void > 300 && counts.void < 500, `void ${counts.void}`);
    assert.ok(counts.half > 300 && counts.half < 500, `half ${counts.half}`);
    assert.ok(Math.abs(counts.side0 - counts.side1) < 800, `side0 ${counts.side0} side1 ${counts.side1}`);
  });

  it('hashes deterministically (FNV-1a with a finaliser)', () => {
    assert.equal(hash32('abc'), hash32('abc'));
    assert.notEqual(hash32('abc'), hash32('abd'));
    assert.ok(Number.isInteger(hash32('')) && hash32('') >= 0);
  });
});
