// The account cooldown in Redis: held for at least the asked time, never shortened, never taken from another pair.
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

const account = (name: string) => ({ key: `cooldown:wl1:bookA:${name}`, ownerKey: `be:cooldown-owner:wl1:bookA:${name}` });

describe('an account\'s cooldown hold', () => {
  let redis: Redis;
  let store: Store;
  before(async () => {
    ({ redis, store } = await storeOnFreshRedis());
  });
  after(() => redis.disconnect());

  async function leased(): Promise<PairDoc> {
    const doc = docFor(makePair());
    await store.claim(doc.arbId, 'token', 60_000, doc, 60_000);
    return doc;
  }

  it('holds a free account, and extends a shorter hold of its own, key and owner alike', async () => {
    const doc = await leased();
    const a = account('free');
    assert.equal(await store.holdCooldown(doc.arbId, 'token', { ...a, holdMs: 5_000 }), true);
    assert.equal(await redis.get(a.ownerKey), doc.arbId);
    assert.ok(Math.abs(Number(await redis.get(a.key)) - Date.now() / 1000) < 5, 'value is unix seconds');
    assert.equal(await store.holdCooldown(doc.arbId, 'token', { ...a, holdMs: 30_000 }), true);
    for (const key of [a.key, a.ownerKey]) assert.ok((await redis.pttl(key)) > 25_000, `${key} extended`);
  });

  it('never shortens a longer hold (a request that may still be in flight, a late commit)', async () => {
    const doc = await leased();
    const a = account('long');
    await store.holdCooldown(doc.arbId, 'token', { ...a, holdMs: 30_000 });
    assert.equal(await store.holdCooldown(doc.arbId, 'token', { ...a, holdMs: 1_000 }), true);
    for (const key of [a.key, a.ownerKey]) assert.ok((await redis.pttl(key)) > 25_000, `${key} kept`);
  });

  it('leaves an account another pair holds as it is, and says so', async () => {
    const doc = await leased();
    const a = account('theirs');
    await redis.set(a.key, '1', 'PX', 5_000);
    await redis.set(a.ownerKey, 'another-arb', 'PX', 5_000);
    assert.equal(await store.holdCooldown(doc.arbId, 'token', { ...a, holdMs: 60_000 }), false);
    assert.equal(await redis.get(a.ownerKey), 'another-arb');
    assert.ok((await redis.pttl(a.key)) <= 5_000);
  });

  it('is fenced by the lease: a worker that lost it holds nothing', async () => {
    const doc = await leased();
    const a = account('fenced');
    await assert.rejects(store.holdCooldown(doc.arbId, 'another-token', { ...a, holdMs: 5_000 }), FencedError);
    assert.equal(await redis.exists(a.key), 0);
  });

  it('a preflight holds an account whose cooldown has ended though its owner key lingers: the next pair is blocked', async () => {
    const first = await leased();
    const second = await leased();
    const positive = first.pair.positive;
    const a = { key: `cooldown:wl1:bookA:${positive.accountId}`, ownerKey: `be:cooldown-owner:wl1:bookA:${positive.accountId}` };
    // The owner key outlives its cooldown key by a millisecond when the two SETs read the clock apart.
    await redis.set(a.ownerKey, 'an-ended-hold', 'PX', 60_000);
    const preflight = (doc: PairDoc) => store.preflight({
      arbId: doc.arbId, token: 'token', rev: 1, doc: { ...doc, state: 'positive_placing' }, nowMs: Date.now(),
      cooldownHoldMs: { positive: 5_000, hedge: 5_000 }, ageBaseMs: null, arbAgeMsMax: 60_000, createdAtMs: null, createdAtSkewMsMax: 5_000,
      rateLimit: { placementsMax: 100, windowMs: 60_000 }, audit: [],
    });
    assert.equal((await preflight(first)).kind, 'passed');
    assert.equal(await redis.get(a.ownerKey), first.arbId);
    assert.ok((await redis.pttl(a.key)) > 4_000, 'the account is held');
    const blocked = await preflight({ ...second, pair: { ...second.pair, positive: { ...second.pair.positive, accountId: positive.accountId } } });
    assert.equal(blocked.kind === 'blocked' && blocked.reason, 'cooldown');
  });

  it('a transition\'s touch after an answer does not shorten the claim that covered the request', async () => {
    const doc = await leased();
    const a = account('claimed');
    const write = { arbId: doc.arbId, token: 'token', from: 'received' as const, doc: { ...doc, state: 'positive_placing' as const }, closes: false, nowMs: Date.now() };
    assert.deepEqual(await store.transition({ ...write, rev: 1, cooldowns: [{ ...a, mode: 'claim', holdMs: 30_000 }] }), { kind: 'ok', rev: 2 });
    assert.deepEqual(await store.transition({ ...write, from: 'positive_placing', rev: 2, cooldowns: [{ ...a, mode: 'touch', holdMs: 1_000 }] }), { kind: 'ok', rev: 3 });
    assert.ok((await redis.pttl(a.key)) > 25_000, 'the claim\'s hold stands');
  });
});
