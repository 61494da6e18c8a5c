// The circuit breaker's rules (pure): scopes, what counts as a failure, when a circuit trips, the cool-off, and the
// state machine's invariants over random sequences.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  circuitScopeFromFlags, classifyPlacement, classifyRead, closedCircuit, coolOffMsFor, emptyCounts, formatCircuitScope, parseCircuitScope, stepCircuit, tripOf,
  type CircuitInput, type CircuitKind, type CircuitRecord, type CircuitSettings, type WindowCounts,
} from '../../src/domain/circuit.js';

const settings: CircuitSettings = { windowMs: 30_000, failureRatio: 0.5, minVolume: 10, accountFailuresMin: 3, coolOffMs: 30_000, coolOffMsMax: 300_000 };
const reasons = ['account_limited', 'http_429'];

function counts(place: [number, number], read: [number, number] = [0, 0], accountFail = 0): WindowCounts {
  return { place: { ok: place[0], fail: place[1] }, read: { ok: read[0], fail: read[1] }, accountFail };
}

describe('circuit scopes', () => {
  it('have one text form, account ids in lower case, and parse back', () => {
    assert.equal(formatCircuitScope({ kind: 'provider', provider: 'bookB' }), 'provider:bookB');
    const parsed = parseCircuitScope('account:bookB:Acc-7');
    assert.ok(parsed.ok);
    assert.equal(formatCircuitScope(parsed.scope), 'account:bookB:acc-7');
    assert.deepEqual(circuitScopeFromFlags({ provider: 'bookB', account: 'ACC' }), { ok: true, scope: { kind: 'account', provider: 'bookB', accountId: 'acc' } });
  });

  it('refuse empty, partial and malformed scopes instead of defaulting to anything', () => {
    for (const text of ['', 'provider', 'provider:', 'provider:a:b', 'account:bookB', 'account::x', 'global', 'provider:a b', 'kill:bookB']) {
      assert.equal(parseCircuitScope(text).ok, false, text);
    }
    assert.equal(circuitScopeFromFlags({}).ok, false);
    assert.equal(circuitScopeFromFlags({ provider: '' }).ok, false);
    assert.equal(circuitScopeFromFlags({ provider: 'bookB', account: '' }).ok, false);
  });
});

describe('what counts toward a circuit', () => {
  const rows: Array<[string, Parameters<typeof classifyPlacement>[0], 'success' | 'failure' | null, boolean]> = [
    ['accepted', { kind: 'accepted' }, 'success', false],
    ['pending', { kind: 'pending' }, 'success', false],
    ['rejected by a business rule (odds moved)', { kind: 'rejected', reason: 'odds_moved' }, 'success', false],
    ['rejected http_400', { kind: 'rejected', reason: 'http_400:bad_request' }, 'success', false],
    ['in doubt (timeout, 5xx, reset)', { kind: 'in_doubt' }, 'failure', false],
    ['not sent (connection refused)', { kind: 'not_sent' }, 'failure', false],
    ['401/403: the account, not the bookmaker', { kind: 'rejected', reason: 'unauthorized: the bookmaker refused our credentials (http_401)' }, null, true],
    ['an account limit', { kind: 'rejected', reason: 'account_limited' }, null, true],
    ['429 with its error name', { kind: 'rejected', reason: 'http_429:too_many' }, null, true],
    ['a reason that only starts like one', { kind: 'rejected', reason: 'account_limited_today' }, 'success', false],
  ];
  for (const [name, outcome, provider, account] of rows) {
    it(`placement ${name}: bookmaker ${provider ?? 'not counted'}, account ${account ? 'failure' : 'not counted'}`, () => {
      const c = classifyPlacement(outcome, reasons);
      assert.equal(c.class, 'place');
      assert.equal(c.provider, provider);
      assert.equal(c.accountFailure, account);
    });
  }

  it('reads: found and not_found are a working bookmaker, unavailable is not', () => {
    assert.equal(classifyRead({ kind: 'found' }).provider, 'success');
    assert.equal(classifyRead({ kind: 'not_found' }).provider, 'success');
    assert.equal(classifyRead({ kind: 'unavailable' }).provider, 'failure');
    assert.equal(classifyRead({ kind: 'unavailable' }).class, 'read');
  });
});

