// Circuits in Redis: the Lua steps apply src/domain/circuit.ts's rules exactly (random sequences run side by side),
// the sliding window, the events with their figures, and preflight / a positive resend refused on an open circuit.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import {
  accountCircuit, addCounts, closedCircuit, emptyCounts, formatCircuitScope, providerCircuit, stepCircuit,
  type CircuitKind, type CircuitRecord, type CircuitScope, type CircuitSettings, type WindowCounts,
} from '../../src/domain/circuit.js';
import { newPairDoc, newPlacement, type PairDoc } from '../../src/domain/pair.js';
import { parseBetPair } from '../../src/domain/validation.js';
import { CircuitStore } from '../../src/store/circuit.js';
import { circuitKeys, eventsStream } from '../../src/store/keys.js';
import { pairCircuitKeys, readStream, Store } from '../../src/store/store.js';
import { makePair } from '../support/harness.js';
import { freshRedisUrl } from '../support/redis.js';

const actor = { by: 'alice', via: 'cli' as const };

function counts(place: [number, number], read: [number, number] = [0, 0], accountFail = 0): WindowCounts {
  return { place: { ok: place[0], fail: place[1] }, read: { ok: read[0], fail: read[1] }, accountFail };
}

type Op =
  | { kind: 'report'; batch: WindowCounts; gen: 'seen' | 'none' | 'other' }
  | { kind: 'probe_begin' }
  | { kind: 'probe_end'; ok: boolean; own: boolean; oldGeneration: boolean }
  | { kind: 'force_open' }
  | { kind: 'force_close' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ pf: fc.nat(8), po: fc.nat(3), rf: fc.nat(8), ro: fc.nat(3), af: fc.nat(2), gen: fc.constantFrom('seen' as const, 'none' as const, 'other' as const) })
    .map((x): Op => ({ kind: 'report', batch: counts([x.po, x.pf], [x.ro, x.rf], x.af), gen: x.gen })) },
  { weight: 3, arbitrary: fc.constant<Op>({ kind: 'probe_begin' }) },
  { weight: 3, arbitrary: fc.record({ ok: fc.boolean(), own: fc.nat(3).map((n) => n > 0), oldGeneration: fc.nat(3).map((n) => n === 0) }).map((x): Op => ({ kind: 'probe_end', ...x })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'force_open' }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'force_close' }) },
);

const fail: Op = { kind: 'report', batch: counts([0, 1]), gen: 'seen' };
const begin: Op = { kind: 'probe_begin' };
const endOk = (ok: boolean): Op => ({ kind: 'probe_end', ok, own: true, oldGeneration: false });

