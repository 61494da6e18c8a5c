// One Provider conformance suite, run against the in-process simulator and against HttpProvider over real HTTP.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { BetStatus } from '../../src/domain/types.js';
import { HttpProvider } from '../../src/providers/http.js';
import { InProcessProvider } from '../../src/providers/in-process.js';
import type { BetView, LookupOutcome, PlaceOutcome, PlaceRequest, Provider } from '../../src/providers/provider.js';
import { SimBookmaker } from '../../src/sim/bookmaker.js';
import { startSimServer } from '../../src/sim/server.js';
import { eventResult } from '../../src/sim/settlement.js';
import { placeRequest } from '../support/requests.js';

/** An odd stake, so halving (partial fills, half results) exercises the rounding. */
function request(overrides: Partial<PlaceRequest> = {}): PlaceRequest {
  return placeRequest({ stakeMinor: 1001, ...overrides });
}

class ManualClock {
  nowMs = 1_700_000_000_000;
  readonly now = (): number => this.nowMs;
  advance(ms: number): void {
    this.nowMs += ms;
  }
}

interface Target {
  provider: Provider;
  bookmaker: SimBookmaker;
  clock: ManualClock;
  close(): Promise<void>;
}

interface TargetOptions {
  seed?: number;
  dedupe?: boolean;
  settleAfterMs?: number | null;
}

type MakeTarget = (options: TargetOptions) => Promise<Target>;

/** Hang far longer than the client waits, so the HTTP side sees a real timeout. */
const hangMs = 2000;

const makeInProcess: MakeTarget = async (options) => {
  const clock = new ManualClock();
  const bookmaker = new SimBookmaker({ name: 'bk', seed: options.seed ?? 7, now: clock.now, ...dropUndefined(options) });
  return { provider: new InProcessProvider(bookmaker), bookmaker, clock, close: async () => {} };
};

const makeHttp: MakeTarget = async (options) => {
  const clock = new ManualClock();
  const server = await startSimServer({ name: 'bk', seed: options.seed ?? 7, now: clock.now, ...dropUndefined(options) });
  // Short enough to keep the timeout tests quick, long enough that a loaded machine does not time out a plain call.
  const provider = new HttpProvider({ name: 'bk', url: server.url, requestTimeoutMs: 400 });
  return {
    provider,
    bookmaker: server.bookmaker,
    clock,
    close: async () => {
      await provider.close();
      await server.close();
    },
  };
};

function dropUndefined(options: TargetOptions): TargetOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}


function acceptedBet(outcome: PlaceOutcome): BetView {
  assert.equal(outcome.kind, 'accepted', `expected accepted, got ${JSON.stringify(outcome)}`);
  if (outcome.kind !== 'accepted') throw new Error('unreachable');
  return outcome.bet;
}

function foundStatus(outcome: LookupOutcome): BetStatus {
  assert.equal(outcome.kind, 'found', `expected found, got ${JSON.stringify(outcome)}`);
  if (outcome.kind !== 'found') throw new Error('unreachable');
  return outcome.bet.status;
}