describe('when a circuit trips', () => {
  it('needs the minimum volume in a class, then the failure ratio', () => {
    assert.equal(tripOf('provider', counts([0, 9]), settings), null, '9 failures < minVolume 10');
    assert.deepEqual(tripOf('provider', counts([0, 10]), settings), { class: 'place', failures: 10, volume: 10, ratio: 1 });
    assert.deepEqual(tripOf('provider', counts([5, 5]), settings), { class: 'place', failures: 5, volume: 10, ratio: 0.5 });
    assert.equal(tripOf('provider', counts([6, 4]), settings), null);
  });

  it('counts placements and reads apart: healthy reads do not hide failing placements', () => {
    assert.equal(tripOf('provider', counts([0, 10], [1_000, 0]), settings)?.class, 'place');
    assert.equal(tripOf('provider', counts([1_000, 0], [2, 10]), settings)?.class, 'read');
    assert.equal(tripOf('provider', counts([4, 5], [6, 5]), settings), null, 'neither class has both volume and ratio');
  });

  it('opens an account circuit on its failures alone', () => {
    assert.equal(tripOf('account', counts([0, 100], [0, 100], 2), settings), null);
    assert.equal(tripOf('account', counts([0, 0], [0, 0], 3), settings)?.class, 'account');
  });

  it('doubles the cool-off for each open in a row, up to its max', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 100, 10_000].map((n) => coolOffMsFor(n, settings)), [30_000, 60_000, 120_000, 240_000, 300_000, 300_000, 300_000, 300_000]);
    assert.equal(coolOffMsFor(0, settings), 30_000);
  });
});

const inputArb: fc.Arbitrary<(r: CircuitRecord) => CircuitInput> = fc.oneof(
  fc.record({ pf: fc.nat(12), po: fc.nat(12), rf: fc.nat(12), ro: fc.nat(12), af: fc.nat(4), gen: fc.constantFrom('seen', 'none', 'other') })
    .map((x) => (r: CircuitRecord): CircuitInput => ({
      kind: 'report',
      generationSeen: x.gen === 'none' ? null : x.gen === 'seen' ? r.generation : r.generation + 1,
      window: counts([x.po, x.pf], [x.ro, x.rf], x.af),
    })),
  fc.integer({ min: 0, max: 5 }).map((lockMs) => (): CircuitInput => ({ kind: 'probe_begin', token: `t${lockMs}`, lockMs })),
  fc.record({ ok: fc.boolean(), own: fc.boolean() }).map((x) => (r: CircuitRecord): CircuitInput => ({ kind: 'probe_end', token: x.own ? r.probeToken ?? 'none' : 'stranger', generation: r.generation, ok: x.ok })),
  fc.constant((): CircuitInput => ({ kind: 'force_open' })),
  fc.constant((): CircuitInput => ({ kind: 'force_close' })),
);

