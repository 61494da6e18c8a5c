// The API's writes: resolving an exposure and setting/clearing kill switches, each audited with the token's name and reason.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makePair } from '../support/harness.js';
import { auditOf, createApiRig, tokenNames, type ApiRig } from './support.js';

describe('resolving an exposure through the API', () => {
  let rig: ApiRig;
  const exposed = makePair();

  before(async () => {
    rig = await createApiRig();
    await rig.h.startWorker();
    rig.h.bookB.bookmaker.addFault({ fault: 'reject', match: { accountId: String((exposed.hedgeBet as { accountId: string }).accountId) }, count: 100 });
    await rig.h.enqueue(exposed);
    await rig.h.waitForEvent(exposed.arbId, ['exposure_alert']);
  });
  after(async () => rig.close());

  it('needs an operate token: a read token gets 403 and nothing changes', async () => {
    const r = await rig.call('POST', `/api/v1/exposures/${exposed.arbId}/resolve`, { as: 'read', body: { note: 'looked at it' } });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'forbidden');
    assert.equal(await rig.h.redis.hexists('be:review:open', exposed.arbId), 1);
  });

  it('refuses an empty note, an unknown field and a note with a bidirectional control', async () => {
    for (const body of [{}, { note: '' }, { note: '   ' }, { note: 'ok', extra: 1 }, { note: 'paid \u202Eout' }, { note: 'x'.repeat(2_001) }]) {
      const r = await rig.call('POST', `/api/v1/exposures/${exposed.arbId}/resolve`, { as: 'operate', body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.code, 'invalid_request', JSON.stringify(body));
    }
    assert.equal(await rig.h.redis.hexists('be:review:open', exposed.arbId), 1);
  });

  it('resolves it with the note, records the token\'s name as the actor, and lifts the betPairId\'s block', async () => {
    const r = await rig.call('POST', `/api/v1/exposures/${exposed.arbId}/resolve`, { as: 'operate', body: { note: 'hedged by hand at bookB, ticket 77' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { id: exposed.arbId, status: 'resolved', resolvedBy: tokenNames.operate });
    const [entry] = await auditOf(rig.h, 'exposure_resolved');
    assert.equal(entry?.data.resolvedBy, tokenNames.operate);
    assert.equal(entry?.data.note, 'hedged by hand at bookB, ticket 77');
    const shown = await rig.call('GET', `/api/v1/exposures/${exposed.arbId}`, { as: 'read' });
    assert.equal(shown.body.status, 'resolved');
    const resolved = await rig.call('GET', '/api/v1/exposures/resolved', { as: 'read' });
    assert.deepEqual((resolved.body.items as Array<{ id: string }>).map((i) => i.id), [exposed.arbId]);
    // The same betPairId executes again once its review is closed.
    const again = makePair({ betPairId: exposed.betPairId });
    await rig.h.enqueue(again);
    assert.equal((await rig.h.waitForEvent(again.arbId, ['arb_executed', 'arb_blocked', 'exposure_alert'])).type, 'arb_executed');
  });

  it('answers exposure_not_open when it is resolved already, exposure_not_found when it never existed', async () => {
    const twice = await rig.call('POST', `/api/v1/exposures/${exposed.arbId}/resolve`, { as: 'operate', body: { note: 'again' } });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.code, 'exposure_not_open');
    const none = await rig.call('POST', '/api/v1/exposures/arb-never/resolve', { as: 'operate', body: { note: 'x' } });
    assert.equal(none.status, 404);
    assert.equal(none.body.code, 'exposure_not_found');
    assert.equal((await auditOf(rig.h, 'exposure_resolved')).length, 1);
  });
});

describe('kill switches through the API', () => {
  let rig: ApiRig;
  before(async () => {
    rig = await createApiRig();
    await rig.h.startWorker();
  });
  after(async () => rig.close());

  it('engages the global switch with a reason: the worker blocks the next pair; audit and events say who and why', async () => {
    const r = await rig.call('PUT', '/api/v1/kill-switches/global', { as: 'operate', body: { reason: 'bookA paying late' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { scope: 'global', key: 'be:kill:global', engaged: true, changed: true });
    assert.equal(await rig.h.redis.get('be:kill:global'), 'bookA paying late');
    const pair = makePair();
    await rig.h.enqueue(pair);
    const blocked = await rig.h.waitForEvent(pair.arbId, ['arb_blocked', 'arb_executed']);
    assert.equal(blocked.data.reason, 'kill_switch');
    const [audit] = await auditOf(rig.h, 'kill_switch_set');
    assert.deepEqual({ ...audit?.data, atMs: 0 }, { key: 'be:kill:global', scope: 'global', reason: 'bookA paying late', by: tokenNames.operate, via: 'api', atMs: 0 });
    assert.equal((await rig.h.events()).filter((e) => e.type === 'kill_switch_set').length, 1);
    const listed = await rig.call('GET', '/api/v1/kill-switches', { as: 'read' });
    assert.deepEqual((listed.body.items as Array<Record<string, unknown>>).map((i) => [i.scope, i.reason, i.by, i.via]), [['global', 'bookA paying late', tokenNames.operate, 'api']]);
  });

  it('setting it again replaces the reason (changed: false), and clearing it is recorded once', async () => {
    const again = await rig.call('PUT', '/api/v1/kill-switches/global', { as: 'admin', body: { reason: 'still late' } });
    assert.equal(again.body.changed, false);
    assert.equal(await rig.h.redis.get('be:kill:global'), 'still late');
    const cleared = await rig.call('DELETE', '/api/v1/kill-switches/global', { as: 'operate', body: { reason: 'bookA caught up' } });
    assert.deepEqual(cleared.body, { scope: 'global', key: 'be:kill:global', engaged: false, changed: true });
    const none = await rig.call('DELETE', '/api/v1/kill-switches/global', { as: 'operate', body: { reason: 'twice' } });
    assert.equal(none.body.changed, false);
    const clears = await auditOf(rig.h, 'kill_switch_cleared');
    assert.equal(clears.length, 1);
    assert.equal(clears[0]?.data.reason, 'bookA caught up');
    assert.equal(clears[0]?.data.by, tokenNames.operate);
    assert.equal((await auditOf(rig.h, 'kill_switch_set')).length, 2);
    assert.deepEqual((await rig.call('GET', '/api/v1/kill-switches', { as: 'read' })).body.items, []);
    const pair = makePair();
    await rig.h.enqueue(pair);
    assert.equal((await rig.h.waitForEvent(pair.arbId, ['arb_blocked', 'arb_executed'])).type, 'arb_executed');
  });

  it('sets and clears provider and account switches by their scope text', async () => {
    for (const [scope, key] of [['provider:bookB', 'be:kill:provider:bookB'], ['account:wl1:bookA:acc-9', 'be:kill:account:wl1:bookA:acc-9']] as const) {
      const set = await rig.call('PUT', `/api/v1/kill-switches/${scope}`, { as: 'operate', body: { reason: 'r' } });
      assert.equal(set.body.key, key);
      assert.equal(await rig.h.redis.exists(key), 1);
      assert.ok(((await rig.call('GET', '/api/v1/kill-switches', { as: 'read' })).body.items as Array<{ scope: string }>).some((i) => i.scope === scope));
      await rig.call('DELETE', `/api/v1/kill-switches/${scope}`, { as: 'operate', body: { reason: 'r' } });
      assert.equal(await rig.h.redis.exists(key), 0);
    }
  });

  it('refuses an empty or malformed scope and never touches the global switch', async () => {
    for (const scope of ['provider:', 'provider', 'account:wl1:bookA', 'account:wl1:bookA:acc:1', 'global:x', 'GLOBAL', 'provider:a*b', 'provider:%20', 'provider:b%0A']) {
      for (const method of ['PUT', 'DELETE'] as const) {
        const r = await rig.call(method, `/api/v1/kill-switches/${scope}`, { as: 'operate', body: { reason: 'r' } });
        assert.equal(r.status, 400, `${method} ${scope}`);
        assert.equal(r.body.code, 'invalid_scope', `${method} ${scope}`);
      }
    }
    for (const method of ['PUT', 'DELETE'] as const) {
      const empty = await rig.call(method, '/api/v1/kill-switches/', { as: 'operate', body: { reason: 'r' } });
      assert.ok(empty.status === 400 || empty.status === 404, `${method} with no scope: ${empty.status}`);
    }
    assert.equal(await rig.h.redis.exists('be:kill:global'), 0);
    assert.deepEqual(await rig.h.redis.keys('be:kill:*'), []);
  });

  it('requires a reason without control characters, and an operate token', async () => {
    for (const body of [undefined, {}, { reason: '' }, { reason: 'a\u0007b' }, { reason: 'x'.repeat(501) }]) {
      const r = await rig.call('PUT', '/api/v1/kill-switches/global', { as: 'operate', ...(body === undefined ? {} : { body }) });
      assert.equal(r.status, 400, JSON.stringify(body));
    }
    const read = await rig.call('PUT', '/api/v1/kill-switches/global', { as: 'read', body: { reason: 'r' } });
    assert.equal(read.status, 403);
    assert.equal(await rig.h.redis.exists('be:kill:global'), 0);
  });
});