function describeConformance(label: string, make: MakeTarget): void {
  describe(`Provider conformance: ${label}`, () => {
    let t: Target;
    beforeEach(async () => {
      t = await make({});
    });
    afterEach(async () => {
      await t.close();
    });

    describe('when a placement meets no fault', () => {
      it('accepts it at the requested odds and stake with a new ticket', async () => {
        const req = request();
        const bet = acceptedBet(await t.provider.place(req));
        assert.deepEqual(bet, {
          ticketId: 'bk-1',
          clientRef: req.clientRef,
          accountId: 'acc-1',
          status: 'accepted',
          oddsMilli: 2050,
          stakeMinor: 1001,
        });
        const second = acceptedBet(await t.provider.place(request()));
        assert.equal(second.ticketId, 'bk-2');
      });

      it('answers a repeated client ref with the original bet and logs a duplicate', async () => {
        const req = request();
        const first = await t.provider.place(req);
        const repeat = await t.provider.place({ ...req, stakeMinor: 5000, oddsMilli: 3000 });
        assert.deepEqual(repeat, first);
        assert.deepEqual(
          t.bookmaker.log().map((entry) => [entry.decision, entry.ticketId]),
          [
            ['accepted', 'bk-1'],
            ['duplicate', 'bk-1'],
          ],
        );
      });

      it('looks a client ref up as not_found before and found after', async () => {
        const req = request();
        assert.deepEqual(await t.provider.lookupByClientRef(req.clientRef), { kind: 'not_found' });
        const bet = acceptedBet(await t.provider.place(req));
        assert.deepEqual(await t.provider.lookupByClientRef(req.clientRef), { kind: 'found', bet });
        assert.deepEqual(await t.provider.status(bet.ticketId), { kind: 'found', bet });
      });

      it('answers not_found for an unknown ticket', async () => {
        assert.deepEqual(await t.provider.status('bk-999'), { kind: 'not_found' });
      });
    });

    describe('when the bookmaker does not deduplicate', () => {
      it('creates a second bet for a repeated client ref', async () => {
        const noDedupe = await make({ dedupe: false });
        try {
          const req = request();
          const first = acceptedBet(await noDedupe.provider.place(req));
          const second = acceptedBet(await noDedupe.provider.place(req));
          assert.notEqual(first.ticketId, second.ticketId);
          assert.deepEqual(noDedupe.bookmaker.log().map((entry) => entry.decision), ['accepted', 'accepted']);
        } finally {
          await noDedupe.close();
        }
      });
    });

    describeFaults(() => t);
    describeSettlement(() => t, make);
    describeBatchStatus(() => t);
  });
}

