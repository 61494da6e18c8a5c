// claim.lua with the preflight: lease, journal, guards, claims and intent in one step, and nothing when a guard blocks.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { newPairDoc, type PairDoc } from '../../src/domain/pair.js';
import { parseBetPair } from '../../src/domain/validation.js';
import { keys, auditStream } from '../../src/store/keys.js';
import { Store, type PreflightPlan } from '../../src/store/store.js';
import { makePair } from '../support/harness.js';
import { storeOnFreshRedis } from '../support/redis.js';

function docFor(raw: unknown): PairDoc {
  const parsed = parseBetPair(raw, { stakeMinorMax: 1_000_000 });
  assert.ok(parsed.ok);
  return newPairDoc(parsed.pair, 'job-1', Date.now());
}

function planFor(doc: PairDoc): PreflightPlan {
  return {
    doc: { ...doc, state: 'positive_placing' }, nowMs: Date.now(),
    cooldownHoldMs: { positive: 5_000, hedge: 6_000 }, ageBaseMs: null, arbAgeMsMax: 60_000, createdAtMs: null, createdAtSkewMsMax: 5_000,
    rateLimit: { placementsMax: 100, windowMs: 60_000 },
    audit: [{ type: 'bookmaker_request', data: { arbId: doc.arbId, role: 'positive' } }],
  };
}

const cooldownOf = (doc: PairDoc, role: 'positive' | 'hedge') => {
  const leg = doc.pair[role];
  return keys.cooldown(leg.whitelabel, leg.provider, leg.accountId);
};

describe('the claim with its preflight (one Redis step)', () => {
  let redis: Redis;
  let store: Store;
  before(async () => {
    ({ redis, store } = await storeOnFreshRedis());
  });
  after(() => redis.disconnect());

  it('a fresh pair: leased, journaled at positive_placing, both accounts held, the intent audited', async () => {
    const doc = docFor(makePair());
    const auditBefore = await redis.xlen(auditStream);
    const claim = await store.claim(doc.arbId, 'token-A', 60_000, doc, 60_000, planFor(doc));
    assert.equal(claim.kind, 'started');
    assert.equal(claim.kind === 'started' && claim.rev, 2);
    assert.equal(await redis.get(keys.lease(doc.arbId)), 'token-A');
    assert.deepEqual(await redis.hmget(keys.pair(doc.arbId), 'rev', 'state', 'jobId'), ['2', 'positive_placing', 'job-1']);
    assert.ok((await redis.pttl(cooldownOf(doc, 'positive'))) > 4_000);
    assert.ok((await redis.pttl(cooldownOf(doc, 'hedge'))) > 5_000);
    assert.equal(await redis.xlen(auditStream), auditBefore + 1);
    assert.notEqual(await redis.zscore(keys.openPairs, doc.arbId), null);
  });

  it('a duplicate while in flight is busy, and once the lease is gone it finds the journal: no second preflight', async () => {
    const doc = docFor(makePair());
    assert.equal((await store.claim(doc.arbId, 'token-A', 60_000, doc, 60_000, planFor(doc))).kind, 'started');
    const busy = await store.claim(doc.arbId, 'token-B', 60_000, doc, 60_000, planFor(doc));
    assert.deepEqual(busy, { kind: 'busy', jobId: 'job-1' });
    await redis.del(keys.lease(doc.arbId));
    const auditBefore = await redis.xlen(auditStream);
    const existing = await store.claim(doc.arbId, 'token-B', 60_000, doc, 60_000, planFor(doc));
    assert.equal(existing.kind, 'existing');
    assert.equal(existing.kind === 'existing' && existing.doc.state, 'positive_placing');
    assert.equal(await redis.xlen(auditStream), auditBefore, 'nothing journaled again');
  });

  it('a guard blocks: the journal is created in received, nothing claimed, no intent', async () => {
    const doc = docFor(makePair());
    const leg = doc.pair.positive;
    await redis.set(keys.killAccount(leg.whitelabel, leg.provider, leg.accountId), 'test');
    const auditBefore = await redis.xlen(auditStream);
    const claim = await store.claim(doc.arbId, 'token-A', 60_000, doc, 60_000, planFor(doc));
    assert.equal(claim.kind, 'created');
    assert.deepEqual(claim.kind === 'created' && claim.blocked, { reason: 'kill_switch', remainingMs: 0 });
    assert.deepEqual(await redis.hmget(keys.pair(doc.arbId), 'rev', 'state'), ['1', 'received']);
    assert.equal(await redis.exists(cooldownOf(doc, 'positive'), cooldownOf(doc, 'hedge')), 0);
    assert.equal(await redis.xlen(auditStream), auditBefore);
  });

  it('chaos seed 20150: an account held by another pair up to its last millisecond blocks, never errors after the lease', async () => {
    // The guards read a cooldown's PTTL, the claim tested EXISTS and the owner: at the hold's last millisecond
    // (PTTL 0, the key still there) the guards passed and the claim failed with a Lua error, after the lease
    // was written and before the journal: the job's retry found a lease with no journal and called itself a
    // duplicate, and the pair was lost. Claim fresh pairs on the account while a 2 ms hold runs out, many times.
    const template = docFor(makePair());
    let claims = 0;
    for (let round = 0; round < 150; round += 1) {
      await redis.set(cooldownOf(template, 'positive'), '1', 'PX', 2);
      await redis.set(keys.cooldownOwner(template.pair.positive.whitelabel, template.pair.positive.provider, template.pair.positive.accountId), 'other-arb', 'PX', 2);
      for (;;) {
        claims += 1;
        const doc = docFor(makePair({}, { positive: { accountId: template.pair.positive.accountId }, hedge: { accountId: `h-${round}-${claims}` } }));
        const claim = await store.claim(doc.arbId, 'token-A', 60_000, doc, 60_000, { ...planFor(doc), rateLimit: { placementsMax: 1_000_000, windowMs: 60_000 } });
        if (claim.kind === 'started') break;
        assert.equal(claim.kind === 'created' && claim.blocked?.reason, 'cooldown', JSON.stringify(claim));
        assert.ok(claim.kind === 'created' && claim.blocked !== undefined && claim.blocked.remainingMs >= 1, 'a block says how long is left');
      }
      await redis.del(cooldownOf(template, 'positive'));
    }
  });
});