describe('circuits in Redis', () => {
  let redis: Redis;
  let circuits: CircuitStore;
  before(async () => {
    redis = new Redis(await freshRedisUrl());
    circuits = new CircuitStore(redis, 10_000);
  });
  after(() => redis.disconnect());

  it('the Lua steps and the domain state machine agree on every reply, state, generation and streak', async () => {
    const covered = new Set<string>();
    // Time drops out: a window of an hour (nothing expires), and cool-offs and probe locks either 0 (always due)
    // or far beyond the test (never due), so Redis time and the model's clock take the same decisions.
    await fc.assert(fc.asyncProperty(
      fc.constantFrom<CircuitKind>('provider', 'account'),
      fc.record({ minVolume: fc.integer({ min: 1, max: 6 }), failureRatio: fc.constantFrom(0.25, 0.5, 0.75, 1), accountFailuresMin: fc.integer({ min: 1, max: 3 }), due: fc.nat(3).map((n) => n > 0), lockExpires: fc.boolean() }),
      fc.array(opArb, { minLength: 1, maxLength: 40 }),
      async (kind, x, ops) => {
        const coolOffMs = x.due ? 0 : 10 ** 9;
        const s: CircuitSettings = { windowMs: 3_600_000, failureRatio: x.failureRatio, minVolume: x.minVolume, accountFailuresMin: x.accountFailuresMin, coolOffMs, coolOffMsMax: coolOffMs };
        const lockMs = x.lockExpires ? 0 : 10 ** 9;
        const id = randomUUID().slice(0, 8);
        const scope: CircuitScope = kind === 'provider' ? providerCircuit(`p${id}`) : accountCircuit(`p${id}`, `A${id}`);
        let model: CircuitRecord = closedCircuit();
        let window = emptyCounts();
        let transitions = 0;
        const seen = new Set<string>();
        let grantedToken: string | null = null;
        for (const [i, op] of ops.entries()) {
          const nowMs = Date.now();
          let got: { reply: string; state: string; generation: number };
          let step;
          switch (op.kind) {
            case 'report': {
              const generationSeen = op.gen === 'none' ? null : op.gen === 'seen' ? model.generation : model.generation + 7;
              const counted = model.state === 'closed' && (generationSeen === null || generationSeen === model.generation);
              const next = counted ? addCounts(window, op.batch) : window;
              step = stepCircuit(model, { kind: 'report', generationSeen, window: next }, nowMs, s, kind);
              if (counted) window = next;
              got = await circuits.report(scope, op.batch, generationSeen, s, 'why');
              break;
            }
            case 'probe_begin': {
              const token = `t${i}`;
              step = stepCircuit(model, { kind: 'probe_begin', token, lockMs }, nowMs, s, kind);
              got = await circuits.probeBegin(scope, token, lockMs);
              if (got.reply === 'ok') grantedToken = token;
              break;
            }
            case 'probe_end': {
              const token = op.own ? grantedToken ?? 'none' : 'stranger';
              const generation = model.generation - (op.oldGeneration ? 1 : 0);
              step = stepCircuit(model, { kind: 'probe_end', token, generation, ok: op.ok }, nowMs, s, kind);
              got = await circuits.probeEnd(scope, token, generation, op.ok, 'probe', s);
              break;
            }
            case 'force_open':
              step = stepCircuit(model, { kind: 'force_open' }, nowMs, s, kind);
              got = await circuits.force('open', scope, 'checking', actor);
              break;
            case 'force_close':
              step = stepCircuit(model, { kind: 'force_close' }, nowMs, s, kind);
              got = await circuits.force('close', scope, 'checked', actor);
              break;
          }
          const where = `op ${i} ${JSON.stringify(op)} on ${JSON.stringify(model)}`;
          assert.equal(got.reply, step.reply, where);
          assert.equal(got.state, step.record.state, where);
          assert.equal(got.generation, step.record.generation, where);
          if (step.clearWindow) window = emptyCounts();
          if (step.transition) {
            transitions++;
            seen.add(`${step.transition.from}>${step.transition.to}:${step.transition.reason}`);
            covered.add(`${step.transition.from}>${step.transition.to}:${step.transition.reason}`);
          }
          model = step.record;
          const stored = await circuits.get(scope);
          if (stored) {
            assert.equal(stored.forced, model.forced, where);
            assert.equal(stored.streak, model.streak, where);
          }
        }
        const events = (await readStream(redis, eventsStream, 1_000_000)).filter((e) => e.data.scope === formatCircuitScope(scope));
        assert.equal(events.length, transitions, 'one event per transition');
        assert.equal(seen.size <= transitions, true);
      },
    ), {
      numRuns: 150,
      // Sequences that walk every transition, so that coverage does not rest on the random ones alone.
      examples: [
        ['provider', { minVolume: 1, failureRatio: 0.5, accountFailuresMin: 1, due: true, lockExpires: false }, [
          fail, begin, { kind: 'force_open' }, { kind: 'force_close' }, fail, begin, endOk(true), fail, begin, endOk(false), { kind: 'force_close' },
          { kind: 'force_open' }, { kind: 'force_close' }, fail, { kind: 'force_open' },
        ]],
        ['account', { minVolume: 1, failureRatio: 0.5, accountFailuresMin: 1, due: true, lockExpires: false }, [
          { kind: 'report', batch: counts([0, 0], [0, 0], 1), gen: 'seen' }, begin, { kind: 'force_close' },
        ]],
      ],
    });
    // The sequences reached every transition of the machine.
    for (const t of ['closed>open:failure_ratio', 'closed>open:account_failures', 'open>half_open:cool_off_over', 'half_open>closed:probe_succeeded', 'half_open>open:probe_failed', 'closed>open:forced', 'open>open:forced', 'half_open>open:forced', 'open>closed:forced', 'half_open>closed:forced']) {
      assert.ok(covered.has(t), `covered ${t}: ${[...covered].join(', ')}`);
    }
  });

  it('opens with the figures that tripped it, on the events and audit streams in the same step', async () => {
    const scope = providerCircuit('bookFig');
    const s: CircuitSettings = { windowMs: 60_000, failureRatio: 0.5, minVolume: 4, accountFailuresMin: 3, coolOffMs: 5_000, coolOffMsMax: 50_000 };
    assert.equal((await circuits.report(scope, counts([2, 1]), null, s, '')).state, 'closed');
    const opened = await circuits.report(scope, counts([0, 1], [500, 0]), null, s, 'timeout');
    assert.equal(opened.opened, true);
    const [event] = (await readStream(redis, eventsStream, 1_000_000)).filter((e) => e.type === 'circuit_opened' && e.data.scope === 'provider:bookFig');
    assert.ok(event);
    assert.equal(event.data.reason, 'failure_ratio');
    assert.equal(event.data.provider, 'bookFig');
    assert.equal(event.data.accountId, null);
    assert.deepEqual(event.data.window, { windowMs: 60_000, class: 'place', failures: 2, volume: 4, ratio: 0.5, failureRatio: 0.5, minVolume: 4 });
    assert.equal(event.data.detail, 'timeout');
    assert.equal(event.data.coolOffMs, 5_000);
    const view = await circuits.get(scope);
    assert.equal(view?.state, 'open');
    assert.equal(view?.lastChange?.reason, 'failure_ratio');
    assert.ok((await redis.zscore(circuitKeys.notClosed, 'provider:bookFig')) !== null, 'on the probers\' list');
    assert.equal((await circuits.transitionCounts())['bookFig:provider:open'], 1);
    const audited = (await readStream(redis, 'bet-executor:audit', 1_000_000)).filter((e) => e.type === 'circuit_opened' && e.data.scope === 'provider:bookFig');
    assert.equal(audited.length, 1);
  });

  it('counts only the last window: outcomes older than windowMs drop out', async () => {
    const scope = providerCircuit('bookWin');
    const s: CircuitSettings = { windowMs: 400, failureRatio: 0.5, minVolume: 4, accountFailuresMin: 3, coolOffMs: 5_000, coolOffMsMax: 5_000 };
    await circuits.report(scope, counts([0, 3]), null, s, '');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await circuits.report(scope, counts([0, 1]), null, s, '')).state, 'closed', '3 failures aged out: 1 of 1 < minVolume');
    assert.equal((await circuits.report(scope, counts([0, 3]), null, s, '')).state, 'open', '4 failures within the window');
  });

  it('a forced open is audited with who, through what and why, and listed', async () => {
    const scope = accountCircuit('bookB', 'ACC-9');
    assert.equal((await circuits.force('open', scope, 'account under review', { by: 'bob', via: 'api' })).reply, 'ok');
    assert.equal((await circuits.force('open', scope, 'still under review', { by: 'bob', via: 'api' })).reply, 'already');
    const view = await circuits.get(scope);
    assert.equal(view?.scope, 'account:bookB:acc-9');
    assert.equal(view?.forced, true);
    assert.equal(view?.note, 'still under review');
    const audit = (await readStream(redis, 'bet-executor:audit', 1_000_000)).filter((e) => e.data.scope === 'account:bookB:acc-9');
    assert.deepEqual(audit.map((e) => [e.type, e.data.by, e.data.via, e.data.note]), [
      ['circuit_opened', 'bob', 'api', 'account under review'],
      ['circuit_forced_open_again', 'bob', 'api', 'still under review'],
    ]);
    const listed = await circuits.list();
    assert.ok(listed.items.some((c) => c.scope === 'account:bookB:acc-9' && c.state === 'open'));
    assert.equal((await circuits.probeBegin(scope, 't', 0)).reply, 'busy', 'a forced-open circuit is never probed');
    assert.equal((await redis.zscore(circuitKeys.notClosed, 'account:bookB:acc-9')), 'inf');
  });
});

