// The pure rules behind the API (kill scopes, operator text, days, latency buckets, P&L facts) and the stores' counting steps on a real Redis.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { formatKillScope, killScopeFromFlags, operatorTextProblem, parseKillScope } from '../../src/domain/operator.js';
import { newPairDoc } from '../../src/domain/pair.js';
import { bucketQuantileMs, LATENCY_BUCKETS_MS, latencyBucket, parseUtcDay, pnlIncrements, settledPairFact, utcDays } from '../../src/domain/stats.js';
import { parseBetPair } from '../../src/domain/validation.js';
import { auditStream, opsKeys } from '../../src/store/keys.js';
import { ReadModel } from '../../src/store/read-model.js';
import { StatsStore } from '../../src/store/stats.js';
import { Store } from '../../src/store/store.js';
import { makePair } from '../support/harness.js';
import { freshRedisUrl } from '../support/redis.js';

describe('kill-switch scopes', () => {
  it('parse their text form and print it back', () => {
    for (const text of ['global', 'provider:bookA', 'account:wl1:bookA:acc-1']) {
      const parsed = parseKillScope(text);
      assert.ok(parsed.ok, text);
      assert.equal(formatKillScope(parsed.scope), text);
    }
  });

  it('refuse every empty, partial or malformed form (never the global switch)', () => {
    for (const text of ['', ':', 'global:', 'global:x', 'provider', 'provider:', 'provider::', 'provider:a:b', 'account:wl1:bookA', 'account:wl1:bookA:', 'account::bookA:acc', 'Provider:bookA', 'provider:book A', 'provider:a*', `provider:${'a'.repeat(65)}`, 'account:wl1:bookA:acc:1']) {
      assert.equal(parseKillScope(text).ok, false, JSON.stringify(text));
    }
  });

  it('from the CLI\'s flags: exactly one scope, an empty value an error', () => {
    assert.deepEqual(killScopeFromFlags({ global: true }), { ok: true, scope: { kind: 'global' } });
    assert.deepEqual(killScopeFromFlags({ provider: 'bookA' }), { ok: true, scope: { kind: 'provider', provider: 'bookA' } });
    assert.deepEqual(killScopeFromFlags({ account: 'wl1:bookA:acc' }), { ok: true, scope: { kind: 'account', whitelabel: 'wl1', provider: 'bookA', accountId: 'acc' } });
    for (const flags of [{}, { provider: '' }, { account: '' }, { global: true, provider: 'bookA' }, { provider: 'a', account: 'wl:a:b' }, { account: 'wl1:bookA' }, { global: false }]) {
      assert.equal(killScopeFromFlags(flags).ok, false, JSON.stringify(flags));
    }
  });
});

describe('operator text (reasons, notes)', () => {
  it('is required, bounded, and free of control and bidirectional characters', () => {
    assert.equal(operatorTextProblem('reason', 'bookA paying late — ticket #42', 500), null);
    assert.equal(operatorTextProblem('reason', 'émoji ✓ ok', 500), null);
    for (const text of ['', '  ', 'x'.repeat(501), 'a\nb', 'a\tb', 'a\u0000', 'a\u007f', 'a\u0085', 'a\u202Eb', 'a\u2066b']) {
      assert.notEqual(operatorTextProblem('reason', text, 500), null, JSON.stringify(text));
    }
  });
});