function describeFaults(target: () => Target): void {
  describe('when the bookmaker rejects', () => {
    it('answers rejected_by_bookmaker, and the same rejection for a repeat of the ref', async () => {
      const { provider, bookmaker } = target();
      bookmaker.addFault({ fault: 'reject' });
      const req = request();
      const outcome = await provider.place(req);
      assert.equal(outcome.kind, 'rejected');
      assert.equal(outcome.kind === 'rejected' && outcome.reason, 'rejected_by_bookmaker');
      assert.deepEqual(await provider.place(req), outcome);
      assert.equal(foundStatus(await provider.lookupByClientRef(req.clientRef)), 'rejected');
    });

    it('uses the reason given in the fault params', async () => {
      const { provider, bookmaker } = target();
      bookmaker.addFault({ fault: 'reject', params: { reason: 'limit_exceeded' } });
      const outcome = await provider.place(request());
      assert.equal(outcome.kind === 'rejected' && outcome.reason, 'limit_exceeded');
    });
  });

  describe('when the bookmaker answers 500', () => {
    it('leaves the bet in doubt, and the bookmaker never took it', async () => {
      const { provider, bookmaker } = target();
      bookmaker.addFault({ fault: 'error_500' });
      const req = request();
      assert.deepEqual(await provider.place(req), { kind: 'in_doubt', detail: 'http_500' });
      assert.deepEqual(await provider.lookupByClientRef(req.clientRef), { kind: 'not_found' });
    });
  });

  describe('when the answer times out', () => {
    it('before commit: in doubt, and a lookup proves it was never placed', async () => {
      const { provider, bookmaker } = target();
      bookmaker.addFault({ fault: 'timeout_before_commit', params: { hangMs } });
      const req = request();
      assert.deepEqual(await provider.place(req), { kind: 'in_doubt', detail: 'timeout' });
      assert.deepEqual(await provider.lookupByClientRef(req.clientRef), { kind: 'not_found' });
      assert.equal(bookmaker.log()[0]?.decision, 'timeout_before_commit');
    });

    it('after commit: in doubt, and a lookup finds the accepted bet', async () => {
      const { provider, bookmaker } = target();
      bookmaker.addFault({ fault: 'timeout_after_commit', params: { hangMs } });
      const req = request();
      assert.deepEqual(await provider.place(req), { kind: 'in_doubt', detail: 'timeout' });
      assert.equal(foundStatus(await provider.lookupByClientRef(req.clientRef)), 'accepted');
      // The retry with the same ref is answered with the committed bet, not a second one.
      const retry = acceptedBet(await provider.place(req));
      assert.equal(retry.ticketId, 'bk-1');
    });
  });

  describe('when the bookmaker takes part of the stake', () => {
    it('accepts half the stake, rounded down, by default', async () => {
      const { provider, bookmaker } = target();
      bookmaker.addFault({ fault: 'partial' });
      assert.equal(acceptedBet(await provider.place(request({ stakeMinor: 1001 }))).stakeMinor, 500);
    });

    it('accepts the stake given in the fault params', async () => {
      const { provider, bookmaker } = target();
      bookmaker.addFault({ fault: 'partial', params: { stakeMinor: 300 } });
      assert.equal(acceptedBet(await provider.place(request())).stakeMinor, 300);
    });
  });

  describe('when the odds moved', () => {
    it('rejects with odds_moved and the current odds (5% worse by default)', async () => {
      const { provider, bookmaker } = target();
      bookmaker.addFault({ fault: 'odds_moved' });
      const outcome = await provider.place(request({ oddsMilli: 2050 }));
      assert.equal(outcome.kind, 'rejected');
      if (outcome.kind !== 'rejected') return;
      assert.equal(outcome.reason, 'odds_moved');
      assert.equal(outcome.currentOddsMilli, 1947);
    });

    it('accepts at the new odds when the fault says accept', async () => {
      const { provider, bookmaker } = target();
      bookmaker.addFault({ fault: 'odds_moved', params: { accept: true, oddsMilli: 1980 } });
      assert.equal(acceptedBet(await provider.place(request({ oddsMilli: 2050 }))).oddsMilli, 1980);
    });
  });

  describe('when the placement is pending', () => {
    for (const [fault, final] of [
      ['pending_then_accept', 'accepted'],
      ['pending_then_reject', 'rejected'],
    ] as const) {
      it(`${fault}: status answers pending twice, then ${final}`, async () => {
        const { provider, bookmaker } = target();
        bookmaker.addFault({ fault });
        const outcome = await provider.place(request());
        assert.equal(outcome.kind, 'pending');
        if (outcome.kind !== 'pending') return;
        const ticketId = outcome.bet.ticketId;
        assert.equal(foundStatus(await provider.status(ticketId)), 'pending');
        assert.equal(foundStatus(await provider.status(ticketId)), 'pending');
        assert.equal(foundStatus(await provider.status(ticketId)), final);
        assert.equal(foundStatus(await provider.status(ticketId)), final);
      });
    }
  });

  describe('when lookups fail', () => {
    it('answers unavailable for `count` lookups, then recovers', async () => {
      const { provider, bookmaker } = target();
      const req = request();
      acceptedBet(await provider.place(req));
      bookmaker.addFault({ fault: 'lookup_error', count: 2 });
      assert.equal((await provider.lookupByClientRef(req.clientRef)).kind, 'unavailable');
      assert.equal((await provider.lookupByClientRef(req.clientRef)).kind, 'unavailable');
      assert.equal(foundStatus(await provider.lookupByClientRef(req.clientRef)), 'accepted');
    });
  });

  describe('when a fault matches one account', () => {
    it('hits only that account’s placements', async () => {
      const { provider, bookmaker } = target();
      bookmaker.addFault({ fault: 'reject', match: { accountId: 'acc-2' } });
      acceptedBet(await provider.place(request({ accountId: 'acc-1' })));
      assert.equal((await provider.place(request({ accountId: 'acc-2' }))).kind, 'rejected');
      acceptedBet(await provider.place(request({ accountId: 'acc-2' })));
    });
  });
}

function batchOf(provider: Provider): NonNullable<Provider['batch']> {
  assert.ok(provider.batch, 'the adapter speaks batched status');
  return provider.batch;
}

