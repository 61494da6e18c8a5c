// The simulator's HTTP surface: control endpoints, input validation, latency and prompt shutdown.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { startSimServer, type SimServer } from '../../src/sim/server.js';
import { placeRequest } from '../support/requests.js';

function bet(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...placeRequest(), ...overrides };
}


interface Answer {
  status: number;
  // Test-side view of JSON answers: the shapes are asserted, not trusted.
  body: Record<string, unknown>;
}

async function call(server: SimServer, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.headers = { 'content-type': 'application/json' };
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const response = await fetch(server.url + path, init);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function decisions(answer: Answer): unknown[] {
  return (answer.body.bets as { decision: string }[]).map((entry) => entry.decision);
}

describe('sim server', () => {
  let server: SimServer;
  let clockMs = 5_000;
  beforeEach(async () => {
    clockMs = 5_000;
    server = await startSimServer({ seed: 3, name: 'bk', now: () => clockMs });
  });
  afterEach(async () => {
    await server.close();
  });

  it('answers health', async () => {
    assert.deepEqual(await call(server, 'GET', '/_sim/health'), { status: 200, body: { ok: true, name: 'bk' } });
  });

  describe('GET /_sim/bets', () => {
    it('lists every placement request in order, with what was decided', async () => {
      const first = bet();
      await call(server, 'POST', '/bets', first);
      clockMs += 10;
      await call(server, 'POST', '/bets', first);
      await call(server, 'POST', '/_sim/faults', { fault: 'partial' });
      await call(server, 'POST', '/bets', bet({ clientRef: 'p', stakeMinor: 999 }));
      const log = await call(server, 'GET', '/_sim/bets');
      assert.equal(log.status, 200);
      assert.deepEqual(log.body.bets, [
        { seq: 1, atMs: 5000, ...withoutCurrency(first), decision: 'accepted', ticketId: 'bk-1', acceptedStakeMinor: 1000, acceptedOddsMilli: 2050 },
        { seq: 2, atMs: 5010, ...withoutCurrency(first), decision: 'duplicate', ticketId: 'bk-1', acceptedStakeMinor: 1000, acceptedOddsMilli: 2050 },
        {
          seq: 3,
          atMs: 5010,
          ...withoutCurrency(bet({ clientRef: 'p', stakeMinor: 999 })),
          decision: 'accepted',
          ticketId: 'bk-2',
          acceptedStakeMinor: 499,
          acceptedOddsMilli: 2050,
          fault: 'partial',
        },
      ]);
    });
  });

  describe('POST /_sim/faults', () => {
    it('hits only the matching account, `count` times, then lets bets through', async () => {
      const added = await call(server, 'POST', '/_sim/faults', { fault: 'reject', match: { accountId: 'acc-2' }, count: 2 });
      assert.equal(added.status, 200);
      await call(server, 'POST', '/bets', bet({ accountId: 'acc-1' }));
      for (let i = 0; i < 3; i++) await call(server, 'POST', '/bets', bet({ accountId: 'acc-2' }));
      assert.deepEqual(decisions(await call(server, 'GET', '/_sim/bets')), ['accepted', 'rejected', 'rejected', 'accepted']);
      assert.deepEqual((await call(server, 'GET', '/_sim/faults')).body.faults, []);
    });

    it('hits only the matching client ref, and takes an array of faults in order', async () => {
      const faults = [
        { fault: 'error_500', match: { clientRef: 'target' } },
        { fault: 'reject', match: { clientRef: 'target' }, params: { reason: 'closed' } },
      ];
      await call(server, 'POST', '/_sim/faults', faults);
      const pending = (await call(server, 'GET', '/_sim/faults')).body.faults as { fault: string; remaining: number }[];
      assert.deepEqual(pending.map((f) => [f.fault, f.remaining]), [['error_500', 1], ['reject', 1]]);
      assert.equal((await call(server, 'POST', '/bets', bet())).status, 200);
      assert.deepEqual(await call(server, 'POST', '/bets', bet({ clientRef: 'target' })), { status: 500, body: { error: 'internal' } });
      const rejected = await call(server, 'POST', '/bets', bet({ clientRef: 'target' }));
      assert.equal(rejected.status, 200);
      assert.deepEqual(rejected.body.bet, { ...betView('bk-2', 'target'), status: 'rejected', reason: 'closed' });
      assert.equal(rejected.body.duplicate, false);
    });

    it('refuses an unknown fault kind with 400 and queues nothing', async () => {
      const answer = await call(server, 'POST', '/_sim/faults', [{ fault: 'reject' }, { fault: 'explode' }]);
      assert.equal(answer.status, 400);
      assert.equal(answer.body.error, 'bad_request');
      assert.deepEqual((await call(server, 'GET', '/_sim/faults')).body.faults, []);
    });
  });

  describe('POST /_sim/settle', () => {
    it('settles by ticket id or client ref, and answers 404 / 409 / 400 otherwise', async () => {
      await call(server, 'POST', '/bets', bet({ clientRef: 'one' }));
      assert.equal((await call(server, 'POST', '/_sim/settle', { ticketId: 'bk-1', result: 'won' })).status, 200);
      assert.equal(((await call(server, 'GET', '/bets/bk-1')).body.bet as { status: string }).status, 'won');
      const byRef = await call(server, 'POST', '/_sim/settle', { clientRef: 'one', result: 'void' });
      assert.equal((byRef.body.bet as { status: string }).status, 'void');
      assert.equal((await call(server, 'POST', '/_sim/settle', { ticketId: 'bk-9', result: 'won' })).status, 404);
      await call(server, 'POST', '/_sim/faults', { fault: 'reject' });
      await call(server, 'POST', '/bets', bet({ clientRef: 'two' }));
      const notAccepted = await call(server, 'POST', '/_sim/settle', { clientRef: 'two', result: 'won' });
      assert.deepEqual(notAccepted, { status: 409, body: { error: 'not_accepted', status: 'rejected' } });
      assert.equal((await call(server, 'POST', '/_sim/settle', { result: 'won' })).status, 400);
      assert.equal((await call(server, 'POST', '/_sim/settle', { ticketId: 'bk-1', result: 'accepted' })).status, 400);
    });
  });

  describe('POST /_sim/reset', () => {
    it('forgets bets, log and faults', async () => {
      await call(server, 'POST', '/bets', bet({ clientRef: 'kept?' }));
      await call(server, 'POST', '/_sim/faults', { fault: 'reject', count: 5 });
      assert.deepEqual(await call(server, 'POST', '/_sim/reset'), { status: 200, body: { ok: true } });
      assert.deepEqual((await call(server, 'GET', '/_sim/bets')).body.bets, []);
      assert.deepEqual((await call(server, 'GET', '/_sim/faults')).body.faults, []);
      assert.deepEqual(await call(server, 'GET', '/bets/by-ref/kept%3F'), { status: 404, body: { error: 'not_found' } });
      const again = await call(server, 'POST', '/bets', bet({ clientRef: 'kept?' }));
      assert.deepEqual(again.body, { bet: { ...betView('bk-1', 'kept?'), acceptedAtMs: 5000 }, duplicate: false });
    });
  });

  describe('POST /bets with bad input', () => {
    const bad: [string, unknown][] = [
      ['decimal odds', bet({ oddsMilli: 2.05 })],
      ['odds at or below 1.000', bet({ oddsMilli: 1000 })],
      ['a fractional stake', bet({ stakeMinor: 10.5 })],
      ['a zero stake', bet({ stakeMinor: 0 })],
      ['an empty client ref', bet({ clientRef: '' })],
      ['a missing account', { ...bet(), accountId: undefined }],
      ['a body that is not JSON', '{"clientRef":'],
    ];
    for (const [what, body] of bad) {
      it(`answers 400 {error, details} for ${what}, and records nothing`, async () => {
        const answer = await call(server, 'POST', '/bets', body);
        assert.equal(answer.status, 400);
        assert.equal(answer.body.error, 'bad_request');
        assert.ok(Array.isArray(answer.body.details) && answer.body.details.length > 0);
        assert.deepEqual((await call(server, 'GET', '/_sim/bets')).body.bets, []);
      });
    }

    it('answers 413 for a body over 64 KiB', async () => {
      const answer = await call(server, 'POST', '/bets', bet({ market: 'x'.repeat(70_000) }));
      assert.equal(answer.status, 413);
    });
  });

  it('answers an unknown route with no_route, not not_found', async () => {
    assert.deepEqual(await call(server, 'GET', '/nope'), { status: 404, body: { error: 'no_route' } });
  });
});

describe('sim server latency and shutdown', () => {
  it('delays bookmaker answers by latencyMs, but not control answers', async () => {
    const latencyMs = 300;
    const server = await startSimServer({ seed: 1, latencyMs });
    try {
      let startedMs = performance.now();
      await call(server, 'POST', '/bets', bet());
      assert.ok(performance.now() - startedMs >= latencyMs - 5, 'placement delayed');
      startedMs = performance.now();
      await call(server, 'GET', '/_sim/bets');
      assert.ok(performance.now() - startedMs < latencyMs - 100, 'control not delayed');
    } finally {
      await server.close();
    }
  });

  it('closes promptly while a request hangs, dropping its connection', async () => {
    const server = await startSimServer({ seed: 1 });
    server.bookmaker.addFault({ fault: 'timeout_after_commit' });
    const hanging = fetch(`${server.url}/bets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(bet()),
    });
    const settled = hanging.then(
      () => 'answered',
      () => 'dropped',
    );
    for (let waitedMs = 0; server.bookmaker.log().length === 0; waitedMs += 5) {
      assert.ok(waitedMs < 2000, 'the placement never reached the bookmaker');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const startedMs = performance.now();
    await server.close();
    assert.ok(performance.now() - startedMs < 5000, 'close() did not wait for the 30 s hang');
    assert.equal(await settled, 'dropped');
  });
});

function withoutCurrency(request: Record<string, unknown>): Record<string, unknown> {
  const { currency: _currency, ...rest } = request;
  return rest;
}

function betView(ticketId: string, clientRef: string): Record<string, unknown> {
  return {
    ticketId,
    clientRef,
    accountId: 'acc-1',
    eventId: 'ev-1',
    market: 'match_winner',
    selection: 'home',
    currency: 'EUR',
    status: 'accepted',
    oddsMilli: 2050,
    stakeMinor: 1000,
  };
}