describe('statistics rules', () => {
  it('UTC days: real calendar days only, ranges inclusive and bounded', () => {
    assert.equal(parseUtcDay('2026-02-28'), Date.UTC(2026, 1, 28));
    for (const bad of ['2026-02-29', '2026-13-01', '2026-1-01', 'today']) assert.equal(parseUtcDay(bad), null, bad);
    assert.deepEqual(utcDays(Date.UTC(2026, 1, 27, 23), Date.UTC(2026, 2, 1, 1)), ['2026-02-27', '2026-02-28', '2026-03-01']);
    assert.equal(utcDays(Date.UTC(2026, 2, 2), Date.UTC(2026, 2, 1)), null);
    assert.equal(utcDays(0, 400 * 86_400_000), null);
  });

  it('latency buckets: a call falls in the first bucket whose bound it does not exceed; quantiles are upper bounds', () => {
    assert.deepEqual([0, 5, 5.1, 10_000, 10_001].map(latencyBucket), [0, 0, 1, LATENCY_BUCKETS_MS.length - 1, LATENCY_BUCKETS_MS.length]);
    fc.assert(fc.property(fc.array(fc.double({ min: 0, max: 20_000, noNaN: true }), { minLength: 1, maxLength: 200 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (latencies, q) => {
      const counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
      for (const ms of latencies) counts[latencyBucket(ms)] = (counts[latencyBucket(ms)] ?? 0) + 1;
      const bound = bucketQuantileMs(counts, q);
      const sorted = [...latencies].sort((a, b) => a - b);
      const exact = sorted[Math.ceil(q * sorted.length) - 1] ?? 0;
      return bound === null ? exact > (LATENCY_BUCKETS_MS.at(-1) ?? 0) : exact <= bound;
    }));
    assert.equal(bucketQuantileMs([0, 0], 0.5), null);
  });

  it('P&L facts: unknown results counted apart, never as 0; malformed data not counted', () => {
    const at = Date.UTC(2026, 10, 24, 12);
    assert.deepEqual(settledPairFact({ currency: 'EUR', pnlMinor: -20_244, exposureReason: 'both_lost_unexpected' }, at), { day: '2026-11-24', currency: 'EUR', pnlMinor: -20_244, exposure: true });
    assert.deepEqual(settledPairFact({ currency: 'EUR', pnlMinor: null, exposureReason: 'settlement_timeout' }, at), { day: '2026-11-24', currency: 'EUR', pnlMinor: null, exposure: true });
    for (const data of [{ currency: 'eur', pnlMinor: 1 }, { pnlMinor: 1 }, { currency: 'EUR', pnlMinor: 1.5 }, { currency: 'EUR', pnlMinor: '7' }]) assert.equal(settledPairFact(data, at), null, JSON.stringify(data));
    const inc = pnlIncrements([
      { day: 'd1', currency: 'EUR', pnlMinor: 756, exposure: false },
      { day: 'd1', currency: 'EUR', pnlMinor: null, exposure: true },
      { day: 'd1', currency: 'GBP', pnlMinor: -5, exposure: true },
      { day: 'd2', currency: 'EUR', pnlMinor: 10, exposure: false },
    ]);
    assert.deepEqual(Object.fromEntries([...inc].map(([d, f]) => [d, Object.fromEntries(f)])), {
      d1: { 'EUR:pairs': 2, 'EUR:pnl_minor': 756, 'EUR:pnl_unknown': 1, 'EUR:exposures': 1, 'GBP:pairs': 1, 'GBP:pnl_minor': -5, 'GBP:exposures': 1 },
      d2: { 'EUR:pairs': 1, 'EUR:pnl_minor': 10 },
    });
  });

  it('P&L corrections: a re-settlement moves the figures by new minus old on its own day, and never counts the pair again', () => {
    const at = Date.UTC(2026, 10, 25, 9);
    const resettled = { currency: 'EUR', pnlMinor: 400, exposureReason: null, previous: { pnlMinor: null, exposureReason: 'settlement_timeout' } };
    const fact = settledPairFact(resettled, at, true);
    assert.deepEqual(fact, { day: '2026-11-25', currency: 'EUR', pnlMinor: 400, exposure: false, previous: { pnlMinor: null, exposure: true } });
    assert.equal(settledPairFact({ currency: 'EUR', pnlMinor: 1 }, at, true), null, 'a re-settlement without its previous result is not guessed');
    const inc = pnlIncrements([
      { day: 'd1', currency: 'EUR', pnlMinor: null, exposure: true },
      { day: 'd2', currency: 'EUR', pnlMinor: 400, exposure: false, previous: { pnlMinor: null, exposure: true } },
      { day: 'd2', currency: 'EUR', pnlMinor: -100, exposure: true, previous: { pnlMinor: 300, exposure: true } },
    ]);
    assert.deepEqual(Object.fromEntries([...inc].map(([d, f]) => [d, Object.fromEntries(f)])), {
      d1: { 'EUR:pairs': 1, 'EUR:pnl_unknown': 1, 'EUR:exposures': 1 },
      d2: { 'EUR:corrections': 2, 'EUR:pnl_unknown': -1, 'EUR:exposures': -1 },
    });
  });
});

describe('the P&L projection on a real Redis', () => {
  it('counts each settled pair exactly once while several projectors race and entries keep arriving', async () => {
    const url = await freshRedisUrl();
    const writer = new Redis(url);
    const projectors = [new StatsStore(new Redis(url)), new StatsStore(new Redis(url)), new StatsStore(new Redis(url))];
    let expectedPnl = 0;
    let expectedPairs = 0;
    let expectedCorrections = 0;
    const write = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const pnlMinor = (i % 7) * 100 - 250;
        expectedPnl += pnlMinor;
        expectedPairs++;
        await writer.xadd(auditStream, '*', 'type', 'arb_settled', 'data', JSON.stringify({ arbId: `a${expectedPairs}`, currency: 'EUR', pnlMinor, exposureReason: null }));
        await writer.xadd(auditStream, '*', 'type', 'bookmaker_request', 'data', '{"arbId":"x"}');
        if (expectedPairs % 5 === 0) {
          // The bookmaker changed this pair's result: +50 on the P&L, the pair itself not counted again.
          expectedPnl += 50;
          expectedCorrections++;
          const previous = { pnlMinor, exposureReason: null };
          await writer.xadd(auditStream, '*', 'type', 'arb_resettled', 'data', JSON.stringify({ arbId: `a${expectedPairs}`, currency: 'EUR', pnlMinor: pnlMinor + 50, exposureReason: null, previous }));
        }
      }
    };
    const drain = (s: StatsStore) => (async () => {
      for (let k = 0; k < 200; k++) if ((await s.projectPnl(7)) === 0) return;
    })();
    await write(40);
    await Promise.all([...projectors.map(drain), write(40)]);
    await Promise.all(projectors.map(drain));
    const [row] = await projectors[0]?.pnl([new Date().toISOString().slice(0, 10)]) ?? [];
    assert.deepEqual(row && { pnl: row.pnlMinor, pairs: row.pairs, corrections: row.corrections }, { pnl: expectedPnl, pairs: expectedPairs, corrections: expectedCorrections });
    assert.equal(await writer.get(opsKeys.pnlCursor), (await writer.xrevrange(auditStream, '+', '-', 'COUNT', 1))[0]?.[0]);
    writer.disconnect();
    for (const p of projectors) p.redis.disconnect();
  });
});

describe('the pairs index kept by claim.lua', () => {
  it('adds each new journal at its claim time and drops pairs older than the journal TTL', async () => {
    const url = await freshRedisUrl();
    const redis = new Redis(url);
    const store = new Store(redis, 1_000);
    const claim = async (nowMs: number) => {
      const parsed = parseBetPair(makePair());
      assert.ok(parsed.ok);
      await store.claim(parsed.pair.arbId, 'token', 1_000, newPairDoc(parsed.pair, 'job', nowMs), 10_000);
      return parsed.pair.arbId;
    };
    const old = await claim(1_000_000);
    const mid = await claim(1_005_000);
    assert.deepEqual(await redis.zrange(opsKeys.pairsByCreated, 0, -1), [old, mid]);
    const fresh = await claim(1_012_000);
    assert.deepEqual(await redis.zrange(opsKeys.pairsByCreated, 0, -1, 'WITHSCORES'), [mid, '1005000', fresh, '1012000']);
    const page = await new ReadModel(redis).listPairs({ limit: 10, after: null, scanMax: 10 });
    assert.deepEqual(page.rows.map((r) => r.arbId), [fresh, mid]);
    redis.disconnect();
  });
});