function describeBatchStatus(target: () => Target): void {
  describe('batched settlement status', () => {
    it('answers the statuses of several tickets in one request, and names the unknown ones', async () => {
      const { provider, bookmaker } = target();
      const first = acceptedBet(await provider.place(request()));
      const second = acceptedBet(await provider.place(request()));
      bookmaker.settle(second.ticketId, 'void');
      const before = bookmaker.requests.statuses;
      const answer = await batchOf(provider).statuses([first.ticketId, 'bk-999', second.ticketId]);
      assert.equal(bookmaker.requests.statuses, before + 1);
      assert.equal(answer.kind, 'answered');
      if (answer.kind !== 'answered') return;
      assert.deepEqual(answer.bets.map((b) => [b.ticketId, b.status]), [[first.ticketId, 'accepted'], [second.ticketId, 'void']]);
      assert.deepEqual(answer.notFound, ['bk-999']);
    });

    it("pages an account's settlement feed from a cursor: only that account, every result once, re-settlements again", async () => {
      const { provider, bookmaker } = target();
      const batch = batchOf(provider);
      const a1 = acceptedBet(await provider.place(request({ accountId: 'acc-1' })));
      const a2 = acceptedBet(await provider.place(request({ accountId: 'acc-1' })));
      const a3 = acceptedBet(await provider.place(request({ accountId: 'acc-1' })));
      const other = acceptedBet(await provider.place(request({ accountId: 'acc-2' })));
      const empty = await batch.settledSince('acc-1', null, 10);
      assert.equal(empty.kind, 'answered');
      if (empty.kind !== 'answered') return;
      assert.deepEqual(empty.bets, []);
      bookmaker.settle(a1.ticketId, 'won');
      bookmaker.settle(other.ticketId, 'lost');
      bookmaker.settle(a2.ticketId, 'half_won');
      bookmaker.settle(a3.ticketId, 'half_lost');
      const page1 = await batch.settledSince('acc-1', empty.cursor, 2);
      assert.ok(page1.kind === 'answered');
      assert.deepEqual(page1.bets.map((b) => [b.ticketId, b.status]), [[a1.ticketId, 'won'], [a2.ticketId, 'half_won']]);
      assert.equal(page1.more, true);
      const page2 = await batch.settledSince('acc-1', page1.cursor, 2);
      assert.ok(page2.kind === 'answered');
      assert.deepEqual(page2.bets.map((b) => [b.ticketId, b.status]), [[a3.ticketId, 'half_lost']]);
      assert.equal(page2.more, false);
      const none = await batch.settledSince('acc-1', page2.cursor, 2);
      assert.ok(none.kind === 'answered');
      assert.deepEqual(none.bets, []);
      assert.equal(none.cursor, page2.cursor, 'nothing new: the same cursor');
      bookmaker.settle(a1.ticketId, 'void');
      const resettled = await batch.settledSince('acc-1', none.cursor, 2);
      assert.ok(resettled.kind === 'answered');
      assert.deepEqual(resettled.bets.map((b) => [b.ticketId, b.status]), [[a1.ticketId, 'void']]);
      const otherFeed = await batch.settledSince('acc-2', null, 10);
      assert.ok(otherFeed.kind === 'answered');
      assert.deepEqual(otherFeed.bets.map((b) => b.ticketId), [other.ticketId]);
    });

    it('puts automatic and scheduled settlements in the feed once their time has come', async () => {
      const { provider, bookmaker, clock } = target();
      const batch = batchOf(provider);
      const auto = acceptedBet(await provider.place(request({ accountId: 'acc-1' })));
      const scheduled = acceptedBet(await provider.place(request({ accountId: 'acc-1' })));
      bookmaker.settleAt(scheduled.ticketId, 'lost', clock.nowMs + 500);
      clock.advance(499);
      const early = await batch.settledSince('acc-1', null, 10);
      assert.ok(early.kind === 'answered');
      assert.deepEqual(early.bets, []);
      clock.advance(501); // 1000 ms after acceptance: the automatic settlement is due too
      const late = await batch.settledSince('acc-1', early.cursor, 10);
      assert.ok(late.kind === 'answered');
      assert.deepEqual(late.bets.map((b) => [b.ticketId, b.status]).sort(), [[auto.ticketId, foundStatus(await provider.status(auto.ticketId))], [scheduled.ticketId, 'lost']].sort());
    });
  });
}