describe('the state machine', () => {
  it('keeps its invariants over any sequence of reports, probes and forced changes', () => {
    fc.assert(fc.property(fc.constantFrom<CircuitKind>('provider', 'account'), fc.array(fc.tuple(inputArb, fc.nat(100_000)), { maxLength: 60 }), (kind, steps) => {
      let record = closedCircuit();
      let nowMs = 1_000_000;
      for (const [make, advanceMs] of steps) {
        nowMs += advanceMs;
        const input = make(record);
        const step = stepCircuit(record, input, nowMs, settings, kind);
        const next = step.record;
        if (step.transition === null) {
          assert.equal(next.generation, record.generation, 'no transition, same generation');
          assert.equal(next.state, record.state);
        } else {
          assert.equal(next.generation, record.generation + 1, 'every transition bumps the generation once');
          assert.equal(step.transition.from, record.state);
          assert.equal(step.transition.to, next.state);
          assert.ok(step.clearWindow, 'a transition starts a fresh window');
        }
        // Only a probe that succeeded, or an operator, closes a circuit; only a probe lock makes it half-open.
        if (record.state !== 'closed' && next.state === 'closed') {
          assert.ok((input.kind === 'probe_end' && input.ok) || input.kind === 'force_close', `closed by ${input.kind}`);
        }
        if (next.state === 'half_open' && record.state !== 'half_open') {
          assert.equal(input.kind, 'probe_begin');
          assert.equal(record.state, 'open');
          assert.ok(record.openUntilMs !== null && nowMs >= record.openUntilMs, 'only after the cool-off');
        }
        // A forced-open circuit stays open until it is forced closed: reports, probes change nothing.
        if (record.forced && input.kind !== 'force_close') {
          assert.equal(next.state, 'open');
          assert.equal(next.forced, true);
        }
        if (next.forced) assert.equal(next.state, 'open');
        // A report counts only on a closed circuit of its own generation.
        if (input.kind === 'report' && (record.state !== 'closed' || (input.generationSeen !== null && input.generationSeen !== record.generation))) {
          assert.equal(step.reply, 'dropped');
        }
        // A circuit opened (not forced) knows when it may be probed: a cool-off from now, at most the longest.
        if (step.transition?.to === 'open' && !next.forced) {
          assert.ok(next.openUntilMs !== null && next.openUntilMs - nowMs <= settings.coolOffMsMax && next.openUntilMs - nowMs >= settings.coolOffMs);
        }
        if (next.state === 'open' && !next.forced) assert.ok(next.openUntilMs !== null);
        if (next.state === 'half_open') assert.ok(next.probeToken !== null && next.probeUntilMs !== null);
        record = next;
      }
    }));
  });

  it('opens on a trip with the figures, re-opens longer after a failed probe, closes on a good one', () => {
    const open = stepCircuit(closedCircuit(), { kind: 'report', generationSeen: 0, window: counts([0, 10]) }, 0, settings, 'provider');
    assert.deepEqual(open.transition, { from: 'closed', to: 'open', reason: 'failure_ratio' });
    assert.deepEqual(open.trip, { class: 'place', failures: 10, volume: 10, ratio: 1 });
    assert.equal(open.record.openUntilMs, 30_000);
    assert.equal(stepCircuit(open.record, { kind: 'probe_begin', token: 'a', lockMs: 5 }, 29_999, settings, 'provider').reply, 'busy', 'not before the cool-off');
    const half = stepCircuit(open.record, { kind: 'probe_begin', token: 'a', lockMs: 5_000 }, 30_000, settings, 'provider');
    assert.equal(half.record.state, 'half_open');
    assert.equal(stepCircuit(half.record, { kind: 'probe_begin', token: 'b', lockMs: 5_000 }, 31_000, settings, 'provider').reply, 'busy', 'one probe at a time');
    assert.equal(stepCircuit(half.record, { kind: 'probe_end', token: 'b', generation: half.record.generation, ok: true }, 31_000, settings, 'provider').reply, 'fenced');
    const reopened = stepCircuit(half.record, { kind: 'probe_end', token: 'a', generation: half.record.generation, ok: false }, 31_000, settings, 'provider');
    assert.deepEqual(reopened.transition, { from: 'half_open', to: 'open', reason: 'probe_failed' });
    assert.equal(reopened.record.openUntilMs, 31_000 + 60_000, 'the second open in a row waits twice as long');
    const half2 = stepCircuit(reopened.record, { kind: 'probe_begin', token: 'c', lockMs: 5_000 }, 91_000, settings, 'provider');
    const taken = stepCircuit(half2.record, { kind: 'probe_begin', token: 'd', lockMs: 5_000 }, 96_000, settings, 'provider');
    assert.equal(taken.reply, 'ok', 'an expired probe lock is taken over');
    assert.equal(taken.transition, null);
    assert.equal(stepCircuit(taken.record, { kind: 'probe_end', token: 'c', generation: taken.record.generation, ok: true }, 96_001, settings, 'provider').reply, 'fenced');
    const closed = stepCircuit(taken.record, { kind: 'probe_end', token: 'd', generation: taken.record.generation, ok: true }, 96_001, settings, 'provider');
    assert.deepEqual(closed.transition, { from: 'half_open', to: 'closed', reason: 'probe_succeeded' });
    // Tripping again within a window of closing continues the streak; after a calm window it starts again.
    const quick = stepCircuit(closed.record, { kind: 'report', generationSeen: null, window: counts([0, 10]) }, 96_002, settings, 'provider');
    assert.equal(quick.record.streak, 3);
    const calm = stepCircuit(closed.record, { kind: 'report', generationSeen: null, window: counts([0, 10]) }, 96_001 + settings.windowMs, settings, 'provider');
    assert.equal(calm.record.streak, 1);
    assert.equal(calm.record.openUntilMs, 96_001 + settings.windowMs + 30_000);
  });

  it('a forced open is never probed and only a forced close ends it', () => {
    const forced = stepCircuit(closedCircuit(), { kind: 'force_open' }, 0, settings, 'provider').record;
    assert.equal(stepCircuit(forced, { kind: 'probe_begin', token: 'a', lockMs: 1 }, 10 ** 12, settings, 'provider').reply, 'busy');
    assert.equal(stepCircuit(forced, { kind: 'force_open' }, 1, settings, 'provider').reply, 'already');
    const closed = stepCircuit(forced, { kind: 'force_close' }, 2, settings, 'provider');
    assert.deepEqual(closed.transition, { from: 'open', to: 'closed', reason: 'forced' });
    assert.equal(stepCircuit(closed.record, { kind: 'force_close' }, 3, settings, 'provider').reply, 'already');
    assert.equal(emptyCounts().accountFail, 0);
  });
});