function docFor(raw: unknown): PairDoc {
  const parsed = parseBetPair(raw, { stakeMinorMax: 1_000_000 });
  assert.ok(parsed.ok);
  return newPairDoc(parsed.pair, 'job-1', Date.now());
}

describe('a pair on an open circuit', () => {
  let redis: Redis;
  let store: Store;
  let circuits: CircuitStore;
  before(async () => {
    redis = new Redis(await freshRedisUrl());
    store = new Store(redis, 10_000);
    circuits = new CircuitStore(redis, 10_000);
  });
  after(() => redis.disconnect());

  async function preflight(doc: PairDoc) {
    await store.claim(doc.arbId, 'token', 60_000, doc, 60_000);
    const positive = newPlacement(doc.pair, 'positive', 1, doc.pair.positive.stakeMinor, doc.pair.positive.oddsMilli, Date.now());
    return store.preflight({
      arbId: doc.arbId, token: 'token', rev: 1, doc: { ...doc, state: 'positive_placing', positive }, nowMs: Date.now(),
      cooldownHoldMs: { positive: 1_000, hedge: 1_000 }, ageBaseMs: null, arbAgeMsMax: 60_000, createdAtMs: null, createdAtSkewMsMax: 5_000,
      rateLimit: { placementsMax: 100, windowMs: 60_000 }, audit: [],
    });
  }

  for (const [name, scopeOf] of [
    ['the positive\'s bookmaker', (d: PairDoc) => providerCircuit(d.pair.positive.provider)],
    ['the hedge\'s bookmaker', (d: PairDoc) => providerCircuit(d.pair.hedge.provider)],
    ['the positive\'s account', (d: PairDoc) => accountCircuit(d.pair.positive.provider, d.pair.positive.accountId)],
    ['the hedge\'s account', (d: PairDoc) => accountCircuit(d.pair.hedge.provider, d.pair.hedge.accountId)],
  ] as const) {
    it(`is refused at preflight when the circuit of ${name} is open: circuit_open naming it, nothing claimed`, async () => {
      const doc = docFor(makePair({}, { positive: { provider: 'bookA' }, hedge: { provider: 'bookB' } }));
      const scope = scopeOf(doc);
      await circuits.force('open', scope, 'test', actor);
      try {
        const result = await preflight(doc);
        assert.deepEqual(result, { kind: 'blocked', reason: 'circuit_open', remainingMs: 0, circuit: formatCircuitScope(scope) });
        assert.equal(await redis.exists(`cooldown:wl1:bookA:${doc.pair.positive.accountId}`, `cooldown:wl1:bookB:${doc.pair.hedge.accountId}`), 0, 'no cooldown claimed');
      } finally {
        await circuits.force('close', scope, 'test over', actor);
      }
    });
  }

  it('passes once the circuit is closed, and a half-open circuit refuses like an open one (time left until a probe)', async () => {
    const doc = docFor(makePair());
    const scope = providerCircuit(doc.pair.hedge.provider);
    const s: CircuitSettings = { windowMs: 60_000, failureRatio: 0.5, minVolume: 1, accountFailuresMin: 1, coolOffMs: 60_000, coolOffMsMax: 60_000 };
    await circuits.report(scope, counts([0, 1]), null, s, '');
    const refused = await preflight(doc);
    assert.equal(refused.kind, 'blocked');
    assert.ok(refused.kind === 'blocked' && refused.remainingMs > 55_000 && refused.remainingMs <= 60_000, 'until the cool-off ends');
    await circuits.force('close', scope, 'ok now', actor);
    const other = docFor(makePair());
    assert.equal((await preflight(other)).kind, 'passed');
    assert.equal(pairCircuitKeys(other.pair).length, 4);
  });

  it('a positive resend re-checks the circuits in its step: refused circuit_open, nothing journaled', async () => {
    const doc = docFor(makePair());
    assert.equal((await preflight(doc)).kind, 'passed');
    const scope = providerCircuit(doc.pair.hedge.provider);
    await circuits.force('open', scope, 'hedge bookmaker sick', actor);
    try {
      const loaded = await store.loadPair(doc.arbId);
      assert.ok(loaded);
      const result = await store.transition({
        arbId: doc.arbId, token: 'token', rev: loaded.rev, from: 'positive_placing', doc: loaded.doc, closes: false, nowMs: Date.now(),
        guards: { killKeys: pairCircuitKeys(doc.pair), ageBaseMs: null, arbAgeMsMax: 60_000 },
      });
      assert.deepEqual(result, { kind: 'blocked', reason: 'circuit_open', remainingMs: 0, circuit: formatCircuitScope(scope) });
      assert.equal((await store.loadPair(doc.arbId))?.rev, loaded.rev, 'nothing written');
    } finally {
      await circuits.force('close', scope, 'test over', actor);
    }
  });
});