function describeSettlement(target: () => Target, make: MakeTarget): void {
  describe('settlement', () => {
    it('reports an explicit settlement on status', async () => {
      const { provider, bookmaker } = target();
      const bet = acceptedBet(await provider.place(request()));
      bookmaker.settle(bet.ticketId, 'half_lost');
      assert.equal(foundStatus(await provider.status(bet.ticketId)), 'half_lost');
    });

    it('settles automatically once settleAfterMs has passed since acceptance', async () => {
      const { provider, clock } = target();
      const bet = acceptedBet(await provider.place(request()));
      clock.advance(999);
      assert.equal(foundStatus(await provider.status(bet.ticketId)), 'accepted');
      clock.advance(1);
      assert.ok(['won', 'lost', 'void', 'half_won', 'half_lost'].includes(foundStatus(await provider.status(bet.ticketId))));
    });

    it('never settles automatically when settleAfterMs is null', async () => {
      const never = await make({ settleAfterMs: null });
      try {
        const bet = acceptedBet(await never.provider.place(request()));
        never.clock.advance(10_000_000);
        assert.equal(foundStatus(await never.provider.status(bet.ticketId)), 'accepted');
      } finally {
        await never.close();
      }
    });

    it('settles both sides of every event consistently, and the same way for the same seed', async () => {
      const first = await settleEvents(make, 42);
      const second = await settleEvents(make, 42);
      assert.deepEqual(first, second);
      const allowed = new Set(['won/lost', 'lost/won', 'void/void', 'half_won/half_lost']);
      for (const pair of first) assert.ok(allowed.has(pair), `inconsistent settlement ${pair}`);
      assert.equal(settlementEvents.length, 30);
      for (const pair of allowed) assert.ok(first.includes(pair), `no event settled ${pair}`);
      const otherSeed = await settleEvents(make, 43);
      assert.notDeepEqual(otherSeed, first, 'the seed changes the results');
    });
  });
}

/** 26 events of seed 42 that one side wins, plus 2 it voids and 2 it splits, so every branch is exercised. */
function eventsCoveringEveryResult(seed: number): string[] {
  const picked = { void: [] as string[], half: [] as string[], win: [] as string[] };
  const wanted = { void: 2, half: 2, win: 26 };
  for (let n = 0; n < 10_000 && picked.void.length + picked.half.length + picked.win.length < 30; n++) {
    const eventId = `ev-${n}`;
    const kind = eventResult(seed, eventId, 'match_winner').kind;
    if (picked[kind].length < wanted[kind]) picked[kind].push(eventId);
  }
  return [...picked.void, ...picked.half, ...picked.win];
}
const settlementEvents = eventsCoveringEveryResult(42);

/** Places home and away on every settlement event, lets them settle, answers `home/away` per event. */
async function settleEvents(make: MakeTarget, seed: number): Promise<string[]> {
  const t = await make({ seed, settleAfterMs: 10 });
  try {
    const tickets: [string, string][] = [];
    for (const eventId of settlementEvents) {
      const home = acceptedBet(await t.provider.place(request({ eventId, selection: 'home' })));
      const away = acceptedBet(await t.provider.place(request({ eventId, selection: 'Away' })));
      tickets.push([home.ticketId, away.ticketId]);
    }
    t.clock.advance(10);
    const results: string[] = [];
    for (const [home, away] of tickets) {
      results.push(`${foundStatus(await t.provider.status(home))}/${foundStatus(await t.provider.status(away))}`);
    }
    return results;
  } finally {
    await t.close();
  }
}

describeConformance('InProcessProvider(SimBookmaker)', makeInProcess);
describeConformance('HttpProvider → sim server over loopback', makeHttp);
