// The API's read endpoints against pairs a real worker ran on simulated bookmakers: lists, filters, pages, one pair, statistics.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cooldownHoldMs } from '../../src/domain/cooldown.js';
import { utcDay } from '../../src/domain/stats.js';
import { cooldownTimingsOf } from '../../src/executor/run.js';
import { alertDeadList, alertDeliveriesStream } from '../../src/store/keys.js';
import { makePair, type Harness } from '../support/harness.js';
import { createApiRig, type ApiRig } from './support.js';

type Pair = ReturnType<typeof makePair>;
type Item = Record<string, unknown> & { arbId: string };

async function ended(h: Harness, pair: Pair, types: string[]): Promise<string> {
  await h.enqueue(pair);
  return (await h.waitForEvent(pair.arbId, [...types, 'arb_executed', 'exposure_alert', 'arb_failed', 'arb_blocked'])).type;
}

describe('the API reads what the worker did', () => {
  let rig: ApiRig;
  const pairs: Record<'won' | 'bothLost' | 'open' | 'rejected' | 'blocked' | 'exposed', Pair> = {
    won: makePair(), bothLost: makePair(), open: makePair(), rejected: makePair(), blocked: makePair(), exposed: makePair(),
  };
  // Executed oldest first, so the list (newest first) comes in the reverse order.
  const order = ['won', 'bothLost', 'open', 'rejected', 'blocked', 'exposed'] as const;

  before(async () => {
    rig = await createApiRig({ pairScanMax: 4 }, { settlementPollIntervalMs: 20, settlementPollCountMax: 500, cooldownMs: 5_000 });
    const { h } = rig;
    await h.startWorker();
    h.bookA.bookmaker.addFault({ fault: 'reject', match: { accountId: String((pairs.rejected.positiveBet as { accountId: string }).accountId) }, params: { reason: 'limits' } });
    h.bookB.bookmaker.addFault({ fault: 'reject', match: { accountId: String((pairs.exposed.hedgeBet as { accountId: string }).accountId) }, count: 100 });
    const blocked = pairs.blocked.positiveBet as { accountId: string };
    await h.redis.set(`be:kill:account:wl1:bookA:${blocked.accountId}`, 'raw set');
    const expected = { won: 'arb_executed', bothLost: 'arb_executed', open: 'arb_executed', rejected: 'arb_failed', blocked: 'arb_blocked', exposed: 'exposure_alert' };
    for (const name of order) {
      assert.equal(await ended(h, pairs[name], []), expected[name], name);
      await new Promise((r) => setTimeout(r, 3)); // distinct claim milliseconds keep the order readable
    }
    for (const [name, p, hd] of [['won', 'won', 'lost'], ['bothLost', 'lost', 'lost']] as const) {
      const arbId = pairs[name].arbId;
      h.bookA.bookmaker.settle(`be1.${arbId}.p1`, p);
      h.bookB.bookmaker.settle(`be1.${arbId}.h1`, hd);
      await h.waitForEvent(arbId, ['arb_settled']);
    }
  });
  after(async () => rig.close());

  async function allPages(query: string, limit: number): Promise<{ items: Item[]; pages: number }> {
    const items: Item[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r = await rig.call('GET', `/api/v1/pairs?limit=${limit}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { as: 'read' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      items.push(...(r.body.items as Item[]));
      cursor = r.body.nextCursor as string | null;
      pages++;
    } while (cursor !== null && pages < 50);
    return { items, pages };
  }

  it('lists every pair newest first, each once, across pages and the pairScanMax bound', async () => {
    const one = await rig.call('GET', '/api/v1/pairs?limit=50', { as: 'read' });
    assert.equal((one.body.items as Item[]).length, 4, 'a page examines at most pairScanMax (4) pairs');
    assert.equal(one.body.scanned, 4);
    assert.ok(one.body.nextCursor);
    for (const limit of [1, 2, 50]) {
      const { items } = await allPages('', limit);
      assert.deepEqual(items.map((i) => i.arbId), [...order].reverse().map((n) => pairs[n].arbId), `limit ${limit}`);
    }
  });

  it('shows each pair\'s legs, state and settlement as plain JSON with integer money', async () => {
    const { items } = await allPages('', 50);
    const byId = new Map(items.map((i) => [i.arbId, i]));
    const won = byId.get(pairs.won.arbId) as Record<string, Record<string, unknown>>;
    assert.equal(won.state as unknown, 'settled');
    assert.equal(won.positive?.status, 'accepted');
    assert.match(String(won.positive?.ticketId), /^bookA-/);
    assert.equal(won.positive?.stakeMinor, 10_000);
    assert.equal(won.positive?.oddsMilli, 2_100);
    assert.equal(won.hedge?.status, 'accepted');
    assert.deepEqual({ pnlMinor: won.settlement?.pnlMinor, exposureReason: won.settlement?.exposureReason }, { pnlMinor: 756, exposureReason: null });
    assert.equal(byId.get(pairs.rejected.arbId)?.state, 'positive_failed');
    assert.equal(byId.get(pairs.blocked.arbId)?.outcomeReason, 'kill_switch');
    assert.equal(byId.get(pairs.exposed.arbId)?.state, 'hedge_failed');
    assert.equal(byId.get(pairs.open.arbId)?.settlement, null);
  });

  it('filters by state (one or several), arbId, betPairId, whitelabel, provider and time', async () => {
    const ids = async (query: string) => (await allPages(query, 50)).items.map((i) => i.arbId).sort();
    assert.deepEqual(await ids('&state=settled'), [pairs.won.arbId, pairs.bothLost.arbId].sort());
    assert.deepEqual(await ids('&state=positive_failed,blocked'), [pairs.rejected.arbId, pairs.blocked.arbId].sort());
    assert.deepEqual(await ids(`&arbId=${pairs.open.arbId}`), [pairs.open.arbId]);
    assert.deepEqual(await ids(`&arbId=${pairs.open.arbId}&state=settled`), []);
    assert.deepEqual(await ids(`&betPairId=${String(pairs.exposed.betPairId)}`), [pairs.exposed.arbId]);
    assert.deepEqual(await ids('&whitelabel=nobody'), []);
    assert.equal((await ids('&provider=bookB')).length, 6);
    assert.deepEqual(await ids('&provider=bookC'), []);
    const open = (await rig.call('GET', `/api/v1/pairs?arbId=${pairs.open.arbId}`, { as: 'read' })).body.items as Array<{ journaledAtMs: number }>;
    const atMs = open[0]?.journaledAtMs ?? 0;
    assert.deepEqual(await ids(`&from=${atMs}&to=${atMs}`), [pairs.open.arbId]);
    assert.deepEqual(await ids(`&to=${new Date(atMs - 1).toISOString()}`), [pairs.won.arbId, pairs.bothLost.arbId].sort());
    assert.equal((await ids(`&from=${new Date(atMs).toISOString()}`)).length, 4);
  });

  it('gives one pair with its journal, settlement results, review entry and audit trail (its own entries only)', async () => {
    const r = await rig.call('GET', `/api/v1/pairs/${pairs.bothLost.arbId}`, { as: 'read' });
    assert.equal(r.status, 200);
    const journal = r.body.journal as { state: string; doc: { arbId: string; hedges: unknown[] } };
    assert.equal(journal.state, 'settled');
    assert.equal(journal.doc.arbId, pairs.bothLost.arbId);
    assert.deepEqual(r.body.settlementResults, { [`be1.${pairs.bothLost.arbId}.p1`]: 'lost', [`be1.${pairs.bothLost.arbId}.h1`]: 'lost' });
    const review = r.body.review as { status: string; record: { exposure_reason: string } };
    assert.equal(review.status, 'open');
    assert.equal(review.record.exposure_reason, 'both_lost_unexpected');
    const audit = r.body.audit as { entries: Array<{ type: string; data: { arbId?: string } }>; nextCursor: string | null };
    const types = new Set(audit.entries.map((e) => e.type));
    for (const t of ['bookmaker_request', 'pair_transition', 'bet_settled', 'arb_settled']) assert.ok(types.has(t), `audit has ${t}: ${[...types].join(',')}`);
    assert.ok(audit.entries.every((e) => e.data.arbId === pairs.bothLost.arbId));
    assert.equal(audit.nextCursor, null);
    const all = (await rig.h.audit()).filter((e) => e.data.arbId === pairs.bothLost.arbId).map((e) => e.id);
    assert.deepEqual(audit.entries.map((e) => (e as unknown as { id: string }).id), all);
  });

  it('pages a pair\'s audit trail with a cursor and refuses another pair\'s cursor', async () => {
    const arbId = pairs.won.arbId;
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r = await rig.call('GET', `/api/v1/pairs/${arbId}/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { as: 'read' });
      assert.equal(r.status, 200);
      seen.push(...(r.body.entries as Array<{ id: string }>).map((e) => e.id));
      cursor = r.body.nextCursor as string | null;
    } while (cursor !== null && seen.length < 1_000);
    assert.deepEqual(seen, (await rig.h.audit()).filter((e) => e.data.arbId === arbId).map((e) => e.id));
    const first = await rig.call('GET', `/api/v1/pairs/${arbId}/audit?limit=1`, { as: 'read' });
    const foreign = await rig.call('GET', `/api/v1/pairs/${pairs.open.arbId}/audit?cursor=${String(first.body.nextCursor)}`, { as: 'read' });
    assert.equal(foreign.status, 400);
    assert.equal(foreign.body.code, 'invalid_cursor');
  });

  it('answers pair_not_found for an unknown arbId', async () => {
    for (const url of ['/api/v1/pairs/arb-unknown', '/api/v1/pairs/arb-unknown/audit']) {
      const r = await rig.call('GET', url, { as: 'read' });
      assert.equal(r.status, 404);
      assert.equal(r.body.code, 'pair_not_found');
    }
  });

  it('lists open exposures oldest first and shows one by id', async () => {
    const r = await rig.call('GET', '/api/v1/exposures/open', { as: 'read' });
    assert.equal(r.status, 200);
    const items = r.body.items as Array<{ id: string; record: { exposure_reason: string } }>;
    assert.deepEqual(items.map((i) => i.id), [pairs.exposed.arbId, pairs.bothLost.arbId]);
    assert.equal(items[0]?.record.exposure_reason, 'hedge_failed_positive_active');
    assert.equal(r.body.total, 2);
    const one = await rig.call('GET', `/api/v1/exposures/${pairs.exposed.arbId}`, { as: 'read' });
    assert.equal(one.body.status, 'open');
    const missing = await rig.call('GET', '/api/v1/exposures/arb-none', { as: 'read' });
    assert.equal(missing.body.code, 'exposure_not_found');
    assert.deepEqual((await rig.call('GET', '/api/v1/exposures/resolved', { as: 'read' })).body, { items: [], total: 0, nextCursor: null });
  });

  it('shows an account\'s cooldown (and the pair holding it), its placements in the window and its kill switches', async () => {
    const positive = pairs.open.positiveBet as { accountId: string };
    const r = await rig.call('GET', `/api/v1/accounts/wl1/bookA/${positive.accountId}`, { as: 'read' });
    assert.equal(r.status, 200);
    const cooldown = r.body.cooldown as { active: boolean; remainingMs: number; heldBy: string; claimedAtS: number };
    assert.equal(cooldown.active, true);
    assert.equal(cooldown.heldBy, pairs.open.arbId);
    // A claim holds the account past the cooldown by the request's flight and a late commit (src/domain/cooldown.ts).
    const claimHoldMs = cooldownHoldMs('claim', cooldownTimingsOf(rig.h.config, 'bookA'));
    assert.ok(cooldown.remainingMs > 0 && cooldown.remainingMs <= claimHoldMs, `${cooldown.remainingMs} ms left, hold ${claimHoldMs} ms`);
    assert.ok(Math.abs(cooldown.claimedAtS - Date.now() / 1000) < 60);
    const rate = r.body.rateLimit as { placementsInWindow: number; placementsMax: number; freeInMs: number };
    assert.deepEqual({ n: rate.placementsInWindow, max: rate.placementsMax, free: rate.freeInMs }, { n: 1, max: 20, free: 0 });
    const blocked = pairs.blocked.positiveBet as { accountId: string };
    const b = await rig.call('GET', `/api/v1/accounts/wl1/bookA/${blocked.accountId}`, { as: 'read' });
    assert.deepEqual(b.body.killSwitches, { global: false, provider: false, account: true });
    assert.equal((b.body.cooldown as { active: boolean }).active, false);
  });

  it('sums each provider\'s placement calls as the simulators logged them, with acceptance ratio and latency', async () => {
    const { h } = rig;
    const expected = (log: Array<{ decision: string }>) => ({ total: log.length, accepted: log.filter((e) => e.decision === 'accepted').length, rejected: log.filter((e) => e.decision === 'rejected').length });
    const want = { bookA: expected(h.bookA.bookmaker.log()), bookB: expected(h.bookB.bookmaker.log()) };
    assert.ok(want.bookB.rejected >= 1 && want.bookA.rejected === 1, JSON.stringify(want));
    const providers = await h.waitFor('statistics of every call', async () => {
      const r = await rig.call('GET', '/api/v1/providers', { as: 'read' });
      const list = r.body.providers as Array<{ provider: string; placements: { total: number } }>;
      const totals = Object.fromEntries(list.map((p) => [p.provider, p.placements.total]));
      return totals.bookA === want.bookA.total && totals.bookB === want.bookB.total ? list : null;
    });
    for (const p of providers as unknown as Array<{ provider: 'bookA' | 'bookB'; placements: Record<string, number>; acceptanceRatio: number; latencyMs: { p50: number | null; mean: number; counts: number[] } }>) {
      assert.equal(p.placements.accepted, want[p.provider].accepted, p.provider);
      assert.equal(p.placements.rejected, want[p.provider].rejected, p.provider);
      assert.equal(p.acceptanceRatio, want[p.provider].accepted / want[p.provider].total);
      assert.equal(p.latencyMs.counts.reduce((a, b) => a + b, 0), want[p.provider].total);
      assert.ok(p.latencyMs.p50 !== null && p.latencyMs.mean >= 0);
    }
    const yesterday = utcDay(Date.now() - 86_400_000);
    const none = await rig.call('GET', `/api/v1/providers?from=${yesterday}&to=${yesterday}`, { as: 'read' });
    assert.deepEqual(none.body.providers, []);
  });

  it('projects realised P&L per day and currency from the audit stream, once however often it runs', async () => {
    for (let i = 0; i < 3; i++) while ((await rig.api.projectPnl()) !== 0);
    const r = await rig.call('GET', '/api/v1/pnl', { as: 'read' });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.days, [{ day: utcDay(Date.now()), currency: 'EUR', pnlMinor: 756 - 20_244, pairs: 2, pnlUnknown: 0, exposures: 1, corrections: 0 }]);
    assert.match(String(r.body.projectedThrough), /^\d+-\d+$/);
    const bad = await rig.call('GET', '/api/v1/pnl?from=2026-02-30', { as: 'read' });
    assert.equal(bad.body.code, 'invalid_request');
    const reversed = await rig.call('GET', '/api/v1/pnl?from=2026-03-02&to=2026-03-01', { as: 'read' });
    assert.equal(reversed.body.code, 'invalid_request');
  });

  it('reads the alerter\'s deliveries newest first with a cursor, and its dead letters (empty lists when none)', async () => {
    const { redis } = rig.h;
    assert.deepEqual((await rig.call('GET', '/api/v1/alerts/deliveries', { as: 'read' })).body, { items: [], nextCursor: null });
    assert.deepEqual((await rig.call('GET', '/api/v1/alerts/dead', { as: 'read' })).body, { items: [], total: 0, nextCursor: null });
    for (let i = 1; i <= 3; i++) {
      await redis.xadd(alertDeliveriesStream, '*', 'alertKey', `k${i}`, 'eventId', `1-${i}`, 'eventType', 'exposure_alert', 'sink', 'webhook', 'attempt', '1', 'result', i === 2 ? 'failed' : 'delivered', 'httpStatus', i === 2 ? '500' : '200', 'error', '', 'atMs', String(Date.now()));
    }
    await redis.lpush(alertDeadList, JSON.stringify({ alertKey: 'k0', sink: 'slack', attempts: 8 }), 'not json');
    const page1 = await rig.call('GET', '/api/v1/alerts/deliveries?limit=2', { as: 'read' });
    assert.deepEqual((page1.body.items as Array<{ alertKey: string }>).map((i) => i.alertKey), ['k3', 'k2']);
    assert.equal((page1.body.items as Array<{ result: string }>)[1]?.result, 'failed');
    const page2 = await rig.call('GET', `/api/v1/alerts/deliveries?limit=2&cursor=${String(page1.body.nextCursor)}`, { as: 'read' });
    assert.deepEqual((page2.body.items as Array<{ alertKey: string }>).map((i) => i.alertKey), ['k1']);
    assert.equal(page2.body.nextCursor, null);
    const dead = await rig.call('GET', '/api/v1/alerts/dead?limit=1', { as: 'read' });
    assert.deepEqual(dead.body.items, [{ raw: 'not json' }]);
    assert.equal(dead.body.total, 2);
    const dead2 = await rig.call('GET', `/api/v1/alerts/dead?limit=1&cursor=${String(dead.body.nextCursor)}`, { as: 'read' });
    assert.deepEqual(dead2.body.items, [{ alertKey: 'k0', sink: 'slack', attempts: 8 }]);
    assert.equal(dead2.body.nextCursor, null);
  });
});
