// The fenced journal: a worker that lost its lease, or holds a stale revision, cannot write.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { newPairDoc, type PairDoc } from '../../src/domain/pair.js';
import { parseBetPair } from '../../src/domain/validation.js';
import { FencedError, Store } from '../../src/store/store.js';
import { makePair } from '../support/harness.js';
import { storeOnFreshRedis } from '../support/redis.js';

function docFor(raw: unknown): PairDoc {
  const parsed = parseBetPair(raw, { stakeMinorMax: 1_000_000 });
  assert.ok(parsed.ok);
  return newPairDoc(parsed.pair, 'job-1', Date.now());
}

describe('the fenced journal', () => {
  let redis: Redis;
  let store: Store;
  before(async () => {
    ({ redis, store } = await storeOnFreshRedis());
  });
  after(() => redis.disconnect());

  it('refuses the late write of a worker whose lease expired and was taken over', async () => {
    const doc = docFor(makePair());
    const first = await store.claim(doc.arbId, 'token-A', 60_000, doc, 60_000);
    assert.equal(first.kind, 'created');
    assert.equal((await store.claim(doc.arbId, 'token-B', 60_000, doc, 60_000)).kind, 'busy', 'held lease');
    await redis.pexpire(`lock:arb:${doc.arbId}`, 1); // A is frozen past its lease
    while ((await redis.exists(`lock:arb:${doc.arbId}`)) === 1) await new Promise((r) => setTimeout(r, 1));
    const second = await store.claim(doc.arbId, 'token-B', 60_000, doc, 60_000);
    assert.equal(second.kind, 'existing');
    const next: PairDoc = { ...doc, state: 'blocked' };
    await assert.rejects(store.transition({ arbId: doc.arbId, token: 'token-A', rev: 1, from: 'received', doc: next, closes: true, nowMs: Date.now() }), FencedError);
    const ok = await store.transition({ arbId: doc.arbId, token: 'token-B', rev: 1, from: 'received', doc: next, closes: true, nowMs: Date.now() });
    assert.deepEqual(ok, { kind: 'ok', rev: 2 });
    assert.equal((await store.loadPair(doc.arbId))?.doc.state, 'blocked');
  });

  it('refuses a write from a stale revision even with the right lease', async () => {
    const doc = docFor(makePair());
    await store.claim(doc.arbId, 'token-C', 60_000, doc, 60_000);
    await store.transition({ arbId: doc.arbId, token: 'token-C', rev: 1, from: 'received', doc: { ...doc, state: 'positive_placing' }, closes: false, nowMs: Date.now() });
    await assert.rejects(store.transition({ arbId: doc.arbId, token: 'token-C', rev: 1, from: 'positive_placing', doc: { ...doc, state: 'blocked' }, closes: true, nowMs: Date.now() }), /moved on/);
  });

  it('refuses a write whose expected from-state is not the journal\'s, even with the right lease and revision', async () => {
    const doc = docFor(makePair());
    await store.claim(doc.arbId, 'token-F', 60_000, doc, 60_000);
    // A writer that believes the pair is already placing (it is still received) must not move it on.
    await assert.rejects(
      store.transition({ arbId: doc.arbId, token: 'token-F', rev: 1, from: 'positive_placing', doc: { ...doc, state: 'hedge_placing' }, closes: false, nowMs: Date.now() }),
      /not the expected from-state/,
    );
    assert.equal((await store.loadPair(doc.arbId))?.doc.state, 'received');
  });

  it('blocks a guarded write while a kill switch applies, writing nothing', async () => {
    const doc = docFor(makePair());
    await store.claim(doc.arbId, 'token-G', 60_000, doc, 60_000);
    await redis.set('be:kill:test-guard', 'halt');
    const result = await store.transition({
      arbId: doc.arbId, token: 'token-G', rev: 1, from: 'received', doc: { ...doc, state: 'positive_placing' }, closes: false, nowMs: Date.now(),
      guards: { killKeys: ['be:kill:test-guard'], ageBaseMs: Date.now(), arbAgeMsMax: 60_000 },
    });
    assert.equal(result.kind, 'blocked');
    assert.equal(result.kind === 'blocked' && result.reason, 'kill_switch');
    await redis.del('be:kill:test-guard');
    const stale = await store.transition({
      arbId: doc.arbId, token: 'token-G', rev: 1, from: 'received', doc: { ...doc, state: 'positive_placing' }, closes: false, nowMs: Date.now(),
      guards: { killKeys: ['be:kill:test-guard'], ageBaseMs: Date.now() - 120_000, arbAgeMsMax: 60_000 },
    });
    assert.equal(stale.kind === 'blocked' && stale.reason, 'stale');
    assert.equal((await store.loadPair(doc.arbId))?.rev, 1);
  });

  it('refuses to refresh a cooldown another pair holds, writing nothing', async () => {
    const doc = docFor(makePair());
    await store.claim(doc.arbId, 'token-D', 60_000, doc, 60_000);
    await redis.set('cooldown:wl1:bookB:acc-x', '1', 'PX', 60_000);
    await redis.set('be:cooldown-owner:wl1:bookB:acc-x', 'another-arb', 'PX', 60_000);
    const result = await store.transition({
      arbId: doc.arbId, token: 'token-D', rev: 1, from: 'received', doc: { ...doc, state: 'positive_placing' }, closes: false, nowMs: Date.now(),
      cooldowns: [{ key: 'cooldown:wl1:bookB:acc-x', ownerKey: 'be:cooldown-owner:wl1:bookB:acc-x', mode: 'claim', holdMs: 1000 }],
      events: [{ type: 'x', data: {} }],
    });
    assert.deepEqual(result, { kind: 'cooldown_conflict' });
    assert.equal((await store.loadPair(doc.arbId))?.rev, 1);
    assert.equal(await redis.xlen('bet-executor:events'), 0);
  });

  it('touches an account just bet on (restarts its cooldown) but leaves one another pair holds', async () => {
    const doc = docFor(makePair());
    await store.claim(doc.arbId, 'token-E', 60_000, doc, 60_000);
    await redis.set('cooldown:wl1:bookB:acc-y', '1', 'PX', 60_000);
    await redis.set('be:cooldown-owner:wl1:bookB:acc-y', 'another-arb', 'PX', 60_000);
    // The key first: its owner outlives it by a hair, never the reverse (which reads as another holder's key).
    await redis.set('cooldown:wl1:bookA:acc-z', '1', 'PX', 10);
    await redis.set('be:cooldown-owner:wl1:bookA:acc-z', doc.arbId, 'PX', 10);
    const result = await store.transition({
      arbId: doc.arbId, token: 'token-E', rev: 1, from: 'received', doc: { ...doc, state: 'positive_placing' }, closes: false, nowMs: Date.now(),
      cooldowns: [
        { key: 'cooldown:wl1:bookA:acc-z', ownerKey: 'be:cooldown-owner:wl1:bookA:acc-z', mode: 'touch', holdMs: 5_000 },
        { key: 'cooldown:wl1:bookB:acc-y', ownerKey: 'be:cooldown-owner:wl1:bookB:acc-y', mode: 'touch', holdMs: 5_000 },
      ],
    });
    assert.deepEqual(result, { kind: 'ok', rev: 2 });
    assert.ok((await redis.pttl('cooldown:wl1:bookA:acc-z')) > 4_000, 'ours restarted');
    assert.ok((await redis.pttl('cooldown:wl1:bookB:acc-y')) > 50_000, 'theirs untouched');
    assert.equal(await redis.get('be:cooldown-owner:wl1:bookB:acc-y'), 'another-arb');
  });
});
