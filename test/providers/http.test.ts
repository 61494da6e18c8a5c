// HttpProvider against misbehaving servers: malformed answers, 4xx, bare 404s, dropped and refused connections.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpProvider, networkDetail } from '../../src/providers/http.js';
import type { PlaceRequest } from '../../src/providers/provider.js';
import { startSimServer } from '../../src/sim/server.js';
import { placeRequest } from '../support/requests.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A raw HTTP server whose next answers the test scripts; records the requests it got. */
class ScriptedServer {
  handler: Handler = (_req, res) => res.end();
  readonly seen: { method: string; url: string; body: string }[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        this.seen.push({ method: req.method ?? '', url: req.url ?? '', body });
        this.handler(req, res);
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

function json(status: number, body: unknown): Handler {
  return (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
}

const request: PlaceRequest = placeRequest({ clientRef: 'ref-1' });
const wireBet = { ticketId: 't-1', clientRef: 'ref-1', accountId: 'acc-1', status: 'accepted', oddsMilli: 2050, stakeMinor: 1000 };

describe('HttpProvider', () => {
  const server = new ScriptedServer();
  let provider: HttpProvider;
  before(async () => {
    await server.start();
    provider = new HttpProvider({ name: 'scripted', url: `${server.url}/api/`, requestTimeoutMs: 500 });
  });
  after(async () => {
    await provider.close();
    await server.stop();
  });

  it('posts the request as integer JSON under the url’s path prefix', async () => {
    server.handler = json(200, { bet: wireBet, duplicate: false });
    const outcome = await provider.place({ ...request, extra: 'not sent' } as PlaceRequest);
    assert.equal(outcome.kind, 'accepted');
    const seen = server.seen.at(-1);
    assert.equal(seen?.method, 'POST');
    assert.equal(seen?.url, '/api/bets');
    assert.deepEqual(JSON.parse(seen?.body ?? ''), request);
  });

  it('percent-encodes client refs and tickets in lookup paths', async () => {
    server.handler = json(404, { error: 'not_found' });
    await provider.lookupByClientRef('a/b c');
    assert.equal(server.seen.at(-1)?.url, '/api/bets/by-ref/a%2Fb%20c');
    await provider.status('t/1');
    assert.equal(server.seen.at(-1)?.url, '/api/bets/t%2F1');
  });

  describe('when a placement answer cannot be read', () => {
    const malformed: [string, Handler][] = [
      ['not JSON', (_req, res) => res.end('<html>oops</html>')],
      ['a bet without a ticket', json(200, { bet: { ...wireBet, ticketId: undefined }, duplicate: false })],
      ['odds as a decimal string', json(200, { bet: { ...wireBet, oddsMilli: '2.05' }, duplicate: false })],
      ['an unknown status', json(200, { bet: { ...wireBet, status: 'maybe' }, duplicate: false })],
    ];
    for (const [what, handler] of malformed) {
      it(`treats ${what} as in doubt, and a lookup of it as unavailable`, async () => {
        server.handler = handler;
        assert.deepEqual(await provider.place(request), { kind: 'in_doubt', detail: 'malformed_response' });
        assert.deepEqual(await provider.lookupByClientRef('ref-1'), { kind: 'unavailable', detail: 'malformed_response' });
      });
    }
  });

  it('maps a 4xx on place to rejected with the status and error', async () => {
    server.handler = json(429, { error: 'too_many_requests' });
    assert.deepEqual(await provider.place(request), { kind: 'rejected', reason: 'http_429:too_many_requests' });
    server.handler = (_req, res) => res.writeHead(400).end('nope');
    assert.deepEqual(await provider.place(request), { kind: 'rejected', reason: 'http_400:unknown' });
  });

  it('maps 5xx on place to in doubt and on lookup to unavailable', async () => {
    server.handler = json(503, { error: 'maintenance' });
    assert.deepEqual(await provider.place(request), { kind: 'in_doubt', detail: 'http_503' });
    assert.deepEqual(await provider.status('t-1'), { kind: 'unavailable', detail: 'http_503' });
  });

  it('reads a 404 as not_found only when the bookmaker says not_found', async () => {
    server.handler = json(404, { error: 'not_found' });
    assert.deepEqual(await provider.lookupByClientRef('ref-1'), { kind: 'not_found' });
    server.handler = (_req, res) => res.writeHead(404).end('Cannot GET');
    assert.deepEqual(await provider.lookupByClientRef('ref-1'), { kind: 'unavailable', detail: 'http_404' });
  });

  it('refuses a lookup answer about another bet', async () => {
    server.handler = json(200, { bet: { ...wireBet, clientRef: 'ref-2' } });
    assert.deepEqual(await provider.lookupByClientRef('ref-1'), { kind: 'unavailable', detail: 'mismatched_bet' });
    server.handler = json(200, { bet: wireBet });
    assert.deepEqual(await provider.status('t-2'), { kind: 'unavailable', detail: 'mismatched_bet' });
  });

  it('maps a connection dropped after the request to in doubt (econnreset)', async () => {
    server.handler = (req) => req.socket.destroy();
    assert.deepEqual(await provider.place(request), { kind: 'in_doubt', detail: 'econnreset' });
    assert.deepEqual(await provider.lookupByClientRef('ref-1'), { kind: 'unavailable', detail: 'econnreset' });
  });

  it('times out a call that gets no answer within requestTimeoutMs', async () => {
    server.handler = () => {};
    const startedMs = performance.now();
    assert.deepEqual(await provider.place(request), { kind: 'in_doubt', detail: 'timeout' });
    const elapsedMs = performance.now() - startedMs;
    assert.ok(elapsedMs >= 480 && elapsedMs < 3000, `elapsedMs ${elapsedMs}`);
  });
});

describe('HttpProvider without a server', () => {
  it('maps a refused connection to not sent (placement) / unavailable (lookup)', async () => {
    const sim = await startSimServer({ seed: 1 });
    await sim.close();
    const provider = new HttpProvider({ name: 'gone', url: sim.url, requestTimeoutMs: 500 });
    try {
      // Nothing left this machine: certainly not placed, never "in doubt" for the whole deadline.
      assert.deepEqual(await provider.place(request), { kind: 'not_sent', detail: 'econnrefused' });
      assert.deepEqual(await provider.status('t-1'), { kind: 'unavailable', detail: 'econnrefused' });
    } finally {
      await provider.close();
    }
  });

  it('refuses options out of their limits', () => {
    assert.throws(() => new HttpProvider({ name: 'x', url: 'http://127.0.0.1:1', requestTimeoutMs: 0 }), /requestTimeoutMs \(0\)/);
    assert.throws(() => new HttpProvider({ name: 'x', url: 'http://127.0.0.1:1', connections: 1.5 }), /connections \(1.5\)/);
    assert.throws(() => new HttpProvider({ name: 'x', url: 'ftp://127.0.0.1:1' }), /not http/);
  });

  it('names errors it does not know as network errors', () => {
    assert.equal(networkDetail('boom'), 'network_error');
    assert.equal(networkDetail(Object.assign(new Error('x'), { code: 'EHOSTUNREACH' })), 'ehostunreach');
  });
});

describe('HttpProvider against the simulator', () => {
  it('maps the simulator’s 400 on a bad request to rejected', async () => {
    const sim = await startSimServer({ seed: 1 });
    const provider = new HttpProvider({ name: 'sim', url: sim.url });
    try {
      assert.deepEqual(await provider.place({ ...request, oddsMilli: 1000 }), { kind: 'rejected', reason: 'http_400:bad_request' });
      assert.deepEqual(sim.bookmaker.log(), []);
    } finally {
      await provider.close();
      await sim.close();
    }
  });
});
